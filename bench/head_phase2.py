"""Phase 2 on the defect head alone, at the scale issue 18 mined: does the defect skill learn real fixes
when it sees thousands of them, several times each?

The LoRA phase 2 (`manyskills train` from v0.1.0, `real_fix_share` 0.75) saw about a quarter of an epoch
of its real fixes in 1,200 s on this CPU, and its defect loss stalled near ln(lines). Here the adapter's
LoRA stays frozen (anchors lesson 5: spend CPU on data, train a probe on frozen states): the features
the defect head reads (after layer `feature_layer`, the adapter's LoRA applied) are computed once per
function, and only the defect head (`token_bug`, `no_bug`; the shared norm and every other skill's head
stay as shipped) trains, for several epochs, on N real training pairs for each N of `--sizes` (a learning
curve), a quarter of each batch synthetic as in the LoRA phase 2, real pairs balanced so "shorter =
buggier" cannot be learned. Scored after every epoch on the **validation** repositories' commit fixes,
patch-release fixes and synthetic pairs (split by repository; nothing from test projects or QuixBugs),
beside the adapter as shipped and the trivial baselines. The best (size, epoch) by pooled real-fix line
top-1 is written as a complete adapter (the shipped one with the new defect head) for
`bench/valid_defect.py`.

    python bench/head_phase2.py --adapter models/smollm2-135m --train-dataset data-cache/dataset-latest \
        --valid-dataset data-cache/dataset-142 --sizes 1500,3000,6000,12000 --epochs 4 \
        --out data-cache/runs/smollm2-head-p2 --json bench/results/head_phase2.json

Activations of the frozen lower layers come from (and go to) the trainer's on-disk cache, so the real
fixes the LoRA phase 2 already cached cost nothing; they are chosen first.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

from manyskills.model import adapter as adapter_mod
from manyskills.model.batching import batch_plan
from manyskills.stats import auroc
from manyskills.training import losses
from manyskills.training.activation_cache import INDEX_FILE, key_digest
from manyskills.training.baselines import most_operators_line
from manyskills.training.config import TrainConfig
from manyskills.training.examples import COMMIT_FIXES_FILE, HISTORY_FILE, load_split, split_rows
from manyskills.training.metrics import pairwise
from manyskills.training.sets import PairEval, commit_fix_pairs, heldout_pairs, release_fix_pairs
from manyskills.training.trainer import Cached, Trainer

DEFECT_PARAMS = ("token_bug.", "no_bug.")  # the defect skill's own head; `norm` is shared by every skill
MAX_LINES = 60  # as the trainer's load_split


def real_train_pairs(dataset: Path, max_lines: int = MAX_LINES) -> list[PairEval]:
    """Every (buggy, fixed) pair of the training repositories' real fixes (fix commits and patch releases)."""
    pairs = []
    for name in (COMMIT_FIXES_FILE, HISTORY_FILE):
        by_pair: dict[str, dict[int, dict]] = {}
        for row in split_rows(dataset / name, "train"):
            by_pair.setdefault(row["pair_id"], {})[int(row["label"])] = row
        for _, g in sorted(by_pair.items()):
            if 0 in g and 1 in g and g[1]["bug_lines"] and g[1]["code"].count("\n") < max_lines \
                    and g[0]["code"].count("\n") < max_lines:
                pairs.append(PairEval(g[1]["code"], g[0]["code"], g[1]["language"], list(g[1]["bug_lines"])))
    return pairs


def synthetic_train_pairs(dataset: Path, limit: int) -> list[PairEval]:
    """The synthetic pairs the LoRA phase 2 drew (same cap and seed, so their activations are cached)."""
    data = load_split(dataset, "train", {"defect": limit}, 0)
    by_pair: dict[str, dict[int, object]] = {}
    for item in data.defect:
        by_pair.setdefault(item.pair_id, {})[item.label] = item
    return [PairEval(g[1].code, g[0].code, g[1].language, [g[1].bug_line]) for g in by_pair.values()
            if 0 in g and 1 in g and g[1].bug_line >= 0]


def key_of(lang: str, code: str) -> tuple:
    return ("code", lang, code)  # the trainer's cache key of a function


class Features:
    """The trainer's `Cached` entries with layer-`feature_layer` states (bf16, [T, H]) in place of the
    frozen lower layers' output, so its own `_batch` pads them for the heads."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.states: dict[tuple, Cached] = {}

    def add(self, codes: list[tuple[str, str]], log=print) -> None:
        t = self.trainer
        requests = {}
        for lang, code in codes:
            key = key_of(lang, code)
            if key in self.states or key in requests:
                continue
            requests[key] = (*t.encode(lang, code), None)
        log(f"{len(requests)} new sequences: frozen layers (cached where possible)")
        t.cache_sequences(requests)
        keys = list(requests)
        lengths = [len(requests[k][0]) for k in keys]
        started, done = time.time(), 0
        with torch.no_grad():
            for rows in batch_plan(lengths, max_batch=64):
                chunk = [keys[r] for r in rows]
                states, mask, _lines, _n = t.features([t.cache[k] for k in chunk])
                for r, k in enumerate(chunk):
                    lower = t.cache.pop(k)  # the lower-layer input is not needed again
                    self.states[k] = Cached(states[r, : int(mask[r].sum())].to(torch.bfloat16).clone(),
                                            lower.token_line, lower.n_lines)
                done += len(chunk)
                if done % 2048 < len(chunk):
                    log(f"  features {done}/{len(keys)} ({done / (time.time() - started):.1f} seq/s)")

    def batch(self, keys: list[tuple]):
        hidden, mask, token_line, n_lines = self.trainer._batch([self.states[k] for k in keys])
        return hidden, mask.bool(), token_line, n_lines


@torch.no_grad()
def evaluate(heads, feats: Features, pairs: list[PairEval]) -> dict:
    def run(codes):
        scores, tops = [], []
        for s in range(0, len(codes), 32):
            keys = [key_of(lang, c) for lang, c in codes[s: s + 32]]
            out = heads(*feats.batch(keys))
            scores += (torch.logsumexp(out.line_logits, -1) - out.slot_logit).tolist()
            tops += out.line_logits.argmax(-1).tolist()
        return scores, tops
    bs, top = run([(p.language, p.buggy) for p in pairs])
    cs, _ = run([(p.language, p.clean) for p in pairs])
    return {"n": len(pairs), "line_top1": float(np.mean([t in p.bug_lines for p, t in zip(pairs, top)])),
            "pairwise": pairwise(bs, cs), "auroc": float(auroc(bs, cs))}


def baselines(pairs: list[PairEval]) -> dict:
    return {"most_operators_line_top1": float(np.mean([most_operators_line(p.buggy) in p.bug_lines for p in pairs])),
            "length_only_pairwise": pairwise([-len(p.buggy) for p in pairs], [-len(p.clean) for p in pairs])}


def train_head(shipped, feats: Features, real: list[PairEval], synthetic: list[PairEval], epochs: int,
               lr: float, seed: int, evaluate_epoch) -> list[tuple[dict, dict]]:
    """Trains a copy of the shipped heads' defect part; returns (state, validation) after every epoch."""
    heads = copy.deepcopy(shipped)
    for name, p in heads.named_parameters():
        p.requires_grad = name.startswith(DEFECT_PARAMS)
    params = [p for p in heads.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    rng = random.Random(seed)
    shorter = [p for p in real if len(p.buggy) < len(p.clean)]
    other = [p for p in real if len(p.buggy) >= len(p.clean)]
    per_class = min(len(shorter), len(other))
    n_real = 2 * per_class
    n_syn = min(len(synthetic), n_real // 3)  # a quarter of the pairs synthetic, as real_fix_share 0.75
    pairs_per_batch = 8
    steps_per_epoch = (n_real + n_syn) // pairs_per_batch
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(20, total), pct_start=0.1)  # >= 2 warm-up steps
    history = []
    for _epoch in range(epochs):
        chosen = rng.sample(shorter, per_class) + rng.sample(other, per_class) + rng.sample(synthetic, n_syn)
        rng.shuffle(chosen)
        heads.train()
        for s in range(steps_per_epoch):
            group = chosen[s * pairs_per_batch: (s + 1) * pairs_per_batch]
            keys = [key_of(p.language, p.buggy) for p in group] + [key_of(p.language, p.clean) for p in group]
            hidden, mask, token_line, n_lines = feats.batch(keys)
            out = heads(hidden, mask, token_line, n_lines)
            targets = [p.bug_lines[0] for p in group] + [n_lines] * len(group)
            rows = [(i, len(group) + i) for i in range(len(group))]
            loss = losses.defect_loss(out.line_logits, out.slot_logit, targets, rows)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
        heads.eval()
        history.append(({k: v.detach().clone() for k, v in heads.state_dict().items()}, evaluate_epoch(heads)))
    return history


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", default="models/smollm2-135m")
    ap.add_argument("--train-dataset", default="data-cache/dataset")
    ap.add_argument("--valid-dataset", default="data-cache/dataset")
    ap.add_argument("--sizes", default="1500,3000,6000,12000", help="real training pairs, a learning curve")
    ap.add_argument("--synthetic", type=int, default=6000, help="synthetic defect rows (the trainer's cap)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--valid-limit", type=int, default=None, help="pairs per validation set (a quick check)")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--activation-cache", default="data-cache/activations")
    ap.add_argument("--out", required=True, help="where the best head is written, as a complete adapter")
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(","))
    t0 = time.time()

    def log(msg):
        print(f"[{time.time() - t0:6.0f}s] {msg}", flush=True)

    config = TrainConfig(dataset=args.train_dataset, out=args.out, init_adapter=args.adapter, skills=["defect"],
                         max_tokens=args.max_tokens, activation_cache=args.activation_cache, version="head-phase2")
    trainer = Trainer(config, progress=log)
    trainer.model.eval()
    log(f"activation store {trainer.store.dir if trainer.store else None}")

    # validation: the repositories of the validation split only (same sets as bench/valid_defect.py)
    vds = Path(args.valid_dataset)
    valid = {"commit_fixes_valid": commit_fix_pairs(vds, "valid", 10**6, 0),
             "release_fixes_valid": release_fix_pairs(vds, "valid", 2000, 0),
             "synthetic_valid": heldout_pairs(vds, "valid", 600, 0)}
    valid = {k: v[: args.valid_limit] for k, v in valid.items() if v}

    # training: real pairs whose activations are already cached first, then the others, each shuffled
    index_path = trainer.store.dir / INDEX_FILE if trainer.store else None
    cached = set(json.loads(index_path.read_text())["entries"]) if index_path and index_path.is_file() else set()
    tds = Path(args.train_dataset)
    real = [p for p in real_train_pairs(tds)
            if set(p.bug_lines) & set(trainer.encode(p.language, p.buggy)[1])]  # bug line within the budget
    rng = random.Random(0)
    rng.shuffle(real)
    is_cached = [key_digest(key_of(p.language, p.buggy)) in cached and key_digest(key_of(p.language, p.clean)) in cached
                 for p in real]
    real = [p for p, c in zip(real, is_cached) if c] + [p for p, c in zip(real, is_cached) if not c]
    log(f"{len(real)} real training pairs ({sum(is_cached)} cached), using up to {sizes[-1]}")
    real = real[: sizes[-1]]
    synthetic = [p for p in synthetic_train_pairs(tds, args.synthetic)
                 if p.bug_lines[0] in set(trainer.encode(p.language, p.buggy)[1])]
    log(f"{len(synthetic)} synthetic training pairs; validation " + ", ".join(f"{k} {len(v)}" for k, v in valid.items()))

    feats = Features(trainer)
    every = real + synthetic + [p for ps in valid.values() for p in ps]
    feats.add([(p.language, p.buggy) for p in every] + [(p.language, p.clean) for p in every], log)
    log(f"features ready: {len(feats.states)} sequences, "
        f"{sum(c.hidden.numel() for c in feats.states.values()) * 2 / 2**30:.1f} GiB")

    def evaluate_all(heads):
        row = {k: evaluate(heads, feats, v) for k, v in valid.items()}
        real_sets = [k for k in row if k != "synthetic_valid"]
        n = sum(row[k]["n"] for k in real_sets)
        row["real_pooled_line_top1"] = sum(row[k]["line_top1"] * row[k]["n"] for k in real_sets) / max(1, n)
        return row

    shipped = trainer.heads.eval()
    report = {"adapter": args.adapter, "train_dataset": str(tds), "valid_dataset": str(vds),
              "epochs": args.epochs, "lr": args.lr, "max_tokens": args.max_tokens,
              "synthetic_train_pairs": len(synthetic), "baselines": {k: baselines(v) for k, v in valid.items()},
              "shipped": evaluate_all(shipped), "curve": []}
    log("shipped: " + json.dumps(report["shipped"]))
    best = (report["shipped"]["real_pooled_line_top1"], None, None)
    for size in sizes:
        part = real[:size]
        t1 = time.time()
        history = train_head(shipped, feats, part, synthetic, args.epochs, args.lr, 0, evaluate_all)
        for epoch, (state, row) in enumerate(history, 1):
            report["curve"].append({"real_pairs": len(part), "epoch": epoch, **row})
            log(f"N={len(part)} epoch {epoch}: " + json.dumps(row))
            if row["real_pooled_line_top1"] > best[0]:
                best = (row["real_pooled_line_top1"], state, {"real_pairs": len(part), "epoch": epoch})
        report["curve"][-1]["train_seconds"] = time.time() - t1
        Path(args.json).write_text(json.dumps(report, indent=1))
    report["best"] = best[2]
    if best[1] is not None:  # the shipped adapter with the best defect head, for bench/valid_defect.py
        out = Path(args.out)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(args.adapter, out)
        from safetensors.torch import save_file
        save_file({k: v.float().contiguous() for k, v in best[1].items()}, str(out / adapter_mod.HEADS_FILE))
        log(f"best head ({best[2]}) written to {out}")
    Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
