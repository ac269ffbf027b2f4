"""Does the model's own surprisal add to the defect head on real bugs, once its weight is learned?

Anchors lesson 5: token surprisal is a weak feature; learn its weight, do not blend by hand. For every
function of the **validation** repositories' real fixes (both sides), this records what one resident
model gives: the served adapter's defect score and line distribution (`LocalRuntime.analyse`), and the
same model's surprisal (mean negative log-likelihood per token, per function and per line; `naturalness`,
all layers and the LM head). Then, with folds that split by repository (no repository's pairs on both
sides of a fold):

* function score = logistic regression on [logit(defect score), mean NLL, peak line NLL - mean NLL],
  fitted to tell buggy from fixed sides; pairwise (bug above its own fix) and AUROC out of fold;
* line choice = log P(line | head) + a * z(line NLL), a chosen per fold on the training folds; line top-1.

Beside: the head alone, surprisal alone, "shorter = buggier", the most-operators line. QuixBugs is scored
once by the rule fitted on all validation pairs (report only; nothing is chosen on it).

    python bench/surprisal_combo.py --dataset data-cache/dataset-142 --quixbugs ../shared/bench/quixbugs.jsonl \
        --json bench/results/surprisal_combo.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

from manyskills.model.runtime import FunctionInput, LocalRuntime
from manyskills.stats import auroc
from manyskills.training.baselines import most_operators_line, naturalness
from manyskills.training.evaluate import analyse_all
from manyskills.training.examples import COMMIT_FIXES_FILE, HISTORY_FILE, split_rows
from manyskills.training.metrics import pairwise

A_GRID = [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]


def valid_pairs(dataset: Path) -> list[dict]:
    pairs = []
    for name, kind in ((COMMIT_FIXES_FILE, "commit"), (HISTORY_FILE, "release")):
        groups: dict[str, dict[int, dict]] = defaultdict(dict)
        for row in split_rows(dataset / name, "valid"):
            groups[row["pair_id"]][int(row["label"])] = row
        for _, g in sorted(groups.items()):
            if 0 in g and 1 in g and g[1]["bug_lines"]:
                pairs.append({"kind": kind, "project": g[1].get("repository") or g[1]["project"],
                              "language": g[1]["language"], "buggy": g[1]["code"], "clean": g[0]["code"],
                              "bug_lines": list(g[1]["bug_lines"])})
    return pairs


def quixbugs(path: Path) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        r = json.loads(line)
        out.append({"kind": "quixbugs", "project": "QuixBugs", "language": r.get("language", "python").lower(),
                    "buggy": r["buggy"], "clean": r["fixed"], "bug_lines": [n - 1 for n in r["bug_lines"]]})
    return out


def measure(rt: LocalRuntime, pairs: list[dict], log) -> None:
    """Adds to each side: defect score, head line probabilities, mean NLL and NLL per line."""
    for side in ("buggy", "clean"):
        results = analyse_all(rt, [FunctionInput(p["language"], p[side]) for p in pairs])
        for i, (p, r) in enumerate(zip(pairs, results)):
            mean, per_line = naturalness(rt, p["language"], p[side])
            p[side + "_m"] = {"score": r.defect_score, "lines": list(r.line_scores), "nll": mean, "nll_lines": per_line}
            if (i + 1) % 200 == 0:
                log(f"  {side} {i + 1}/{len(pairs)}")


def features(m: dict) -> list[float]:
    s = min(max(m["score"], 1e-6), 1 - 1e-6)
    seen = [x for x in m["nll_lines"] if x >= 0]
    peak = (max(seen) - m["nll"]) if seen else 0.0
    return [float(np.log(s / (1 - s))), m["nll"], peak]


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 500) -> np.ndarray:
    """Plain logistic regression by Newton steps on standardised features (returns weights incl. bias)."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        g = z.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        h = (z * (p * (1 - p))[:, None]).T @ z + l2 * np.eye(len(w))
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return np.r_[w, mu, sd]


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    k = x.shape[1]
    coef, bias, mu, sd = w[:k], w[k], w[k + 1: 2 * k + 1], w[2 * k + 1:]
    return ((x - mu) / sd) @ coef + bias


def line_choice(m: dict, a: float) -> int:
    probs = np.array(m["lines"], dtype=float)
    if not len(probs):
        return 0
    nll = np.array(m["nll_lines"][: len(probs)] + [-1.0] * max(0, len(probs) - len(m["nll_lines"])), dtype=float)
    seen = nll >= 0
    z = np.zeros_like(nll)
    if seen.sum() > 1:
        z[seen] = (nll[seen] - nll[seen].mean()) / (nll[seen].std() + 1e-9)
    return int(np.argmax(np.log(probs + 1e-9) + a * z * seen - 1e9 * (~seen & (probs <= 0))))


def top1(pairs, a):
    return float(np.mean([line_choice(p["buggy_m"], a) in p["bug_lines"] for p in pairs]))


def ranking(pairs, sb, sc) -> dict:
    return {"pairwise": pairwise(list(sb), list(sc)), "auroc": float(auroc(list(sb), list(sc)))}


def evaluate_set(pairs: list[dict], folds: int = 5) -> dict:
    """Out-of-fold (by repository) results of the combined rules, beside the head and surprisal alone."""
    projects = sorted({p["project"] for p in pairs})
    fold_of = {proj: i % folds for i, proj in enumerate(projects)}
    xb = np.array([features(p["buggy_m"]) for p in pairs])
    xc = np.array([features(p["clean_m"]) for p in pairs])
    sb, sc = np.zeros(len(pairs)), np.zeros(len(pairs))
    hits, chosen_a, weights = [], [], []
    for f in range(folds):
        tr = [i for i, p in enumerate(pairs) if fold_of[p["project"]] != f]
        te = [i for i, p in enumerate(pairs) if fold_of[p["project"]] == f]
        if not tr or not te:
            continue
        w = fit_logistic(np.vstack([xb[tr], xc[tr]]), np.r_[np.ones(len(tr)), np.zeros(len(tr))])
        weights.append(w[:4].tolist())
        sb[te], sc[te] = predict(w, xb[te]), predict(w, xc[te])
        a = max(A_GRID, key=lambda a: top1([pairs[i] for i in tr], a))
        chosen_a.append(a)
        hits += [line_choice(pairs[i]["buggy_m"], a) in pairs[i]["bug_lines"] for i in te]
    most_ops = np.mean([most_operators_line(p["buggy"]) in p["bug_lines"] for p in pairs])
    return {
        "n": len(pairs), "repositories": len(projects),
        "head": {"line_top1": top1(pairs, 0.0), **ranking(pairs, xb[:, 0], xc[:, 0])},
        "surprisal": {"line_top1": top1(pairs, 1e6), **ranking(pairs, xb[:, 1], xc[:, 1])},
        "combined_out_of_fold": {"line_top1": float(np.mean(hits)), **ranking(pairs, sb, sc),
                                 "a_per_fold": chosen_a, "weights_per_fold": weights},
        "baselines": {"most_operators_line_top1": float(most_ops),
                      "length_only": ranking(pairs, [-len(p["buggy"]) for p in pairs], [-len(p["clean"]) for p in pairs])},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", default="models/smollm2-135m")
    ap.add_argument("--model", default=None)
    ap.add_argument("--dataset", default="data-cache/dataset")
    ap.add_argument("--quixbugs", default=None)
    ap.add_argument("--limit", type=int, default=None, help="pairs per kind (a quick check)")
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    t0 = time.time()

    def log(msg):
        print(f"[{time.time() - t0:6.0f}s] {msg}", flush=True)

    rt = LocalRuntime.load(args.model, args.adapter, "cpu")
    pairs = valid_pairs(Path(args.dataset))
    if args.limit:
        by = defaultdict(list)
        for p in pairs:
            by[p["kind"]].append(p)
        pairs = [p for v in by.values() for p in v[: args.limit]]
    log(f"{len(pairs)} validation pairs")
    measure(rt, pairs, log)
    report = {"adapter": args.adapter, "dataset": args.dataset, "sets": {}}
    for kind in ("commit", "release"):
        subset = [p for p in pairs if p["kind"] == kind]
        if subset:
            report["sets"][kind] = evaluate_set(subset)
    report["sets"]["pooled"] = evaluate_set(pairs)
    for k, v in report["sets"].items():
        log(f"{k}: " + json.dumps({x: v[x] for x in ("n", "head", "surprisal")}))
        log(f"{k}: combined " + json.dumps(v["combined_out_of_fold"]) + " baselines " + json.dumps(v["baselines"]))
    if args.quixbugs:  # report only: the rule fitted on every validation pair, applied once
        qb = quixbugs(Path(args.quixbugs))
        measure(rt, qb, log)
        xb = np.array([features(p["buggy_m"]) for p in pairs])
        xc = np.array([features(p["clean_m"]) for p in pairs])
        w = fit_logistic(np.vstack([xb, xc]), np.r_[np.ones(len(pairs)), np.zeros(len(pairs))])
        a = max(A_GRID, key=lambda a: top1(pairs, a))
        qxb = np.array([features(p["buggy_m"]) for p in qb])
        qxc = np.array([features(p["clean_m"]) for p in qb])
        report["quixbugs"] = {"n": len(qb), "a": a, "weights": w[:4].tolist(),
                              "head": {"line_top1": top1(qb, 0.0), **ranking(qb, qxb[:, 0], qxc[:, 0])},
                              "surprisal": {"line_top1": top1(qb, 1e6), **ranking(qb, qxb[:, 1], qxc[:, 1])},
                              "combined": {"line_top1": top1(qb, a), **ranking(qb, predict(w, qxb), predict(w, qxc))}}
        log("quixbugs: " + json.dumps(report["quixbugs"]))
    Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
