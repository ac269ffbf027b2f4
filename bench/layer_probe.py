"""Which layer of a frozen base carries the defect signal? Probe-only defect heads per layer, chosen on
validation projects only (issue 17: "choose the feature layer ... on validation").

One forward pass per sequence stores the hidden states after each probed layer; then, for every layer,
the server's own defect head (`SkillHeads`: per-token scores pooled per line + a learned no-bug slot)
is trained on those frozen states with the trainer's loss (cross-entropy over [lines, slot] + a margin
between each buggy function and its own fix) and scored on the validation split:
synthetic mutations and real patch-release fixes. Nothing from test projects or QuixBugs is read.

Real fixes are drawn balanced by whether the buggy side is shorter (as the trainer does), so the probe
cannot learn "shorter = buggier". Trivial baselines on the same validation pairs are printed beside.

    python bench/layer_probe.py --model DIR --layers 8,12,16,20 --json out.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

from manyskills.model.adapter import Manifest
from manyskills.model.heads import HeadConfig, SkillHeads
from manyskills.model.layers import decoder
from manyskills.model.runtime import encode_function
from manyskills.training.metrics import auroc
from manyskills.training.sets import heldout_pairs, release_fix_pairs


class _Stop(Exception):
    pass


def states_by_layer(model, tokenizer, manifest, seqs, layers, batch_tokens=3072):
    """{layer: [T_i x H] bf16 tensors} for every (language, code) in seqs, plus token lines."""
    inner = decoder(model)
    deepest = max(layers)
    encoded = [encode_function(tokenizer, manifest, lang, code) for lang, code in seqs]
    order = sorted(range(len(seqs)), key=lambda i: len(encoded[i][0]))
    out = {layer: [None] * len(seqs) for layer in layers}
    captured = {}
    hooks = []
    for layer in layers:
        def hook(_m, _a, output, layer=layer):
            captured[layer] = output[0] if isinstance(output, tuple) else output
            if layer == deepest:
                raise _Stop
        hooks.append(inner.layers[layer - 1].register_forward_hook(hook))
    started, done, i = time.time(), 0, 0
    try:
        while i < len(order):
            j = i + 1
            while j < len(order) and (j - i + 1) * len(encoded[order[j]][0]) <= batch_tokens and j - i < 64:
                j += 1
            chunk = order[i:j]
            width = len(encoded[chunk[-1]][0])
            ids = torch.full((len(chunk), width), tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, k in enumerate(chunk):
                seq = encoded[k][0]
                ids[r, : len(seq)] = torch.tensor(seq)
                mask[r, : len(seq)] = 1
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
                try:
                    inner(input_ids=ids, attention_mask=mask, use_cache=False)
                except _Stop:
                    pass
            for layer in layers:
                h = captured[layer].to(torch.bfloat16)
                for r, k in enumerate(chunk):
                    out[layer][k] = h[r, : len(encoded[k][0])].clone()
            done += len(chunk)
            i = j
            if done % 256 < len(chunk):
                print(f"  states {done}/{len(seqs)} ({done / (time.time() - started):.1f} seq/s)", flush=True)
    finally:
        for h in hooks:
            h.remove()
    return out, [(e[1], e[2]) for e in encoded]


def batch(states, lines, idx):
    width = max(states[k].shape[0] for k in idx)
    hidden = torch.zeros((len(idx), width, states[idx[0]].shape[1]))
    mask = torch.zeros((len(idx), width), dtype=torch.bool)
    token_line = torch.full((len(idx), width), -1, dtype=torch.long)
    for r, k in enumerate(idx):
        t = states[k].shape[0]
        hidden[r, :t] = states[k].float()
        mask[r, :t] = True
        token_line[r, :t] = torch.tensor(lines[k][0][:t])
    return hidden, mask, token_line, max(lines[k][1] for k in idx)


def train_probe(states, lines, train_pairs, hidden_size, epochs, seed):
    """train_pairs: (buggy index, clean index, bug line). Returns the trained heads."""
    torch.manual_seed(seed)
    heads = SkillHeads(HeadConfig(hidden_size, 256, 256))
    opt = torch.optim.AdamW(heads.parameters(), lr=1e-3, weight_decay=0.01)
    rng = random.Random(seed)
    steps = epochs * max(1, len(train_pairs) // 8)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=steps, pct_start=0.1)
    for _ in range(epochs):
        order = list(train_pairs)
        rng.shuffle(order)
        for s in range(0, len(order) - 7, 8):
            group = order[s: s + 8]
            idx = [b for b, _, _ in group] + [c for _, c, _ in group]
            hidden, mask, token_line, n_lines = batch(states, lines, idx)
            out = heads(hidden, mask, token_line, n_lines)
            logits = torch.cat([out.line_logits, out.slot_logit[:, None]], dim=1)
            target = torch.tensor([bl for _, _, bl in group] + [n_lines] * len(group))
            score = torch.logsumexp(out.line_logits, -1) - out.slot_logit
            loss = F.cross_entropy(logits, target) + 0.5 * F.softplus(
                score[len(group):] - score[: len(group)] + 1.0).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return heads


@torch.no_grad()
def score(heads, states, lines, idx):
    scores, argmax = [], []
    for s in range(0, len(idx), 32):
        part = idx[s: s + 32]
        hidden, mask, token_line, n_lines = batch(states, lines, part)
        out = heads(hidden, mask, token_line, n_lines)
        scores += (torch.logsumexp(out.line_logits, -1) - out.slot_logit).tolist()
        argmax += out.line_logits.argmax(-1).tolist()
    return scores, argmax


def metrics(pairs, buggy_scores, clean_scores, lines_pred):
    top1 = np.mean([pred in p.bug_lines for p, pred in zip(pairs, lines_pred)])
    pairwise = np.mean([(b > c) + 0.5 * (b == c) for b, c in zip(buggy_scores, clean_scores)])
    return {"line_top1": float(top1), "pairwise": float(pairwise), "auroc": float(auroc(buggy_scores, clean_scores))}


def baselines(pairs):
    import re
    ops = re.compile(r"[-+*/%<>=!&|^~]+|\band\b|\bor\b|\bnot\b")
    most_ops = np.mean([max(range(len(p.buggy.split("\n"))), key=lambda i: len(ops.findall(p.buggy.split("\n")[i])))
                        in p.bug_lines for p in pairs])
    length = np.mean([(len(p.buggy) < len(p.clean)) + 0.5 * (len(p.buggy) == len(p.clean)) for p in pairs])
    return {"most_operators_line_top1": float(most_ops), "length_only_pairwise": float(length)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="local directory of a Hugging Face causal LM (safetensors)")
    ap.add_argument("--layers", required=True, help="comma-separated layer counts (states after that many layers)")
    ap.add_argument("--dataset", default="data-cache/dataset")
    ap.add_argument("--train-synthetic", type=int, default=800)
    ap.add_argument("--train-real", type=int, default=800)
    ap.add_argument("--valid-synthetic", type=int, default=300)
    ap.add_argument("--valid-real", type=int, default=400)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(max(1, torch.get_num_threads()))
    tokenizer = AutoTokenizer.from_pretrained(args.model, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(args.model, local_files_only=True, use_safetensors=True,
                                                 dtype=torch.bfloat16).eval()
    layers = [int(x) for x in args.layers.split(",")]
    manifest = Manifest(base_name=Path(args.model).name, base_sha256="", max_tokens=args.max_tokens)
    dataset = Path(args.dataset)

    def usable(pairs):
        keep = []
        for p in pairs:
            _ids, token_line, _n, _t = encode_function(tokenizer, manifest, p.language, p.buggy)
            if set(p.bug_lines) & set(token_line):
                keep.append(p)
        return keep

    rng = random.Random(0)
    syn_train = usable(heldout_pairs(dataset, "train", args.train_synthetic, 0))
    real_all = usable(release_fix_pairs(dataset, "train", 100000, 0))
    shorter = [p for p in real_all if len(p.buggy) < len(p.clean)]
    other = [p for p in real_all if len(p.buggy) >= len(p.clean)]
    half = min(len(shorter), len(other), args.train_real // 2)  # 0 without history.jsonl
    real_train = rng.sample(shorter, half) + rng.sample(other, half)
    sets = {"synthetic_valid": heldout_pairs(dataset, "valid", args.valid_synthetic, 0),
            "release_fixes_valid": release_fix_pairs(dataset, "valid", args.valid_real, 0)}
    sets = {k: v for k, v in sets.items() if v}  # a dataset without history.jsonl has no real-fix set
    train = syn_train + real_train
    every = train + [p for ps in sets.values() for p in ps]
    seqs = [(p.language, p.buggy) for p in every] + [(p.language, p.clean) for p in every]
    n = len(every)
    print(f"{args.model}: {len(syn_train)} synthetic + {len(real_train)} real train pairs, "
          + ", ".join(f"{k} {len(v)}" for k, v in sets.items()) + f"; {len(seqs)} sequences", flush=True)
    t0 = time.time()
    states, lines = states_by_layer(model, tokenizer, manifest, seqs, layers)
    encode_s = time.time() - t0
    hidden_size = model.config.hidden_size
    train_pairs = [(i, n + i, p.bug_lines[0]) for i, p in enumerate(train)]
    report = {"model": args.model, "layers": {}, "encode_seconds": encode_s, "sequences": len(seqs),
              "train_pairs": {"synthetic": len(syn_train), "real": len(real_train)},
              "baselines": {k: baselines(v) for k, v in sets.items()}}
    for layer in layers:
        t1 = time.time()
        heads = train_probe(states[layer], lines, train_pairs, hidden_size, args.epochs, 0)
        row = {}
        offset = len(train)
        for name, pairs in sets.items():
            b_idx = list(range(offset, offset + len(pairs)))
            c_idx = [n + i for i in b_idx]
            bs, arg = score(heads, states[layer], lines, b_idx)
            cs, _ = score(heads, states[layer], lines, c_idx)
            row[name] = metrics(pairs, bs, cs, arg)
            offset += len(pairs)
        row["train_seconds"] = time.time() - t1
        report["layers"][layer] = row
        print(f"layer {layer}: " + " | ".join(
            f"{k} top1 {v['line_top1']:.3f} pairwise {v['pairwise']:.3f} AUROC {v['auroc']:.3f}"
            for k, v in row.items() if isinstance(v, dict)) + f" ({row['train_seconds']:.0f}s)", flush=True)
    print("baselines:", json.dumps(report["baselines"]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
