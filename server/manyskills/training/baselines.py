"""The baselines every skill is reported beside, computed on the same data as the model:

- length-only: "shorter function = buggier" (real fixes mostly add code);
- most-operators line: the line with the most operator characters;
- random line: expected 1/n_lines;
- base zero-shot (naturalness): the untrained base LM's mean token surprisal per line picks the line,
  per function ranks functions ("buggy code is less natural", Ray et al. 2016);
- base prompted zero-shot: the instruction-tuned base asked "does it contain a bug?" and "which line?",
  answers scored rather than sampled (`prompted_zero_shot`);
- base mean-pool embeddings (search, clone) and token-overlap / Jaccard (lexical) baselines.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

import numpy as np
import torch

from manyskills.model.runtime import LocalRuntime
from manyskills.training.metrics import (
    auroc,
    code_lines,
    equal_length_indices,
    line_top1,
    pairwise,
    pairwise_on,
)
from manyskills.training.sets import PairEval

OPERATOR_CHARS = re.compile(r"[-+*/%<>=!&|^~]|\band\b|\bor\b|\bnot\b|\bis\b|\bin\b")


# ---------------------------------------------------------------------------------------------- model-free
def most_operators_line(code: str) -> int:
    lines = code.split("\n")
    counts = [len(OPERATOR_CHARS.findall(line)) if line.strip() else -1 for line in lines]
    return int(np.argmax(counts))


def random_line_top1(pairs: Sequence[PairEval]) -> float:
    """Expected line top-1 of picking a line of the buggy side at random."""
    return float(np.mean([len(set(p.bug_lines)) / code_lines(p.buggy) for p in pairs]))


def length_only(pairs: Sequence[PairEval], equal: Sequence[int], equal_lines: Sequence[int]) -> dict:
    """"Shorter = buggier" scored like the model (AUROC, pairwise, and on the equal-length pairs)."""
    len_b = [-len(p.buggy) for p in pairs]
    len_c = [-len(p.clean) for p in pairs]
    return {"auroc": auroc(len_b, len_c), "pairwise": pairwise(len_b, len_c),
            "pairwise_equal_length": pairwise_on(len_b, len_c, equal),
            "pairwise_equal_line_count": pairwise_on(len_b, len_c, equal_lines)}


# ---------------------------------------------------------------------------------------------- the base model
@torch.inference_mode()
def naturalness(runtime: LocalRuntime, language: str, code: str) -> tuple[float, list[float]]:
    """Base LM surprisal: (mean NLL of the function, mean NLL per line)."""
    from manyskills.model.runtime import encode_function

    ids, token_line, n_lines, _ = encode_function(runtime.tokenizer, runtime.manifest, language, code)
    x = torch.tensor([ids], device=runtime.device)
    logits = runtime.model(input_ids=x).logits[0, :-1].float()
    nll = torch.nn.functional.cross_entropy(logits, x[0, 1:], reduction="none").cpu().numpy()
    per_line = [[] for _ in range(n_lines)]
    for t, line in enumerate(token_line[1:]):
        if line >= 0:
            per_line[line].append(nll[t])
    line_scores = [float(np.mean(v)) if v else -1.0 for v in per_line]
    code_nll = [nll[t] for t, line in enumerate(token_line[1:]) if line >= 0]
    return float(np.mean(code_nll)) if code_nll else 0.0, line_scores


PROMPT_DETECT = ("Does the following {language} function contain a bug?\n```\n{code}\n```\n"
                 "Answer Yes or No.")
PROMPT_LOCATE = ("The following {language} function contains a bug. The lines are numbered.\n```\n{code}\n```\n"
                 "On which line is the bug? Answer with the line number only.")
LOCATE_ANSWER = "The bug is on line "


def _chat_ids(runtime: LocalRuntime, user: str, answer_prefix: str = "") -> torch.Tensor:
    text = runtime.tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                                 add_generation_prompt=True) + answer_prefix
    return torch.tensor([runtime.tokenizer(text, add_special_tokens=False)["input_ids"]], device=runtime.device)


def _single_token(runtime: LocalRuntime, text: str) -> int:
    ids = runtime.tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise ValueError(f"{text!r} is not one token for this tokenizer")
    return ids[0]


@functools.cache
def _cache_argument(model_class: type) -> str:
    """The KV-cache argument's name in this transformers (`cache` since 5.x's rename,
    `past_key_values` before; the old name is deprecated)."""
    import inspect

    return "cache" if "cache" in inspect.signature(model_class.forward).parameters else "past_key_values"


def _with_cache(model, cache) -> dict:
    return {_cache_argument(type(model)): cache, "use_cache": True}


def _cache_of(output):
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


@torch.inference_mode()
def prompted_zero_shot(runtime: LocalRuntime, language: str, code: str) -> tuple[float, list[float]]:
    """The base model asked, as an instruction-tuned chat model, the two questions the defect skill
    answers: (log P(Yes) - log P(No) for "does it contain a bug?", log P(answer = line k) for "which
    line?"). Answers are scored, not sampled, so the baseline is deterministic and gets no credit for
    format errors. Line numbers are digit tokens: P(k) = P(first digit) x P(second digit | first) for
    k >= 10, and P(first digit) x P(no further digit | first) for k < 10 (functions have < 100 lines)."""
    import copy

    lines = code.rstrip("\n").split("\n")[:99]
    out = runtime.model(input_ids=_chat_ids(runtime, PROMPT_DETECT.format(language=language, code=code.rstrip("\n"))))
    logp = torch.log_softmax(out.logits[0, -1].float(), -1)
    detect = float(logp[_single_token(runtime, "Yes")] - logp[_single_token(runtime, "No")])

    numbered = "\n".join(f"{i + 1} | {line}" for i, line in enumerate(lines))
    prompt = _chat_ids(runtime, PROMPT_LOCATE.format(language=language, code=numbered), LOCATE_ANSWER)
    out = runtime.model(input_ids=prompt, use_cache=True)
    digits = [_single_token(runtime, str(d)) for d in range(10)]
    first = torch.log_softmax(out.logits[0, -1].float(), -1)
    line_scores = [float("-inf")] * len(lines)
    for d in range(1, min(9, len(lines)) + 1):
        step = runtime.model(input_ids=torch.tensor([[digits[d]]], device=runtime.device),
                             **_with_cache(runtime.model, copy.deepcopy(_cache_of(out))))
        second = torch.log_softmax(step.logits[0, -1].float(), -1)
        p_digit = torch.logsumexp(second[digits], 0)
        line_scores[d - 1] = float(first[digits[d]] + torch.log1p(-p_digit.exp().clamp(max=1 - 1e-6)))
        for e in range(10):
            k = 10 * d + e
            if k <= len(lines):
                line_scores[k - 1] = float(first[digits[d]] + second[digits[e]])
    return detect, line_scores


ZeroShotScorer = Callable[[LocalRuntime, str, str], tuple[float, list[float]]]


def zero_shot_scores(scorer: ZeroShotScorer, base: LocalRuntime, pairs: list[PairEval]
                     ) -> tuple[list[float], list[float], list[int]]:
    """A zero-shot baseline's function scores for each pair's buggy and clean side, and the line it
    picks in the buggy side."""
    buggy, clean, picked = [], [], []
    for p in pairs:
        score_b, line_scores = scorer(base, p.language, p.buggy)
        buggy.append(score_b)
        clean.append(scorer(base, p.language, p.clean)[0])
        picked.append(int(np.argmax(line_scores)))
    return buggy, clean, picked


def ranking_summary(pairs: list[PairEval], buggy: list[float], clean: list[float], picked: list[int]) -> dict:
    equal = equal_length_indices([p.buggy for p in pairs], [p.clean for p in pairs])
    return {"n": len(pairs), "auroc": auroc(buggy, clean), "pairwise": pairwise(buggy, clean),
            "pairwise_equal_length": pairwise_on(buggy, clean, equal),
            "line_top1": line_top1(picked, [p.bug_lines for p in pairs])}



@torch.inference_mode()
def base_embeddings(runtime: LocalRuntime, texts: list[tuple[str, str]]) -> np.ndarray:
    """Mean-pooled feature-layer states of the base model without heads (zero-shot embedding baseline)."""
    from manyskills.model.runtime import encode_function

    vecs = []
    for prompt_kind, text in texts:
        if prompt_kind == "query":
            ids = runtime.tokenizer(runtime.manifest.prompts["query"] + text, add_special_tokens=False)["input_ids"]
        else:
            ids = encode_function(runtime.tokenizer, runtime.manifest, prompt_kind, text)[0]
        x = torch.tensor([ids[: runtime.manifest.max_tokens]], device=runtime.device)
        h = runtime.feature_states(x, torch.ones_like(x))[0].float().mean(0)
        vecs.append(torch.nn.functional.normalize(h, dim=0).cpu().numpy())
    return np.stack(vecs)
