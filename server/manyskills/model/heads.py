"""Small task heads that read the shared hidden states of one forward pass.

All classifier skills come from the same states (one pass per function):
- defect: per-token scores pooled per line (logsumexp) plus a learned "no bug" slot, one softmax over
  [lines..., slot] (BugLab-style pointer). P(buggy) = 1 - P(slot); the arg-max line localises it.
  A pooled "is buggy" classifier on causal features stayed at chance in our first experiment; the slot
  formulation learned (see shared notes/training-feasibility.md).
- flaky: a pooled classifier (only reported for functions recognised as tests).
- embedding: a normalised projection of the pooled state, shared by clone detection and code search
  (natural-language queries are embedded by the same pass over the query text).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class HeadConfig:
    hidden_size: int
    inner_size: int = 256
    embed_dim: int = 256


def _mlp(n_in: int, n_inner: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_inner), nn.GELU(), nn.Linear(n_inner, 1))


@dataclass
class HeadOutputs:
    line_logits: torch.Tensor  # [B, L] (-inf for padding lines)
    slot_logit: torch.Tensor  # [B]
    flaky_logit: torch.Tensor  # [B]
    embedding: torch.Tensor  # [B, E], L2-normalised

    @property
    def defect_prob(self) -> torch.Tensor:
        # P(buggy) = 1 - softmax(...)[slot] = sigmoid(logsumexp(lines) - slot)
        return torch.sigmoid(torch.logsumexp(self.line_logits, dim=-1) - self.slot_logit)

    @property
    def line_probs(self) -> torch.Tensor:
        """P(bug on line | buggy), [B, L]."""
        return torch.softmax(self.line_logits, dim=-1)


class SkillHeads(nn.Module):
    def __init__(self, config: HeadConfig):
        super().__init__()
        self.config = config
        h = config.hidden_size
        self.norm = nn.LayerNorm(h)
        self.token_bug = _mlp(h, config.inner_size)
        self.no_bug = _mlp(2 * h, config.inner_size)
        self.flaky = _mlp(2 * h, config.inner_size)
        self.embed = nn.Linear(2 * h, config.embed_dim)

    def pooled(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of valid tokens ⊕ the last valid token (which has seen the whole function)."""
        maskf = mask.to(states.dtype).unsqueeze(-1)
        mean = (states * maskf).sum(1) / maskf.sum(1).clamp(min=1.0)
        last_index = (mask.long().sum(1) - 1).clamp(min=0)
        last = states[torch.arange(states.size(0), device=states.device), last_index]
        return torch.cat([mean, last], dim=-1)

    def forward(self, states: torch.Tensor, mask: torch.Tensor, token_line: torch.Tensor, n_lines: int) -> HeadOutputs:
        """states [B,T,H] from the feature layer; mask [B,T] bool; token_line [B,T] long, the line (0-based,
        within the function) each token belongs to, or -1 for prompt/padding tokens."""
        states = self.norm(states.float())
        pooled = self.pooled(states, mask)
        token_scores = self.token_bug(states).squeeze(-1)  # [B,T]
        line_logits = _logsumexp_by_line(token_scores, token_line, n_lines)
        return HeadOutputs(
            line_logits=line_logits,
            slot_logit=self.no_bug(pooled).squeeze(-1),
            flaky_logit=self.flaky(pooled).squeeze(-1),
            embedding=nn.functional.normalize(self.embed(pooled), dim=-1),
        )

    def embed_only(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        states = self.norm(states.float())
        return nn.functional.normalize(self.embed(self.pooled(states, mask)), dim=-1)


def _logsumexp_by_line(scores: torch.Tensor, token_line: torch.Tensor, n_lines: int) -> torch.Tensor:
    """Pool token scores into line scores with logsumexp; lines without tokens get -inf."""
    batch = scores.size(0)
    valid = token_line >= 0
    index = torch.where(valid, token_line, torch.full_like(token_line, n_lines))  # dump bucket at n_lines
    neg_inf = torch.finfo(scores.dtype).min
    masked_scores = torch.where(valid, scores, torch.full_like(scores, neg_inf))
    line_max = torch.full((batch, n_lines + 1), neg_inf, dtype=scores.dtype, device=scores.device)
    line_max = line_max.scatter_reduce(1, index, masked_scores, reduce="amax", include_self=True)
    shifted = torch.exp(masked_scores - line_max.gather(1, index)) * valid
    sums = torch.zeros_like(line_max).scatter_add(1, index, shifted)
    line_logits = torch.log(sums.clamp(min=1e-30)) + line_max
    has_tokens = sums > 0
    line_logits = torch.where(has_tokens, line_logits, torch.full_like(line_logits, float("-inf")))
    return line_logits[:, :n_lines]
