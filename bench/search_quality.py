"""Code search quality on held-out projects: BM25 alone, the embedding alone, and the hybrid ranking
`manyskills.search` uses (analysis/search_rank.py), as MRR and recall@10 in one table.

Pairs: the first sentence of a function's docstring is the query, the function without its docstring
the target; every target of the split is a candidate for every query. From `--dataset DIR`
(search.jsonl with `split`), else built from installed Python packages that are not training sources:
validation projects (`--valid`, used only by `--tune` to choose the fusion) and test projects
(`--test`: neither training sources nor projects reserved in data/denylist.py, never used for a choice).
Embeddings come from the same runtime calls as the server's (`analyse` for code, `embed_queries` for
the query) and are cached per model identity in the temp directory.

    python bench/search_quality.py --json bench/results/search_quality.json
    python bench/search_quality.py --tune          # the validation grid behind search_rank's constants
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import _common  # also puts this checkout's server/ first on sys.path
import numpy as np
from _common import machine_info, machine_line, write_json
from manyskills.analysis.search_rank import Fusion, TokenCache, hybrid_order, lexical_order

SITE = Path(np.__file__).resolve().parent.parent
VALID_DEFAULT = "cattrs,pygls,uvicorn,pydantic"  # permissive, not in data/sources.json, not reserved
TEST_DEFAULT = "starlette,hypothesis,aiohttp,huggingface_hub"  # permissive, not in training, not reserved


@dataclass(frozen=True)
class Pair:
    project: str
    name: str
    query: str
    code: str


# ---------------------------------------------------------------------------------------------- pairs
SECTION = re.compile(r"^\s*([-=~]{3,}|(Args|Arguments|Params|Parameters|Returns|Yields|Raises|Examples?|Notes?)\s*:?\s*$)",
                     re.MULTILINE)


def first_sentence(doc: str) -> str:
    """The docstring's summary sentence, or "" when it opens with a section (numpydoc "Parameters")."""
    paragraph = doc.strip().split("\n\n")[0]
    if SECTION.search(paragraph):
        return ""
    text = " ".join(paragraph.split())
    match = re.search(r"(?<=[.!?])\s", text)
    return (text[: match.start()] if match else text).strip()


def check_held_out(projects: list[str]) -> None:
    """Refuses any project that is a training source (data/sources.json, the history corpus of
    data/history_repos.json), under any packaging name, and any
    project reserved for the independent evaluation (data/denylist.py): those are never read here."""
    from manyskills.data.denylist import is_denied, normalize_name

    reserved = sorted(p for p in projects if is_denied(p))
    if reserved:
        raise SystemExit(f"{', '.join(reserved)}: reserved for evaluation (data/denylist.py), never read")

    sources = json.loads((_common.ROOT / "server/manyskills/data/sources.json").read_text())["sources"]
    trained = {normalize_name(source["name"]) for source in sources}
    # the commit-mined history corpus is a training source too (its fixes train the shared LoRA)
    history = json.loads((_common.ROOT / "server/manyskills/data/history_repos.json").read_text())["repos"]
    trained |= {normalize_name(entry["repo"].rsplit("/", 1)[-1]) for entry in history}
    used = sorted(p for p in projects if normalize_name(p) in trained)
    if used:
        raise SystemExit(f"{', '.join(used)}: training sources, not held out")


def project_pairs(project: str, limit: int) -> list[Pair]:
    root = SITE / project
    if not root.is_dir():
        raise SystemExit(f"{project} is not installed in {SITE}")
    pairs: list[Pair] = []
    for path in sorted(root.rglob("*.py")):
        if any(part in ("tests", "test", "testing") for part in path.relative_to(root).parts):
            continue
        source = path.read_text(encoding="utf-8", errors="replace")
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        lines = source.splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name.startswith("__"):
                continue
            doc = ast.get_docstring(node, clean=True)
            if not doc or not isinstance(node.body[0], ast.Expr):
                continue
            query = first_sentence(doc)
            if not 3 <= len(query.split()) <= 40:
                continue
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            doc_node = node.body[0]
            kept = lines[start: doc_node.lineno - 1] + lines[doc_node.end_lineno: node.end_lineno]
            if len([line for line in kept if line.strip()]) < 3 or len(node.body) < 2:
                continue  # a signature and a docstring only: nothing to find
            pairs.append(Pair(project, node.name, query, "\n".join(kept)))
    by_query: dict[str, list[Pair]] = {}
    for pair in pairs:
        by_query.setdefault(pair.query.lower(), []).append(pair)
    unique = [group[0] for group in by_query.values() if len(group) == 1]  # ambiguous queries dropped
    unique.sort(key=lambda p: hashlib.sha256(f"{p.project}/{p.name}/{p.query}".encode()).hexdigest())
    return unique[:limit]


def dataset_pairs(directory: Path, split: str) -> list[Pair]:
    rows = [json.loads(line) for line in (directory / "search.jsonl").read_text().splitlines() if line.strip()]
    return [Pair(r.get("project", "?"), r.get("id", ""), r["query"], r["code"]) for r in rows if r["split"] == split]


# ---------------------------------------------------------------------------------------------- model
def embeddings(runtime, pairs: list[Pair]) -> tuple[np.ndarray, np.ndarray]:
    """(code vectors, query vectors), cached per model identity."""
    from manyskills.model.types import FunctionInput

    key = hashlib.sha256(json.dumps([runtime.identity.cache_key, [(p.query, p.code) for p in pairs]],
                                    default=str).encode()).hexdigest()[:20]
    cache = Path(tempfile.gettempdir()) / f"manyskills-search-quality-{key}.npz"
    if cache.is_file():
        stored = np.load(cache)
        return stored["code"], stored["query"]
    items = [FunctionInput("python", p.code) for p in pairs]
    order = sorted(range(len(items)), key=lambda i: len(items[i].text))
    code: list[np.ndarray | None] = [None] * len(items)
    for start in range(0, len(order), 16):
        chunk = order[start: start + 16]
        for index, result in zip(chunk, runtime.analyse([items[i] for i in chunk])):
            code[index] = result.embedding
    queries = np.concatenate([runtime.embed_queries([p.query for p in pairs[i: i + 32]])
                              for i in range(0, len(pairs), 32)])
    code_matrix = np.stack(code).astype(np.float32)
    np.savez(cache, code=code_matrix, query=queries.astype(np.float32))
    return code_matrix, queries


# ---------------------------------------------------------------------------------------------- metrics
def evaluate(pairs: list[Pair], code: np.ndarray, queries: np.ndarray, method: str,
             fusion: Fusion | None = None) -> dict:
    texts = [p.code for p in pairs]
    cache = TokenCache()
    reciprocal, hits = [], 0
    for i, pair in enumerate(pairs):
        sims = code @ queries[i]
        if method == "bm25":
            order = lexical_order(pair.query, texts)
        elif method == "embedding":
            order = np.argsort(-sims, kind="stable")
        else:
            order, _ = hybrid_order(pair.query, texts, sims, fusion, cache)
        rank = int(np.nonzero(order == i)[0][0]) + 1
        reciprocal.append(1.0 / rank)
        hits += rank <= 10
    return {"mrr": float(np.mean(reciprocal)), "recall@10": hits / len(pairs), "n": len(pairs)}


def tune(pairs: list[Pair], code: np.ndarray, queries: np.ndarray) -> list[tuple[Fusion, dict]]:
    grid = [Fusion("linear", embedding_share=round(share, 2)) for share in np.linspace(0.1, 0.9, 9)]
    grid += [Fusion("rrf", rrf_k=k, lexical_weight=w) for k in (10, 30, 60, 100) for w in (0.5, 1.0, 1.5, 2.0)]
    return sorted(((f, evaluate(pairs, code, queries, "hybrid", f)) for f in grid), key=lambda r: -r[1]["mrr"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path, default=None, help="a dataset directory with search.jsonl (splits)")
    ap.add_argument("--valid", default=VALID_DEFAULT, help="validation packages (only --tune uses them)")
    ap.add_argument("--test", default=TEST_DEFAULT, help="held-out test packages (neither training sources nor reserved projects)")
    ap.add_argument("--limit", type=int, default=60, help="pairs per project at most")
    ap.add_argument("--model", default=None, help="base model directory (default: embedded)")
    ap.add_argument("--adapter", default=None, help="adapter directory (default: the shipped adapter)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tune", action="store_true", help="print the fusion grid on the validation split")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from manyskills.model.runtime import LocalRuntime

    started = time.monotonic()
    runtime = LocalRuntime.load(args.model, args.adapter, args.device)
    splits = ("valid", "test") if args.tune else ("test",)
    report: dict = {"command": "python " + " ".join(sys.argv), "identity": str(runtime.identity),
                    "machine": machine_info(), "fusion": asdict(Fusion())}
    for split in splits:
        if args.dataset:
            pairs = dataset_pairs(args.dataset, split)
        else:
            check_held_out(getattr(args, split).split(","))
            pairs = [p for project in getattr(args, split).split(",") for p in project_pairs(project, args.limit)]
        code, queries = embeddings(runtime, pairs)
        projects = sorted({p.project for p in pairs})
        rows = {m: evaluate(pairs, code, queries, m) for m in ("bm25", "embedding", "hybrid")}
        report[split] = {"projects": projects, "rows": rows}
        if split == "valid":
            grid = tune(pairs, code, queries)
            report["valid"]["grid"] = [{**asdict(f), **m} for f, m in grid]
            print(f"validation ({', '.join(projects)}; n={len(pairs)}): fusion grid, best first")
            print("| fusion | MRR | recall@10 |\n|---|---|---|")
            for f, m in grid[:10]:
                label = (f"linear, embedding share {f.embedding_share:g}" if f.method == "linear"
                         else f"RRF k={f.rrf_k:g}, lexical weight {f.lexical_weight:g}")
                print(f"| {label} | {m['mrr']:.3f} | {m['recall@10']:.3f} |")
            print()
        print(f"{split} ({', '.join(projects)}; n={len(pairs)}, every target a candidate for every query)")
        print("| ranking | MRR | recall@10 | n |\n|---|---|---|---|")
        fusion = Fusion()
        hybrid = (f"hybrid (linear, embedding share {fusion.embedding_share:g})" if fusion.method == "linear"
                  else f"hybrid (RRF k={fusion.rrf_k:g})")
        for name, label in (("bm25", "BM25 (identifier-split)"), ("embedding", "embedding"), ("hybrid", hybrid)):
            m = rows[name]
            print(f"| {label} | {m['mrr']:.3f} | {m['recall@10']:.3f} | {m['n']} |")
        print(f"hybrid - BM25: {rows['hybrid']['mrr'] - rows['bm25']['mrr']:+.3f} MRR\n")
    report["seconds"] = round(time.monotonic() - started, 1)
    print(f"command: {report['command']}  ({report['seconds']} s, {runtime.identity})")
    print(machine_line(report["machine"]))
    if args.json:
        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
