"""Data-parallel training across processes, for `accelerate launch` / `torchrun` (several GPUs, or CPUs).

Both launchers start one process per device and describe it in the environment (RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR/PORT). Each process holds the full (small) trainable state, draws its own
batches, and gradients are averaged with one all-reduce per step, so every replica applies the same
update. Plain torch.distributed keeps the custom forward (cached activations → adapted layers →
heads) unwrapped; the trainable state is ~1.4 M parameters, so one flat all-reduce per step is cheap.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class ProcessGroup:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @classmethod
    def from_env(cls, use_cuda: bool) -> ProcessGroup:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        if size <= 1:
            return cls()
        group = cls(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
        if not dist.is_initialized():
            # Caching the frozen activations on rank 0 can take an hour on CPUs: wait that long at barriers.
            dist.init_process_group("nccl" if use_cuda else "gloo", timeout=timedelta(hours=6))
        return group

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def broadcast_parameters(self, params: list[torch.Tensor]) -> None:
        """Start every replica from rank 0's initialisation."""
        if self.distributed:
            for p in params:
                dist.broadcast(p.data, src=0)

    def from_main(self, value: float, device: str) -> float:
        """Rank 0's value on every replica (a clock, say, which must not differ between replicas)."""
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=device)
        dist.broadcast(t, src=0)
        return float(t.item())

    def average_gradients(self, params: list[torch.Tensor]) -> None:
        if not self.distributed:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1).float() for g in grads])
        dist.all_reduce(flat)
        flat /= self.size
        offset = 0
        for p, g in zip(params, grads):
            n = g.numel()
            p.grad = flat[offset:offset + n].view_as(g).to(g.dtype)
            offset += n

    def replicas_in_sync(self, params: list[torch.Tensor]) -> bool:
        """True when every replica holds bit-identical trainable parameters."""
        digest = hashlib.sha256()
        for p in params:
            digest.update(p.detach().float().cpu().numpy().tobytes())
        if not self.distributed:
            return True
        digests: list[str | None] = [None] * self.size
        dist.all_gather_object(digests, digest.hexdigest())
        return len(set(digests)) == 1

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()
