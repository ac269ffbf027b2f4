"""`manyskills train`: one LoRA adapter + small heads for all five skills, practical on a 2-core CPU.

Choices, each measured on this machine (see models/README.md):
- LoRA only on the layers just below the feature layer (default 20-23, heads read layer 24): the
  frozen input of the first adapted layer is computed once and cached (it reproduces the full forward
  exactly), so a training step runs 4 of 30 layers instead of 30.
- bf16 autocast on CPUs with native bf16 (about 2x faster per step here), fp32 master weights.
- Short sequences (max_tokens), length-sorted batches for the caching pass.
- Multi-task mixing by temperature sampling over skills (p_k ~ n_k^(1/T)); review (generation) steps
  run the full upper stack + LM head and are the expensive ones, so they get a small share.

The model-free parts live beside this file: the options (config.py), the skill mix and batches
(sampling.py), the learning-rate schedule (schedule.py) and the losses (losses.py).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from manyskills.data.changes import GENERIC_CHANGE_NOTE
from manyskills.model import adapter as adapter_mod
from manyskills.model.adapter import Manifest
from manyskills.model.base import resolve_base
from manyskills.model.batching import batch_plan
from manyskills.model.heads import HeadConfig, SkillHeads
from manyskills.model.layers import decoder, hidden_after, run_to_logits
from manyskills.model.runtime import cpu_supports_bf16, encode_function, review_messages
from manyskills.training import losses, sampling, schedule
from manyskills.training.activation_cache import ActivationStore, key_digest, recipe_fingerprint
from manyskills.training.config import TrainConfig
from manyskills.training.distributed import ProcessGroup
from manyskills.training.examples import SkillData, load_split

log = logging.getLogger(__name__)
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


CACHE_MAX_BATCH = 64  # sequences per forward pass while caching frozen states


@dataclass
class Cached:
    """A sequence's frozen input to the first adapted layer, plus what the heads need."""

    hidden: torch.Tensor  # [T, H] bf16; [T] token ids when the first adapted layer is layer 0
    token_line: list[int]
    n_lines: int
    labels: list[int] | None = None  # review LM targets (-100 = not scored)


class Trainer:
    def __init__(self, config: TrainConfig, progress: Callable[[str], None] = print):
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.config = config
        use_cuda = config.device in ("auto", "cuda") and torch.cuda.is_available()
        self.group = ProcessGroup.from_env(use_cuda)
        self.progress = progress if self.group.is_main else (lambda msg: None)
        torch.manual_seed(config.seed)
        self.rng = random.Random(config.seed)  # data preparation: identical on every replica
        self.batch_rng = self.rng  # train() gives each replica its own
        self._defect_pairs: sampling.DefectPairs | None = None  # the defect pool split into pairs, by kind
        self.device = f"cuda:{self.group.local_rank}" if use_cuda and self.group.distributed else (
            "cuda" if use_cuda else "cpu")
        self.device_type = "cuda" if use_cuda else "cpu"
        if use_cuda:
            torch.cuda.set_device(self.device)
        self.amp_dtype = torch.bfloat16 if (use_cuda or cpu_supports_bf16()) else None
        self.base = resolve_base(config.model, lambda m, f=None: progress(m))
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.base.path), local_files_only=True)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(str(self.base.path), local_files_only=True,
                                                     use_safetensors=True, dtype=torch.float32)
        n_layers = model.config.num_hidden_layers
        init = self._init_adapter_settings(config) if config.init_adapter else None
        self.feature_layer = min(config.feature_layer, n_layers)
        self.lora_layers = [i for i in config.lora_layers if i < self.feature_layer] or [self.feature_layer - 1]
        self.first_layer = min(self.lora_layers)
        # Adapting from layer 0 (the GPU recipe): the only frozen step is the embedding lookup, so keep
        # token ids (4 bytes a token) rather than 576-wide activations (1,152 bytes) and embed per batch.
        self.ids_only = self.first_layer == 0
        self.manifest = Manifest(
            base_name=self.base.name, base_sha256=self.base.sha256, skills=list(adapter_mod.SKILLS),
            feature_layer=self.feature_layer, lora_layers=self.lora_layers, lora_rank=config.lora_rank,
            max_tokens=config.max_tokens, trained=True, version=config.version,
        )
        if init is not None:  # keep what the runtime reads from the adapter it continues (thresholds, prompts)
            self.manifest.thresholds = dict(init.thresholds)
            self.manifest.prompts = dict(init.prompts)
        lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.05,
                          target_modules=LORA_TARGETS, layers_to_transform=self.lora_layers)
        self.model = get_peft_model(model, lora).to(self.device)
        self.inner = decoder(self.model)
        self.heads = SkillHeads(HeadConfig(model.config.hidden_size, self.manifest.head_inner,
                                           self.manifest.embed_dim)).to(self.device)
        if config.init_adapter:
            self._load_init_weights(Path(config.init_adapter))
        lora_params = [p for p in self.model.parameters() if p.requires_grad]
        self.trainable_lora = sum(p.numel() for p in lora_params)
        self.trainable_heads = sum(p.numel() for p in self.heads.parameters())
        self.optimizer = torch.optim.AdamW([
            {"params": lora_params, "lr": config.lr_lora},
            {"params": list(self.heads.parameters()), "lr": config.lr_heads},
        ], weight_decay=0.01)
        self.step = 0
        self.time_budget: float | None = config.time_budget_s  # fixed when training starts (deadline)
        self.cache: dict[tuple, Cached] = {}
        self.stats = {"tokens_cached": 0, "sequences_cached": 0, "sequences_reused": 0, "cache_seconds": 0.0,
                      "train_seconds": 0.0, "sequences_trained": 0, "tokens_trained": 0, "steps_by_skill": {}}
        self.store = None
        if config.activation_cache and not self.ids_only:
            self.store = ActivationStore(Path(config.activation_cache), recipe_fingerprint(
                base=self.base.sha256, first_layer=self.first_layer, max_tokens=config.max_tokens,
                prompts=self.manifest.prompts, amp=str(self.amp_dtype), device=self.device_type))

    def _init_adapter_settings(self, config: TrainConfig) -> Manifest:
        """The adapter to continue must fit this base; its LoRA shape replaces the config's."""
        import json

        directory = Path(config.init_adapter)
        adapter_mod.check_adapter_files(directory)
        manifest = Manifest.load(directory)
        adapter_mod.check_base_matches(manifest, self.base.sha256, self.base.name, directory)
        lora = json.loads((directory / "adapter_config.json").read_text())
        config.lora_rank = int(lora.get("r", manifest.lora_rank))
        config.lora_alpha = int(lora.get("lora_alpha", config.lora_alpha))
        config.lora_layers = list(lora.get("layers_to_transform") or manifest.lora_layers)
        config.feature_layer = manifest.feature_layer
        return manifest

    def _load_init_weights(self, directory: Path) -> None:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        result = set_peft_model_state_dict(self.model, load_file(str(directory / "adapter_model.safetensors")))
        unexpected = [k for k in getattr(result, "unexpected_keys", []) if "lora_" in k]
        # LoRA B starts at zero: all of it still zero means nothing was loaded (a silent fresh start)
        loaded = any(bool(p.detach().abs().sum() > 0) for n, p in self.model.named_parameters() if "lora_B" in n)
        if unexpected or not loaded:
            raise adapter_mod.AdapterError(f"adapter {directory} does not fit this LoRA layout: {unexpected[:3]}")
        self.heads.load_state_dict(load_file(str(directory / adapter_mod.HEADS_FILE)))
        self.heads.to(self.device)

    # ------------------------------------------------------------------ caching the frozen lower layers
    def _autocast(self):
        return torch.autocast(self.device_type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def encode(self, language: str, code: str) -> tuple[list[int], list[int], int]:
        ids, lines, n_lines, _ = encode_function(self.tokenizer, self.manifest, language, code)
        return ids, lines, n_lines

    def encode_query(self, query: str) -> list[int]:
        prompt = self.manifest.prompts["query"]
        return self.tokenizer(prompt + query, add_special_tokens=False)["input_ids"][: self.config.max_tokens]

    def encode_review(self, language: str, code: str, line: int, target: str) -> tuple[list[int], list[int]]:
        messages = review_messages(self.manifest, language, code, line)
        prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        p_ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        t_ids = self.tokenizer(target, add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id]
        ids = p_ids + t_ids
        return ids, [-100] * len(p_ids) + t_ids

    @torch.no_grad()
    def cache_sequences(self, requests: dict[tuple, tuple]) -> None:
        """requests: key -> (ids, token_line, n_lines, labels). Computes missing entries, length-sorted;
        entries already in the on-disk activation store are reused, new ones are added to it."""
        if self.ids_only:
            for key, (seq, token_line, n_lines, labels) in requests.items():
                self.cache.setdefault(key, Cached(torch.tensor(seq, dtype=torch.int32), token_line, n_lines, labels))
            return
        stored = self.store.load() if self.store else {}
        for key, (seq, token_line, n_lines, labels) in requests.items():
            hit = stored.get(key_digest(key))
            if key not in self.cache and hit is not None and hit["hidden"].shape[0] == len(seq):
                self.cache[key] = Cached(hit["hidden"], token_line, n_lines, labels)
                self.stats["sequences_reused"] += 1
        if stored:
            self.progress(f"reused {self.stats['sequences_reused']} cached activations from {self.store.dir}")
        todo = [(k, v) for k, v in requests.items() if k not in self.cache]
        started = time.perf_counter()
        lengths = [len(seq) for _, (seq, *_rest) in todo]
        # the serving batching plan (shortest first), with more rows a pass: caching sequences are short
        for rows in batch_plan(lengths, max_batch=CACHE_MAX_BATCH):
            chunk = [todo[k] for k in rows]
            width = len(chunk[-1][1][0])
            ids = torch.full((len(chunk), width), self.tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, (_, (seq, *_rest)) in enumerate(chunk):
                ids[r, : len(seq)] = torch.tensor(seq)
                mask[r, : len(seq)] = 1
            ids, mask = ids.to(self.device), mask.to(self.device)
            with self._autocast():
                if self.first_layer == 0:
                    hidden = self.inner.embed_tokens(ids)
                else:
                    hidden = hidden_after(self.inner, self.first_layer, mask, input_ids=ids)
            hidden = hidden.to(torch.bfloat16).cpu()
            for r, (key, (seq, token_line, n_lines, labels)) in enumerate(chunk):
                self.cache[key] = Cached(hidden[r, : len(seq)].clone(), token_line, n_lines, labels)
                self.stats["tokens_cached"] += len(seq)
            self.stats["sequences_cached"] += len(chunk)
            if self.stats["sequences_cached"] % 512 < len(chunk):
                rate = self.stats["sequences_cached"] / max(1e-6, time.perf_counter() - started)
                self.progress(f"cached {self.stats['sequences_cached']}/{len(todo)} sequences ({rate:.1f}/s)")
        self.stats["cache_seconds"] += time.perf_counter() - started
        if self.store and todo and self.group.is_main:
            merged = dict(stored)
            merged.update({key_digest(k): {"hidden": c.hidden, "token_line": c.token_line, "n_lines": c.n_lines,
                                           "labels": c.labels} for k, c in self.cache.items()})
            self.store.save(merged)
            self.progress(f"activation cache: {len(merged)} sequences in {self.store.dir}")

    def prepare(self, data: SkillData) -> dict[str, list]:
        """Encode and cache every training sequence; returns the per-skill example lists."""
        requests: dict[tuple, tuple] = {}
        pools: dict[str, list] = {k: [] for k in ("defect", "search", "clone", "flaky", "review")}
        skills = set(self.config.skills)
        if "defect" in skills:
            for item in data.defect:
                ids, lines, n = self.encode(item.language, item.code)
                if item.label and item.bug_line not in set(lines):
                    continue  # bug line truncated away: nothing to point at
                requests[("code", item.language, item.code)] = (ids, lines, n, None)
                pools["defect"].append(item)
        if "search" in skills:
            for item in data.search:
                ids, lines, n = self.encode(item.language, item.code)
                requests[("code", item.language, item.code)] = (ids, lines, n, None)
                requests[("query", item.query)] = (self.encode_query(item.query), [], 1, None)
                pools["search"].append(item)
        if "clone" in skills:
            for item in data.clone:
                if item.label != 1:
                    continue  # in-batch negatives; explicit negatives are used only for evaluation
                for code in (item.code_a, item.code_b):
                    ids, lines, n = self.encode(item.language, code)
                    requests[("code", item.language, code)] = (ids, lines, n, None)
                pools["clone"].append(item)
        if "flaky" in skills:
            for item in data.flaky:
                ids, lines, n = self.encode(item.language, item.code)
                requests[("code", item.language, item.code)] = (ids, lines, n, None)
                pools["flaky"].append(item)
        if "review" in skills:
            candidates = [d for d in pools["defect"] or data.defect
                          if d.label and d.note and d.fix_replacement is not None and "\n" not in d.fix_replacement
                          and d.fix_line == d.bug_line and d.fix_replacement.strip()
                          and not d.note.startswith(GENERIC_CHANGE_NOTE)]  # says nothing a reviewer would
            self.rng.shuffle(candidates)
            for item in candidates[: self.config.review_examples]:
                target = f"{item.note}\nFix: {item.fix_replacement.strip()}"
                ids, labels = self.encode_review(item.language, item.code, item.bug_line, target)
                if len(ids) > self.config.max_tokens * 2:
                    continue
                requests[("review", item.language, item.code, item.bug_line)] = (ids, [], 1, labels)
                pools["review"].append(item)
        self.progress(f"caching {len(requests)} sequences through {self.first_layer} frozen layers")
        if self.group.distributed and self.store:
            # Rank 0 computes and stores the activations once; the other replicas then read them.
            if self.group.is_main:
                self.cache_sequences(requests)
            self.group.barrier()
            if not self.group.is_main:
                self.cache_sequences(requests)
        else:
            self.cache_sequences(requests)
        return pools

    # ------------------------------------------------------------------ forward through the adapted layers
    def _batch(self, cached: list[Cached]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        width = max(c.hidden.shape[0] for c in cached)
        if self.ids_only:
            hidden = torch.full((len(cached), width), self.tokenizer.pad_token_id, dtype=torch.long)
        else:
            hidden = torch.zeros((len(cached), width, cached[0].hidden.shape[1]), dtype=torch.bfloat16)
        mask = torch.zeros((len(cached), width), dtype=torch.long)
        lines = torch.full((len(cached), width), -1, dtype=torch.long)
        for r, c in enumerate(cached):
            t = c.hidden.shape[0]
            hidden[r, :t] = c.hidden
            mask[r, :t] = 1
            if c.token_line:
                lines[r, :t] = torch.tensor(c.token_line)
        n_lines = max(c.n_lines for c in cached)
        self.stats["tokens_trained"] += int(mask.sum())
        self.stats["sequences_trained"] += len(cached)
        hidden = hidden.to(self.device)
        if self.ids_only:
            with torch.no_grad():
                hidden = self.inner.embed_tokens(hidden)
        return hidden, mask.to(self.device), lines.to(self.device), n_lines

    def features(self, cached: list[Cached]):
        hidden, mask, lines, n_lines = self._batch(cached)
        with self._autocast():
            states = hidden_after(self.inner, self.feature_layer, mask, inputs_embeds=hidden.to(
                self.amp_dtype or torch.float32), first_layer=self.first_layer)
        return states.float(), mask.bool(), lines, n_lines

    # ------------------------------------------------------------------ losses
    def defect_loss(self, items) -> torch.Tensor:
        cached = [self.cache[("code", i.language, i.code)] for i in items]
        states, mask, lines, n_lines = self.features(cached)
        out = self.heads(states, mask, lines, n_lines)
        # Ranking: a buggy function must score above its own clean version (same length class).
        return losses.defect_loss(out.line_logits, out.slot_logit, losses.defect_targets(items, n_lines),
                                  losses.buggy_clean_rows(items))

    def flaky_loss(self, items) -> torch.Tensor:
        cached = [self.cache[("code", i.language, i.code)] for i in items]
        states, mask, lines, n_lines = self.features(cached)
        out = self.heads(states, mask, lines, n_lines)
        return losses.flaky_loss(out.flaky_logit, [i.label for i in items])

    def _embed(self, cached: list[Cached]) -> torch.Tensor:
        states, mask, _lines, _n = self.features(cached)
        return self.heads.embed_only(states, mask)

    def search_loss(self, items) -> torch.Tensor:
        queries = self._embed([self.cache[("query", i.query)] for i in items])
        codes = self._embed([self.cache[("code", i.language, i.code)] for i in items])
        return losses.contrastive(queries, codes)

    def clone_loss(self, items) -> torch.Tensor:
        both = self._embed([self.cache[("code", i.language, c)] for i in items for c in (i.code_a, i.code_b)])
        return losses.contrastive(both[0::2], both[1::2])

    def review_loss(self, items) -> torch.Tensor:
        cached = [self.cache[("review", i.language, i.code, i.bug_line)] for i in items]
        hidden, mask, _lines, _n = self._batch(cached)
        labels = torch.full(mask.shape, -100, dtype=torch.long)
        for r, c in enumerate(cached):
            labels[r, : len(c.labels)] = torch.tensor(c.labels)
        with self._autocast():
            logits = run_to_logits(self.model, self.inner, hidden.to(self.amp_dtype or torch.float32), mask,
                                   self.first_layer)
        return losses.review_loss(logits, labels.to(logits.device))

    # ------------------------------------------------------------------ loop
    def skill_weights(self, pools: dict[str, list]) -> dict[str, float]:
        return sampling.skill_weights(pools, self.config.temperature, self.config.review_share)

    def sample(self, skill: str, pool: list) -> list:
        if skill == "defect" and self._defect_pairs is None:
            self._defect_pairs = sampling.DefectPairs.of(pool)
        return sampling.sample(skill, pool, self.config, self.batch_rng, self._defect_pairs)

    def effective_time_budget(self) -> float | None:
        """Seconds training may take, from now: the time budget, cut short by the deadline. Rank 0's
        value, like the clock (see run_clock)."""
        budget = schedule.time_budget(self.config.time_budget_s, self.config.deadline, time.time())
        return None if budget is None else self.group.from_main(budget, self.device)

    def progress_fraction(self, elapsed: float) -> float:
        return schedule.progress_fraction(self.step, self.config.steps, elapsed, self.time_budget)

    def lr_scale(self, elapsed: float = 0.0) -> float:
        return schedule.lr_scale(self.step, self.config.warmup, self.config.steps, self.progress_fraction(elapsed))

    def run_clock(self, started: float) -> float:
        """Seconds since training started. With a time budget, rank 0's clock rules every replica: they
        must stop at the same step and apply the same learning rate, or their updates diverge."""
        elapsed = time.perf_counter() - started
        if not self.time_budget:
            return elapsed
        return self.group.from_main(elapsed, self.device)

    def train(self, pools: dict[str, list]) -> dict:
        self._defect_pairs = None
        # Replicas agree on the skill of each step (so the all-reduce mixes like terms) but draw their own
        # batches; a single process keeps one generator, as before.
        if self.group.distributed:
            skill_rng = random.Random(self.config.seed)
            self.batch_rng = random.Random(self.config.seed * 1_000_003 + self.group.rank + 1)
        else:
            skill_rng = self.batch_rng = self.rng
        trainable = [p for g in self.optimizer.param_groups for p in g["params"]]
        self.group.broadcast_parameters(trainable)
        weights = self.skill_weights(pools)
        skills = sorted(weights)
        self.progress("skill mix: " + ", ".join(f"{k} {weights[k]:.2f}" for k in skills))
        losses: dict[str, list[float]] = {k: [] for k in skills}
        fns = {"defect": self.defect_loss, "flaky": self.flaky_loss, "search": self.search_loss,
               "clone": self.clone_loss, "review": self.review_loss}
        self.model.train()
        self.heads.train()
        self.time_budget = self.effective_time_budget()
        if self.time_budget:
            self.progress(f"training for at most {self.time_budget:.0f} s")
        started = time.perf_counter()
        while self.step < self.config.steps:
            elapsed = self.run_clock(started)
            if self.time_budget and elapsed >= self.time_budget:
                self.stats["stopped_by_time_budget"] = True
                self.progress(f"time budget of {self.time_budget:.0f} s reached at step {self.step}")
                break
            skill = skill_rng.choices(skills, [weights[k] for k in skills])[0]
            for group, base_lr in zip(self.optimizer.param_groups, (self.config.lr_lora, self.config.lr_heads)):
                group["lr"] = base_lr * self.lr_scale(elapsed)
            loss = fns[skill](self.sample(skill, pools[skill]))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.group.average_gradients(trainable)
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            self.optimizer.step()
            losses[skill].append(float(loss.detach()))
            self.stats["steps_by_skill"][skill] = self.stats["steps_by_skill"].get(skill, 0) + 1
            self.step += 1
            if self.step % 20 == 0 or self.step == self.config.steps:
                elapsed = time.perf_counter() - started
                recent = ", ".join(f"{k} {sum(v[-20:]) / max(1, len(v[-20:])):.3f}" for k, v in losses.items() if v)
                self.progress(f"step {self.step}/{self.config.steps} | loss {recent} | "
                              f"{self.stats['sequences_trained'] / max(elapsed, 1e-6):.1f} seq/s")
            if self.config.checkpoint_every and self.step % self.config.checkpoint_every == 0 and self.group.is_main:
                self.save(Path(self.config.out), checkpoint=True)
        self.stats["train_seconds"] += time.perf_counter() - started
        self.stats["replicas"] = self.group.size
        self.stats["replicas_in_sync"] = self.group.replicas_in_sync(trainable)
        if not self.stats["replicas_in_sync"]:
            raise RuntimeError("data-parallel replicas diverged: gradients were not synchronised")
        self.model.eval()
        self.heads.eval()
        return {k: (sum(v[-50:]) / max(1, len(v[-50:]))) for k, v in losses.items()}

    # ------------------------------------------------------------------ saving
    def save(self, out: Path, checkpoint: bool = False, extra: dict | None = None) -> Path:
        from safetensors.torch import save_file

        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(out), safe_serialization=True)
        # PEFT records the base's local directory; a shipped adapter must not carry this machine's paths
        # (the manifest's base_name and base_sha256 are what the runtime checks).
        peft_config = out / "adapter_config.json"
        if peft_config.is_file():
            cfg = json.loads(peft_config.read_text())
            cfg["base_model_name_or_path"] = f"{self.base.name} ({self.base.source})"
            peft_config.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
        save_file({k: v.detach().float().cpu().contiguous() for k, v in self.heads.state_dict().items()},
                  str(out / adapter_mod.HEADS_FILE))
        self.manifest.training = {
            "config": asdict(self.config), "step": self.step, "checkpoint": checkpoint,
            "trainable_parameters": {"lora": self.trainable_lora, "heads": self.trainable_heads},
            "device": self.device, "amp_dtype": str(self.amp_dtype), "stats": self.stats, **(extra or {}),
        }
        (out / adapter_mod.MANIFEST_FILE).write_text(self.manifest.to_json())
        return out


def run_training(config: TrainConfig, progress: Callable[[str], None] = print) -> Path:
    trainer = Trainer(config, progress)
    progress = trainer.progress  # only the main replica reports
    data = load_split(Path(config.dataset), "train", config.limits, config.seed,
                      history=config.real_fix_share is not None)
    progress(f"training data: {data.sizes()}")
    pools = trainer.prepare(data)
    progress("pools: " + ", ".join(f"{k} {len(v)}" for k, v in pools.items()))
    final = trainer.train(pools)
    if not trainer.group.is_main:
        trainer.group.close()
        return Path(config.out)
    out = trainer.save(Path(config.out), extra={"final_losses": final,
                                                "pool_sizes": {k: len(v) for k, v in pools.items()}})
    progress(f"adapter written to {out}")
    trainer.group.close()
    return out
