"""The local runtime: one base model + one adapter + heads, resident in this process.

`AnalysisBackend` is the seam the server and CLI call (through `ModelEngine`). `LocalRuntime` is the
in-process implementation; a remote engine (a shared service, vLLM serving base + LoRA) only has to
implement the same four methods.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from manyskills.model import adapter as adapter_mod
from manyskills.model.adapter import AdapterError, Manifest
from manyskills.model.base import BaseModelError, BaseModelRef, ProgressFn, _noop, resolve_base
from manyskills.model.batching import batch_plan
from manyskills.model.heads import HeadConfig, SkillHeads
from manyskills.model.layers import decoder, hidden_after
from manyskills.model.types import (  # noqa: F401 - re-exported: the backend protocol's data types
    AnalysisBackend,
    FunctionAnalysis,
    FunctionInput,
    ModelIdentity,
    ReviewNote,
)

log = logging.getLogger(__name__)

LIKELIHOOD_MAX_TOKENS = 1024  # the LM sees more of a function than the heads (repairs at any line)
LIKELIHOOD_MAX_BATCH = 4  # rows of full-vocabulary logits per pass stay small
PAD_MULTIPLE = 8  # batch widths in tokens (see `_pad`); ~4 padding tokens per function on average


def cpu_supports_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


def pick_device(setting: str) -> tuple[str, torch.dtype, str | None]:
    """(device, dtype, warning). auto = CUDA bf16 if present, else CPU bf16 when the CPU has native
    bf16 (1.5-6x faster than fp32 here), else CPU fp32."""
    warning = None
    forced = os.environ.get("MANYSKILLS_DTYPE")  # "float32" / "bfloat16": reproducible numbers, benchmarks
    if forced in ("float32", "bfloat16"):
        dtype = getattr(torch, forced)
        return ("cuda" if setting in ("auto", "cuda") and torch.cuda.is_available() else "cpu"), dtype, None
    if setting in ("auto", "cuda") and torch.cuda.is_available():
        return "cuda", torch.bfloat16, None
    if setting == "cuda":
        warning = "device 'cuda' requested but CUDA is not available; using the CPU"
    dtype = torch.bfloat16 if cpu_supports_bf16() else torch.float32
    return "cpu", dtype, warning


class LocalRuntime:
    """Loads once, then answers batches. Not thread-safe by itself: `ModelEngine` owns it on one thread."""

    def __init__(self, base: BaseModelRef, adapter_dir: Path | None, device: str, dtype: torch.dtype,
                 progress: ProgressFn = _noop):
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # never write progress bars near an LSP stdio stream

        self.device = device
        self.dtype = dtype
        self.base = base
        if adapter_dir is not None:
            adapter_mod.check_adapter_files(adapter_dir)
            self.manifest = Manifest.load(adapter_dir)
            adapter_mod.check_base_matches(self.manifest, base.sha256, base.name, adapter_dir, base.registry_name)
        else:
            self.manifest = Manifest(base_name=base.name, base_sha256=base.sha256)
        progress("Loading the base model", 0.6)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(base.path), local_files_only=True,
                                                           trust_remote_code=False)
            model = AutoModelForCausalLM.from_pretrained(
                str(base.path), local_files_only=True, use_safetensors=True, trust_remote_code=False,
                dtype=torch.float32
            )
        except Exception as exc:  # transformers/safetensors raise many types; say what it means
            raise BaseModelError(f"cannot load the model in {base.path} (corrupt or incomplete files?): "
                                 f"{type(exc).__name__}: {exc}") from exc
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if adapter_dir is not None:
            from peft import PeftModel

            progress("Loading the adapter", 0.8)
            # Merged once: one adapter is always on, so serving pays no extra LoRA matmuls.
            model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False).merge_and_unload()
        self.model = model.to(device=device, dtype=dtype).eval()
        hidden = self.model.config.hidden_size
        torch.manual_seed(0)  # untrained heads are still deterministic
        self.heads = SkillHeads(HeadConfig(hidden, self.manifest.head_inner, self.manifest.embed_dim))
        if adapter_dir is not None:
            from safetensors.torch import load_file

            try:
                self.heads.load_state_dict(load_file(str(adapter_dir / adapter_mod.HEADS_FILE)))
            except (RuntimeError, OSError) as exc:
                raise AdapterError(f"adapter heads in {adapter_dir} do not fit this base: {exc}") from exc
        self.heads.to(device=device).eval()
        self._decoder = decoder(self.model)
        self.feature_layer = max(1, min(self.manifest.feature_layer, len(self._decoder.layers)))
        self.identity = ModelIdentity(
            base_name=base.name,
            base_sha256=base.sha256,
            base_source=base.source,
            adapter_path=str(adapter_dir) if adapter_dir else None,
            adapter_version=self.manifest.version,
            adapter_trained=self.manifest.trained,
            device=device,
            dtype=str(dtype).replace("torch.", ""),
        )
        self.forward_passes = 0  # counted for the one-pass-for-all-skills benchmark and tests
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, model_setting: str | None = None, adapter_setting: str | None = None, device_setting: str = "auto",
             progress: ProgressFn = _noop) -> LocalRuntime:
        base = resolve_base(model_setting, progress)
        adapter_dir = adapter_mod.select_adapter(base, adapter_setting, model_setting)
        device, dtype, warning = pick_device(device_setting)
        if warning:
            log.warning(warning)
        return cls(base, adapter_dir, device, dtype, progress)

    # ------------------------------------------------------------------ tokenisation
    def encode_code(self, item: FunctionInput) -> tuple[list[int], list[int], int, bool]:
        return encode_function(self.tokenizer, self.manifest, item.language, item.text)

    def count_tokens(self, item: FunctionInput) -> int:
        return len(self.encode_code(item)[0])

    # ------------------------------------------------------------------ forward
    def feature_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Hidden states after `feature_layer` decoder layers; the layers above and the LM head never run."""
        self.forward_passes += 1
        return hidden_after(self._decoder, self.feature_layer, attention_mask, input_ids=input_ids)

    def _pad(self, rows: list[list[int]], fill: int) -> torch.Tensor:
        # Widths are rounded up to a multiple of PAD_MULTIPLE: every new (batch, width) shape makes
        # oneDNN build and cache kernels for it (hundreds of KB each, kept up to its 1,024-entry
        # cap), and with exact widths each edit that changes a function's length made a new shape:
        # a long session's memory grew with the shapes it had seen. Padding is masked out.
        width = -(-max(len(r) for r in rows) // PAD_MULTIPLE) * PAD_MULTIPLE
        return torch.tensor([r + [fill] * (width - len(r)) for r in rows], dtype=torch.long, device=self.device)

    @torch.inference_mode()
    def analyse(self, batch: Sequence[FunctionInput]) -> list[FunctionAnalysis]:
        if not batch:
            return []
        encoded = [self.encode_code(item) for item in batch]
        ids = self._pad([e[0] for e in encoded], self.tokenizer.pad_token_id)
        lines = self._pad([e[1] for e in encoded], -1)
        mask = self._pad([[1] * len(e[0]) for e in encoded], 0).bool()
        n_lines = max(e[2] for e in encoded)
        with self._lock:
            states = self.feature_states(ids, mask.long())
            out = self.heads(states, mask, lines, n_lines)
        defect = out.defect_prob.float().cpu().numpy()
        line_probs = torch.nan_to_num(out.line_probs.float(), nan=0.0).cpu().numpy()
        flaky = torch.sigmoid(out.flaky_logit.float()).cpu().numpy()
        emb = out.embedding.float().cpu().numpy()
        results = []
        for i, (item, (tok, _tl, lines_i, truncated)) in enumerate(zip(batch, encoded)):
            scores = tuple(float(x) for x in line_probs[i, :lines_i])
            results.append(
                FunctionAnalysis(
                    defect_score=float(defect[i]),
                    line_scores=scores,
                    bug_line=int(np.argmax(scores)) if scores else 0,
                    flaky_score=float(flaky[i]) if item.is_test else None,
                    embedding=emb[i].astype(np.float32),
                    tokens=len(tok),
                    truncated=truncated,
                )
            )
        return results

    @torch.inference_mode()
    def log_likelihood(self, batch: Sequence[FunctionInput], max_tokens: int = LIKELIHOOD_MAX_TOKENS) -> list[float]:
        """The language model's log-probability of each function's code, summed over its tokens (after
        the adapter's code prompt, which is context and not counted). All layers and the LM head run, so
        this costs more than `analyse`; repairs use it to tell a natural edit from an odd one (two texts
        that differ in one line share every other term, so their difference is the edit's)."""
        if not batch:
            return []
        encoded = [encode_function(self.tokenizer, self.manifest, item.language, item.text, max_tokens)
                   for item in batch]
        head = self.model.get_output_embeddings()
        totals = [0.0] * len(batch)
        lengths = [len(e[0]) for e in encoded]
        for rows in batch_plan(lengths, max_batch=LIKELIHOOD_MAX_BATCH):
            ids = self._pad([encoded[i][0] for i in rows], self.tokenizer.pad_token_id)
            mask = self._pad([[1] * lengths[i] for i in rows], 0)
            with self._lock:
                self.forward_passes += 1
                hidden = self._decoder(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
                for r, i in enumerate(rows):
                    # the code tokens after the first: each predicted from what precedes it
                    code = [t for t, line in enumerate(encoded[i][1]) if line >= 0 and t > 0]
                    if not code:
                        continue
                    at = torch.tensor(code, device=self.device)
                    logits = head(hidden[r, at - 1]).float()
                    targets = ids[r, at]
                    totals[i] = float(torch.log_softmax(logits, -1).gather(1, targets[:, None]).sum())
        return totals

    @torch.inference_mode()
    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        prompt = self.manifest.prompts["query"]
        rows = [self.tokenizer(tokenizable(prompt + q), add_special_tokens=False)["input_ids"][: self.manifest.max_tokens] for q in queries]
        ids = self._pad(rows, self.tokenizer.pad_token_id)
        mask = self._pad([[1] * len(r) for r in rows], 0).bool()
        with self._lock:
            states = self.feature_states(ids, mask.long())
            emb = self.heads.embed_only(states, mask)
        return emb.float().cpu().numpy()

    # ------------------------------------------------------------------ generation (on demand only)
    def review_prompt(self, item: FunctionInput, line: int) -> str:
        messages = review_messages(self.manifest, item.language, item.text, line)
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    @torch.inference_mode()
    def review(self, item: FunctionInput, line: int, max_new_tokens: int = 64) -> ReviewNote:
        prompt = self.review_prompt(item, line)
        enc = self.tokenizer(tokenizable(prompt), return_tensors="pt", add_special_tokens=False).to(self.device)
        started = time.perf_counter()
        with self._lock:
            out = self.model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )
        raw = self.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        log.debug("review generated %d chars in %.2fs", len(raw), time.perf_counter() - started)
        lines = item.text.split("\n")
        original = lines[line] if 0 <= line < len(lines) else ""
        return parse_review(raw, original)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def tokenizable(text: str) -> str:
    """`text` with lone surrogates (legal in an editor buffer sent as JSON, not in UTF-8) replaced by
    U+FFFD: the Rust tokenizer rejects them outright. One code point for one keeps offsets valid."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def encode_function(tokenizer, manifest: Manifest, language: str, text: str, limit: int | None = None
                    ) -> tuple[list[int], list[int], int, bool]:
    """Token ids, the function line of each token (-1 for prompt tokens), number of lines, truncated?

    Truncation policy: keep the first `max_tokens` tokens (prompt + signature + start of the body);
    lines past the cut get no defect score and the result is marked truncated. Shared by serving and
    training so both see identical inputs."""
    prompt = manifest.prompts["code"].format(language=language)
    enc = tokenizer(tokenizable(prompt + text), return_offsets_mapping=True, add_special_tokens=False)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    token_line = []
    for start, end in offsets:
        rel = start - len(prompt)
        token_line.append(-1 if rel < 0 or end <= len(prompt) else bisect.bisect_right(line_starts, rel) - 1)
    limit = limit or manifest.max_tokens
    return ids[:limit], token_line[:limit], len(line_starts), len(ids) > limit


def review_messages(manifest: Manifest, language: str, text: str, line: int) -> list[dict]:
    code_lines = text.split("\n")
    marked = "\n".join((">> " if i == line else "   ") + t for i, t in enumerate(code_lines))
    return [
        {"role": "system", "content": manifest.prompts["review_system"]},
        {"role": "user", "content": manifest.prompts["review_user"].format(language=language, code=marked)},
    ]


def parse_review(raw: str, original_line: str) -> ReviewNote:
    """Split generated text into a note and an optional repaired line (indentation of the original kept)."""
    text = raw.strip()
    note_part, _, fix_part = text.partition("Fix:")
    note = " ".join(note_part.replace("```", " ").split())
    if len(note) > 300:
        note = note[:297].rsplit(" ", 1)[0] + "…"
    fixed_line = None
    fix_candidates = [ln for ln in fix_part.strip().strip("`").split("\n") if ln.strip() and not ln.strip().startswith("```")]
    if fix_candidates:
        candidate = fix_candidates[0].strip().strip("`").removeprefix(">>").strip()
        indent = original_line[: len(original_line) - len(original_line.lstrip())]
        if candidate and candidate != original_line.strip():
            fixed_line = indent + candidate
    return ReviewNote(note=note or "The model suspects a defect on this line.", fixed_line=fixed_line, raw=raw)
