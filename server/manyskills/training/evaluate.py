"""`manyskills eval`: per-skill metrics on held-out projects and on real bugs (QuixBugs), each beside
trivial baselines computed on the same data and beside the base model without the adapter.

Baselines:
- length-only: "shorter function = buggier" (real fixes mostly add code);
- most-operators line: the line with the most operator characters;
- random line: expected 1/n_lines;
- base zero-shot (naturalness): the untrained base LM's mean token surprisal per line picks the line,
  per function ranks functions ("buggy code is less natural", Ray et al. 2016);
- base prompted zero-shot: the instruction-tuned base asked "does it contain a bug?" and "which line?",
  answers scored rather than sampled (`prompted_zero_shot`);
- base mean-pool embeddings (search, clone) and token-overlap / Jaccard (lexical) baselines.
Thresholds are never tuned on QuixBugs: the defect threshold comes from the validation split.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from manyskills.model.runtime import FunctionInput, LocalRuntime
from manyskills.training.examples import HISTORY_FILE, load_split, split_rows

log = logging.getLogger(__name__)
OPERATOR_CHARS = re.compile(r"[-+*/%<>=!&|^~]|\band\b|\bor\b|\bnot\b|\bis\b|\bin\b")


@dataclass
class PairEval:
    buggy: str
    clean: str
    language: str
    bug_lines: list[int]


# ---------------------------------------------------------------------------------------------- metrics
def code_lines(code: str) -> int:
    """Lines of a function's text; a final newline ends the last line rather than starting another
    (QuixBugs functions end with one, harvested functions do not: both must count alike)."""
    return code.count("\n") + (0 if code.endswith("\n") else 1)


def auroc(pos: Sequence[float], neg: Sequence[float]) -> float:
    if not pos or not neg:
        return float("nan")
    scores = np.array(list(pos) + list(neg))
    labels = np.array([1] * len(pos) + [0] * len(neg))
    order = scores.argsort()
    ranks = np.empty(len(scores))
    # average ranks for ties
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos_ranks = ranks[labels == 1].sum()
    return float((pos_ranks - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def pairwise(buggy: Sequence[float], clean: Sequence[float]) -> float:
    """P(score(buggy) > score(clean)), ties count half."""
    if not buggy:
        return float("nan")
    wins = sum(1.0 if b > c else 0.5 if b == c else 0.0 for b, c in zip(buggy, clean))
    return wins / len(buggy)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    if len(x) < 3:
        return float("nan")
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def score_logit(p: float) -> float:
    p = min(max(p, 1e-7), 1 - 1e-7)
    return math.log(p / (1 - p))


def length_normalised(results) -> list[float]:
    """The defect logit with the pooling's length term removed. The score pools token scores with
    logsumexp, which grows like log(tokens) for a function of unremarkable tokens, so a longer function
    looks buggier; subtracting log(tokens) turns the sum into a mean (log-mean-exp)."""
    return [score_logit(r.defect_score) - math.log(max(1, r.tokens)) for r in results]


def length_bias(results) -> dict:
    """Spearman correlation of clean functions' scores with their token counts, raw and normalised:
    a detector should not call code suspicious for being long."""
    tokens = [r.tokens for r in results]
    return {"raw": spearman([r.defect_score for r in results], tokens),
            "normalised": spearman(length_normalised(results), tokens)}


def f1(pred: Sequence[bool], gold: Sequence[bool]) -> float:
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    return 2 * tp / max(1, 2 * tp + fp + fn)


def most_operators_line(code: str) -> int:
    lines = code.split("\n")
    counts = [len(OPERATOR_CHARS.findall(line)) if line.strip() else -1 for line in lines]
    return int(np.argmax(counts))


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text.lower()))


def jaccard(a: str, b: str) -> float:
    ta, tb = _tokens(a), _tokens(b)
    return len(ta & tb) / max(1, len(ta | tb))


# ---------------------------------------------------------------------------------------------- model probes
def analyse_all(runtime: LocalRuntime, items: list[FunctionInput], batch: int = 16):
    """Results in input order, computed in length-sorted batches (less padding)."""
    order = sorted(range(len(items)), key=lambda i: len(items[i].text))
    results = [None] * len(items)
    for s in range(0, len(order), batch):
        chunk = order[s:s + batch]
        for i, r in zip(chunk, runtime.analyse([items[i] for i in chunk])):
            results[i] = r
    return results


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
    equal = [i for i, p in enumerate(pairs) if len(p.buggy) == len(p.clean)]
    return {"n": len(pairs), "auroc": auroc(buggy, clean), "pairwise": pairwise(buggy, clean),
            "pairwise_equal_length": pairwise([buggy[i] for i in equal], [clean[i] for i in equal]),
            "line_top1": float(np.mean([k in p.bug_lines for k, p in zip(picked, pairs)]))}


def lowest_threshold(clean_scores: Sequence[float], clean_lines: int, candidates: Sequence[float],
                     max_false_per_kloc: float = 5.0) -> float | None:
    """The lowest candidate threshold whose warnings on clean code stay within the budget per 1,000
    lines (how every detector's threshold is chosen on validation data), or None if none does."""
    for t in sorted(candidates):
        if 1000 * sum(s >= t for s in clean_scores) / max(1, clean_lines) <= max_false_per_kloc:
            return t
    return None


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


def mrr(query_vecs: np.ndarray, code_vecs: np.ndarray) -> float:
    sims = query_vecs @ code_vecs.T
    ranks = (sims > np.diag(sims)[:, None]).sum(1) + 1
    return float(np.mean(1.0 / ranks))


# ---------------------------------------------------------------------------------------------- defect
def defect_metrics(runtime: LocalRuntime, pairs: list[PairEval], threshold: float, base: LocalRuntime | None,
                   base_limit: int = 200) -> dict:
    buggy_items = [FunctionInput(p.language, p.buggy) for p in pairs]
    clean_items = [FunctionInput(p.language, p.clean) for p in pairs]
    metrics = defect_metrics_of(pairs, analyse_all(runtime, buggy_items), analyse_all(runtime, clean_items), threshold)
    if base is not None:
        subset = pairs[:base_limit]
        baselines = metrics["baselines"]
        baselines["base_zero_shot_naturalness"] = ranking_summary(subset, *zero_shot_scores(naturalness, base, subset))
        baselines["base_prompted_zero_shot"] = ranking_summary(subset, *zero_shot_scores(prompted_zero_shot, base,
                                                                                         subset))
        ub = analyse_all(base, buggy_items[:base_limit])
        uc = analyse_all(base, clean_items[:base_limit])
        baselines["untrained_adapter"] = {
            "pairwise": pairwise([r.defect_score for r in ub], [r.defect_score for r in uc]),
            "line_top1": float(np.mean([r.bug_line in p.bug_lines for r, p in zip(ub, subset)])),
        }
    return metrics


def defect_metrics_of(pairs: list[PairEval], rb: list, rc: list, threshold: float) -> dict:
    """The defect metrics and trivial baselines, from each pair's analysed buggy (rb) and clean (rc) side."""
    sb = [r.defect_score for r in rb]
    sc = [r.defect_score for r in rc]
    # "Equal length" = the same number of characters, where the length-only rule can only tie (0.5).
    equal = [i for i, p in enumerate(pairs) if len(p.buggy) == len(p.clean)]
    equal_lines = [i for i, p in enumerate(pairs) if code_lines(p.buggy) == code_lines(p.clean)]
    top1 = [rb[i].bug_line in p.bug_lines for i, p in enumerate(pairs)]
    lines_total = sum(code_lines(p.clean) for p in pairs)
    len_b = [-len(p.buggy) for p in pairs]
    len_c = [-len(p.clean) for p in pairs]
    nb, nc = length_normalised(rb), length_normalised(rc)
    metrics = {
        "pairs": len(pairs),
        "equal_length_pairs": len(equal),
        "auroc": auroc(sb, sc),
        "accuracy": (sum(s >= threshold for s in sb) + sum(s < threshold for s in sc)) / (2 * len(pairs)),
        "pairwise": pairwise(sb, sc),
        "pairwise_equal_length": pairwise([sb[i] for i in equal], [sc[i] for i in equal]),
        "equal_line_count_pairs": len(equal_lines),
        "pairwise_equal_line_count": pairwise([sb[i] for i in equal_lines], [sc[i] for i in equal_lines]),
        "line_top1": float(np.mean(top1)),
        "detection_rate": float(np.mean([s >= threshold for s in sb])),
        "false_warnings_per_kloc": 1000 * sum(s >= threshold for s in sc) / max(1, lines_total),
        "threshold": threshold,
        "clean_length_bias_spearman": length_bias(rc),
        "length_normalised_score": {"auroc": auroc(nb, nc), "pairwise": pairwise(nb, nc),
                                    "pairwise_equal_length": pairwise([nb[i] for i in equal], [nc[i] for i in equal])},
        "baselines": {
            "length_only": {"auroc": auroc(len_b, len_c), "pairwise": pairwise(len_b, len_c),
                            "pairwise_equal_length": pairwise([len_b[i] for i in equal], [len_c[i] for i in equal]),
                            "pairwise_equal_line_count": pairwise([len_b[i] for i in equal_lines],
                                                                  [len_c[i] for i in equal_lines])},
            "most_operators_line_top1": float(np.mean([most_operators_line(p.buggy) in p.bug_lines for p in pairs])),
            "random_line_top1": float(np.mean([len(set(p.bug_lines)) / code_lines(p.buggy) for p in pairs])),
        },
    }
    return metrics


def heldout_pairs(dataset: Path, split: str, limit: int, seed: int) -> list[PairEval]:
    data = load_split(dataset, split, None, seed)
    by_pair: dict[str, dict[int, object]] = {}
    for item in data.defect:
        by_pair.setdefault(item.pair_id, {})[item.label] = item
    pairs = [PairEval(g[1].code, g[0].code, g[1].language, [g[1].bug_line]) for g in by_pair.values()
             if 0 in g and 1 in g and g[1].bug_line >= 0]
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def release_fix_pairs(dataset: Path, split: str, limit: int, seed: int) -> list[PairEval]:
    """(buggy, fixed) pairs of real patch-release fixes (`history.jsonl`) of one split's projects."""
    by_pair: dict[str, dict[int, dict]] = {}
    for row in split_rows(dataset / HISTORY_FILE, split):
        by_pair.setdefault(row["pair_id"], {})[int(row["label"])] = row
    pairs = [PairEval(g[1]["code"], g[0]["code"], g[1]["language"], list(g[1]["bug_lines"]))
             for _, g in sorted(by_pair.items()) if 0 in g and 1 in g and g[1]["bug_lines"]]
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def quixbugs_pairs(path: Path) -> list[PairEval]:
    pairs = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        pairs.append(PairEval(row["buggy"], row["fixed"], row.get("language", "python").lower(),
                              [n - 1 for n in row["bug_lines"]]))
    return pairs


def tune_threshold(runtime: LocalRuntime, pairs: list[PairEval], max_false_per_kloc: float = 5.0,
                   report: dict | None = None) -> float:
    """Lowest threshold whose false warnings on clean validation code stay under the budget; `report`
    receives the validation length-bias diagnostic."""
    clean = analyse_all(runtime, [FunctionInput(p.language, p.clean) for p in pairs])
    if report is not None:
        report["defect_validation"] = {"clean_functions": len(clean), "length_bias_spearman": length_bias(clean)}
    found = lowest_threshold([r.defect_score for r in clean], sum(code_lines(p.clean) for p in pairs),
                             [x / 100 for x in range(5, 100)], max_false_per_kloc)
    return 0.99 if found is None else found


# ---------------------------------------------------------------------------------------------- other skills
def search_metrics(runtime: LocalRuntime, dataset: Path, limit: int, seed: int, base: LocalRuntime | None) -> dict:
    items = load_split(dataset, "test", {"search": limit}, seed).search
    if not items:
        return {}
    q = runtime.embed_queries([i.query for i in items])
    c = np.stack([r.embedding for r in analyse_all(runtime, [FunctionInput(i.language, i.code) for i in items])])
    overlap = np.array([[jaccard(a.query, b.code) for b in items] for a in items])
    ranks = (overlap > np.diag(overlap)[:, None]).sum(1) + 1
    out = {"n": len(items), "mrr": mrr(q, c), "baselines": {"token_overlap_mrr": float(np.mean(1.0 / ranks))}}
    if base is not None:
        bq = base_embeddings(base, [("query", i.query) for i in items])
        bc = base_embeddings(base, [(i.language, i.code) for i in items])
        out["baselines"]["base_mean_pool_mrr"] = mrr(bq, bc)
    return out


def hard_negative_pairs(pairs: list) -> list:
    """For each clone pair (a, b), a non-clone (a, c): c is the clone-side code of another function of the
    same language that shares the most tokens with a. Random negatives are separated by token overlap
    alone (Jaccard F1 0.998 on our test split); these are not."""
    from manyskills.training.examples import CloneItem

    positives = [p for p in pairs if p.label == 1]
    tokens = [(_tokens(p.code_a), _tokens(p.code_b)) for p in positives]
    out = []
    for i, p in enumerate(positives):
        best, best_sim = None, -1.0
        for j, q in enumerate(positives):
            if j == i or q.language != p.language or q.code_b == p.code_b:
                continue
            a, c = tokens[i][0], tokens[j][1]
            sim = len(a & c) / max(1, len(a | c))
            if sim > best_sim:
                best, best_sim = q, sim
        if best is not None:
            out.append(CloneItem(p.language, p.code_a, best.code_b, 0, p.project))
    return out


def clone_metrics(runtime: LocalRuntime, dataset: Path, limit: int, seed: int, base: LocalRuntime | None) -> dict:
    """F1 with a threshold tuned on validation, on the dataset's pairs (random negatives) and on the same
    positives with hard (lexically nearest) negatives; beside token Jaccard and base mean-pool embeddings."""
    valid = load_split(dataset, "valid", {"clone": limit}, seed).clone
    test = load_split(dataset, "test", {"clone": limit}, seed).clone
    if not test:
        return {}
    codes = sorted({(p.language, c) for p in valid + test for c in (p.code_a, p.code_b)})
    model_vecs = dict(zip(codes, (r.embedding for r in analyse_all(runtime, [FunctionInput(*c) for c in codes]))))
    base_vecs = dict(zip(codes, base_embeddings(base, codes))) if base is not None else {}
    scorers = {"model": lambda p: float(model_vecs[(p.language, p.code_a)] @ model_vecs[(p.language, p.code_b)]),
               "token_jaccard": lambda p: jaccard(p.code_a, p.code_b)}
    if base_vecs:
        scorers["base_mean_pool"] = lambda p: float(base_vecs[(p.language, p.code_a)] @ base_vecs[(p.language,
                                                                                                   p.code_b)])

    def best_threshold(scores, pairs):
        grid = sorted(set(round(s, 3) for s in scores))
        return max(grid, key=lambda t: f1([s >= t for s in scores], [p.label == 1 for p in pairs])) if grid else 0.5

    def score_set(valid_pairs, test_pairs) -> dict:
        gold = [p.label == 1 for p in test_pairs]
        result = {}
        for name, score in scorers.items():
            vs, ts = [score(p) for p in valid_pairs], [score(p) for p in test_pairs]
            t = best_threshold(vs, valid_pairs) if valid_pairs else 0.9
            result[name] = {"f1": f1([x >= t for x in ts], gold), "threshold": t,
                            "auroc": auroc([x for x, g in zip(ts, gold) if g], [x for x, g in zip(ts, gold) if not g])}
        return result

    def positives(pairs):
        return [p for p in pairs if p.label == 1]

    standard = score_set(valid, test)
    hard = score_set(positives(valid) + hard_negative_pairs(valid), positives(test) + hard_negative_pairs(test))
    return {"n": len(test), "f1": standard["model"]["f1"], "threshold": standard["model"]["threshold"],
            "auroc": standard["model"]["auroc"],
            "baselines": {f"{k}_f1": v["f1"] for k, v in standard.items() if k != "model"},
            "hard_negatives": {"n": len(positives(test)) * 2, "f1": hard["model"]["f1"], "auroc": hard["model"]["auroc"],
                               "baselines": {f"{k}_f1": v["f1"] for k, v in hard.items() if k != "model"}}}


def flaky_metrics(runtime: LocalRuntime, dataset: Path, limit: int, seed: int) -> dict:
    items = load_split(dataset, "test", {"flaky": limit}, seed).flaky
    if not items:
        return {}
    res = analyse_all(runtime, [FunctionInput(i.language, i.code, True) for i in items])
    gold = [i.label == 1 for i in items]
    return {"n": len(items), "f1": f1([r.flaky_score >= 0.5 for r in res], gold),
            "auroc": auroc([r.flaky_score for r, g in zip(res, gold) if g],
                           [r.flaky_score for r, g in zip(res, gold) if not g]),
            "baselines": {"always_flaky_f1": f1([True] * len(items), gold)},
            "note": "labels are weak (root-cause patterns), so this measures agreement with those rules"}


def repair_metrics(runtime: LocalRuntime, dataset: Path, limit: int, seed: int) -> dict:
    data = load_split(dataset, "test", None, seed)
    candidates = [d for d in data.defect if d.label and d.fix_replacement and "\n" not in d.fix_replacement
                  and d.fix_line == d.bug_line]
    random.Random(seed).shuffle(candidates)
    exact = []
    for d in candidates[:limit]:
        note = runtime.review(FunctionInput(d.language, d.code), d.bug_line)
        exact.append(bool(note.fixed_line) and note.fixed_line.strip() == d.fix_replacement.strip())
    return {"n": len(exact), "exact_match": float(np.mean(exact)) if exact else float("nan")}


# ---------------------------------------------------------------------------------------------- driver
def evaluate(adapter: str | None, dataset: str, quixbugs: str | None, model: str | None = None,
             limits: dict | None = None, seed: int = 0, with_baselines: bool = True, device: str = "auto",
             skills: Sequence[str] | None = None) -> dict:
    """Every skill's metrics, or only `skills` (single-task adapters are evaluated on their own skill)."""
    limits = {"defect": 1000, "search": 500, "clone": 600, "flaky": 600, "repair": 30, "base": 200, "release_fix": 1000,
              **(limits or {})}
    wanted = set(skills or ("defect", "search", "clone", "flaky", "repair"))
    started = time.perf_counter()
    runtime = LocalRuntime.load(model, adapter, device)
    base = LocalRuntime(runtime.base, None, runtime.device, runtime.dtype) if with_baselines else None
    ds = Path(dataset)
    report: dict = {"adapter": runtime.identity.adapter_path, "adapter_version": runtime.identity.adapter_version,
                    "device": runtime.identity.device, "dtype": runtime.identity.dtype, "seed": seed,
                    "max_tokens": runtime.manifest.max_tokens}
    if "defect" in wanted:
        valid = heldout_pairs(ds, "valid", limits["defect"], seed)
        threshold = (tune_threshold(runtime, valid, report=report) if valid
                     else runtime.manifest.thresholds.get("defect", 0.5))
        report["defect_threshold_from_validation"] = threshold
        test = heldout_pairs(ds, "test", limits["defect"], seed)
        if test:
            report["defect_heldout"] = defect_metrics(runtime, test, threshold, base, limits["base"])
        # Real fixes from patch releases: the validation projects' pairs are for choosing between
        # adapters (never QuixBugs or the test projects); the test projects' pairs are the report.
        fixes_valid = release_fix_pairs(ds, "valid", limits["release_fix"], seed)
        if fixes_valid:
            report["defect_release_fixes_valid"] = defect_metrics(runtime, fixes_valid, threshold, None)
        fixes = release_fix_pairs(ds, "test", limits["release_fix"], seed)
        if fixes:
            report["defect_release_fixes"] = defect_metrics(runtime, fixes, threshold, base, limits["base"])
        if quixbugs and Path(quixbugs).is_file():
            qb = quixbugs_pairs(Path(quixbugs))
            report["defect_quixbugs"] = defect_metrics(runtime, qb, threshold, base, len(qb))
            for lang in sorted({p.language for p in qb}):
                sub = [p for p in qb if p.language == lang]
                report[f"defect_quixbugs_{lang}"] = defect_metrics(runtime, sub, threshold, None)
    if "search" in wanted:
        report["search"] = search_metrics(runtime, ds, limits["search"], seed, base)
    if "clone" in wanted:
        report["clone"] = clone_metrics(runtime, ds, limits["clone"], seed, base)
    if "flaky" in wanted:
        report["flaky"] = flaky_metrics(runtime, ds, limits["flaky"], seed)
    if "repair" in wanted and limits["repair"]:
        report["repair"] = repair_metrics(runtime, ds, limits["repair"], seed)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def format_table(report: dict) -> str:
    rows = []

    def fmt(x):
        return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"

    validation = report.get("defect_validation")
    if validation:
        bias = validation["length_bias_spearman"]
        rows.append(f"defect_validation (clean n={validation['clean_functions']}): score~length Spearman raw "
                    f"{fmt(bias['raw'])} normalised {fmt(bias['normalised'])}")
    for key in [k for k in report if k.startswith("defect_") and k != "defect_validation"]:
        m = report[key]
        if not isinstance(m, dict):
            continue
        b = m["baselines"]
        nat = b.get("base_zero_shot_naturalness", {})
        ask = b.get("base_prompted_zero_shot", {})
        rows.append(f"{key} (n={m['pairs']}, equal-length (chars) {m['equal_length_pairs']})")
        rows.append(f"  line top-1        {fmt(m['line_top1'])}  | most-operators {fmt(b['most_operators_line_top1'])}"
                    f"  random {fmt(b['random_line_top1'])}  base naturalness {fmt(nat.get('line_top1'))}"
                    f"  base prompted {fmt(ask.get('line_top1'))}")
        rows.append(f"  pairwise          {fmt(m['pairwise'])}  | length-only {fmt(b['length_only']['pairwise'])}"
                    f"  base naturalness {fmt(nat.get('pairwise'))}  base prompted {fmt(ask.get('pairwise'))}")
        rows.append(f"  pairwise eq-len   {fmt(m['pairwise_equal_length'])}  | length-only "
                    f"{fmt(b['length_only']['pairwise_equal_length'])}  base naturalness "
                    f"{fmt(nat.get('pairwise_equal_length'))}  base prompted {fmt(ask.get('pairwise_equal_length'))}")
        rows.append(f"  pairwise eq-lines {fmt(m['pairwise_equal_line_count'])}  | length-only "
                    f"{fmt(b['length_only']['pairwise_equal_line_count'])}  (n={m['equal_line_count_pairs']})")
        rows.append(f"  AUROC             {fmt(m['auroc'])}  | length-only {fmt(b['length_only']['auroc'])}"
                    f"  base naturalness {fmt(nat.get('auroc'))}  base prompted {fmt(ask.get('auroc'))}")
        rows.append(f"  detection@{m['threshold']:.2f}    {fmt(m['detection_rate'])}  | false warnings/kLOC "
                    f"{m['false_warnings_per_kloc']:.1f}")
        norm, bias = m.get("length_normalised_score"), m.get("clean_length_bias_spearman")
        if norm and bias:
            rows.append(f"  length-normalised score: pairwise {fmt(norm['pairwise'])}  eq-len "
                        f"{fmt(norm['pairwise_equal_length'])}  AUROC {fmt(norm['auroc'])} | clean score~length "
                        f"Spearman raw {fmt(bias['raw'])} normalised {fmt(bias['normalised'])}")
    for skill, metric in (("search", "mrr"), ("clone", "f1"), ("flaky", "f1")):
        m = report.get(skill) or {}
        if m:
            rows.append(f"{skill} (n={m['n']}): {metric} {fmt(m[metric])} | "
                        + "  ".join(f"{k} {fmt(v)}" for k, v in m["baselines"].items()))
    hard = (report.get("clone") or {}).get("hard_negatives")
    if hard:
        rows.append(f"clone, hard negatives (n={hard['n']}): f1 {fmt(hard['f1'])} | "
                    + "  ".join(f"{k} {fmt(v)}" for k, v in hard["baselines"].items()))
    if report.get("repair"):
        rows.append(f"repair exact match (n={report['repair']['n']}): {fmt(report['repair']['exact_match'])}")
    return "\n".join(rows)
