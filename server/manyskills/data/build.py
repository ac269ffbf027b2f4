"""Build the training dataset: harvest → extract → defects (mutations) → clones → real changes →
release-history fixes → search pairs → flaky tests; every output is JSONL under `--out` (default `data-cache/dataset/`),
plus `STATS.json` with counts per split / language / skill / operator.

    python -m manyskills.data.build --out data-cache/dataset [--kinds stdlib,pypi] [--skip-download]

Stages whose module is missing (mutations / clones come from another part of the pipeline) are
skipped with a warning; each stage's failure is logged and does not stop the others.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from manyskills.data import corpus
from manyskills.data.extract import ExtractStats, extract_functions
from manyskills.data.records import (
    ClonePair,
    CorpusFunction,
    DefectExample,
    FlakyExample,
    SearchExample,
    read_jsonl,
    write_jsonl,
)

__all__ = ["DEFAULT_OUT", "build_dataset", "main"]

log = logging.getLogger("manyskills.data.build")

DEFAULT_OUT = Path("data-cache/dataset")
SEED = 20240601


def _optional(module: str, attr: str):
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        log.warning("stage skipped: %s.%s unavailable (%s)", module, attr, exc)
        return None


def _stats(outputs: dict[str, list]) -> dict:
    stats: dict = {"skills": {}}
    for skill, records in outputs.items():
        by_split: Counter = Counter()
        by_lang: Counter = Counter()
        by_split_lang: dict[str, Counter] = defaultdict(Counter)
        extra: dict[str, Counter] = defaultdict(Counter)
        projects: set[str] = set()
        for r in records:
            by_split[r.split] += 1
            by_lang[r.language] += 1
            by_split_lang[r.split][r.language] += 1
            projects.add(r.project)
            if isinstance(r, DefectExample):
                extra["operator"][r.operator] += 1
                extra["label"][str(r.label)] += 1
                extra["source"][r.source] += 1
            elif isinstance(r, ClonePair):
                extra["rewrite"][r.rewrite] += 1
                extra["label"][str(r.label)] += 1
            elif isinstance(r, FlakyExample):
                extra["cause"][r.cause or "none"] += 1
                extra["label"][str(r.label)] += 1
            elif isinstance(r, CorpusFunction):
                extra["is_test"][str(r.is_test)] += 1
        stats["skills"][skill] = {
            "total": len(records),
            "projects": len(projects),
            "by_split": dict(sorted(by_split.items())),
            "by_language": dict(sorted(by_lang.items())),
            "by_split_language": {k: dict(sorted(v.items())) for k, v in sorted(by_split_lang.items())},
            **{k: dict(sorted(v.items())) for k, v in extra.items()},
        }
    return stats


def build_dataset(
    out_dir: str | Path = DEFAULT_OUT,
    sources: str | Path | list[corpus.Source] | None = None,
    *,
    cache_dir: str | Path = corpus.DEFAULT_CACHE,
    limit: int | None = None,
    kinds: list[str] | None = None,
    skip_download: bool = False,
    seed: int = SEED,
    stages: set[str] | None = None,
    history_packages: list[str] | None = None,
    history_pairs: int = 8,
) -> dict:
    """Run the pipeline and write `functions.jsonl`, `defects.jsonl`, `clones.jsonl`,
    `changes.jsonl`, `history.jsonl` (+ `HISTORY.json`), `search.jsonl`, `flaky.jsonl` and `STATS.json`
    into `out_dir`.

    `limit` caps the number of sources (projects) harvested; `kinds` restricts source kinds;
    `stages` (default all) picks among {"harvest","functions","defects","clones","changes",
    "history","search","flaky"}; the history stage fetches the patch releases of `history_packages`
    (default: the packaged list) into `cache_dir/history`. Returns the stats."""
    t0 = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stages = stages or {"harvest", "functions", "defects", "clones", "changes", "history", "search", "flaky"}
    src_list = sources if isinstance(sources, list) else corpus.load_sources(sources)
    selected = [s for s in src_list if not kinds or s.kind in kinds]
    if limit is not None:
        selected = selected[:limit]
    if "harvest" in stages:
        manifest = corpus.harvest(cache_dir, selected, skip_download=skip_download, prune=limit is None)
    else:
        manifest = corpus.read_manifest(cache_dir)
    selected_keys = {s.key for s in selected}
    outputs: dict[str, list] = {}

    functions_path = out / "functions.jsonl"
    if "functions" in stages or not functions_path.exists():
        projects = [p for p in corpus.iter_projects(cache_dir, manifest, kinds=kinds, sources=src_list)
                    if p.source_key in selected_keys]
        counts: dict[str, int] = {}
        xstats = ExtractStats()
        functions = extract_functions(projects, per_project_counts=counts, stats=xstats)
        write_jsonl(functions_path, functions)
        log.info("functions: %d (%s)", len(functions), xstats)
        # function counts back into the manifest
        for e in manifest.get("sources", []):
            if e.get("role", "corpus") == "corpus":
                if e["kind"] == "stdlib":
                    e["functions"] = sum(v for k, v in counts.items() if k == e["key"])
                elif e["key"] in counts:
                    e["functions"] = counts[e["key"]]
        manifest["extraction"] = vars(xstats)
        corpus.write_manifest(cache_dir, manifest)
    else:
        functions = read_jsonl(functions_path, CorpusFunction)
    outputs["functions"] = functions

    def stage(name: str, module: str, attr: str, path: str, call):
        if name not in stages:
            return None
        fn = _optional(module, attr)
        if fn is None:
            return None
        try:
            t = time.time()
            records = call(fn)
            write_jsonl(out / path, records)
            log.info("%s: %d records in %.0fs", name, len(records), time.time() - t)
            return records
        except Exception:
            log.exception("stage %s failed", name)
            return None

    r = stage("defects", "manyskills.data.mutations", "make_defect_examples", "defects.jsonl",
              lambda f: f(functions, seed))
    if r is not None:
        outputs["defects"] = r
    r = stage("clones", "manyskills.data.clones", "make_clone_pairs", "clones.jsonl",
              lambda f: f(functions, seed))
    if r is not None:
        outputs["clones"] = r
    r = stage("changes", "manyskills.data.changes", "mine_changes", "changes.jsonl",
              lambda f: f(cache_dir, manifest))
    if r is not None:
        outputs["changes"] = r
    if "history" in stages and skip_download:
        log.warning("history stage skipped: it lists releases on the package index (--skip-download given)")
    elif "history" in stages:
        from manyskills.data import history

        t = time.time()
        mined = history.mine_history(history_packages or history.load_packages(), Path(cache_dir) / "history",
                                     history_pairs)
        write_jsonl(out / "history.jsonl", mined.examples)
        history.write_history(out, mined)
        outputs["history"] = mined.examples
        log.info("history: %d pairs in %.0fs", len(mined.examples) // 2, time.time() - t)
    r = stage("search", "manyskills.data.search_pairs", "make_search_examples", "search.jsonl",
              lambda f: f(functions))
    if r is not None:
        outputs["search"] = r
    r = stage("flaky", "manyskills.data.flaky", "make_flaky_examples", "flaky.jsonl",
              lambda f: f(functions))
    if r is not None:
        outputs["flaky"] = r

    # stages not rerun this time: count what is on disk so STATS.json stays complete
    for skill, cls in (("defects", DefectExample), ("clones", ClonePair), ("changes", DefectExample),
                       ("history", DefectExample), ("search", SearchExample), ("flaky", FlakyExample)):
        p = out / f"{skill}.jsonl"
        if skill not in outputs and p.exists():
            outputs[skill] = read_jsonl(p, cls)

    stats = _stats(outputs)
    stats["sources"] = {
        "ok": sum(1 for e in manifest.get("sources", []) if e.get("status") == "ok" and e.get("role", "corpus") == "corpus"),
        "failed": [e["key"] for e in manifest.get("sources", []) if e.get("status") == "failed"],
        "denied": [e["key"] for e in manifest.get("sources", []) if e.get("status") == "denied"],
        "skipped": [e["key"] for e in manifest.get("sources", []) if e.get("status") == "skipped"],
    }
    stats["seed"] = seed
    stats["seconds"] = round(time.time() - t0, 1)
    (out / "STATS.json").write_text(json.dumps(stats, indent=1), encoding="utf-8")
    return stats


def _history_list(path: str | None) -> list[str] | None:
    if path is None:
        return None
    from manyskills.data.history import load_packages

    return load_packages(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="manyskills data build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="dataset directory (default %(default)s)")
    ap.add_argument("--cache", default=str(corpus.DEFAULT_CACHE), help="corpus cache (default %(default)s)")
    ap.add_argument("--sources", default=None, help="source list JSON (default: the packaged sources.json)")
    ap.add_argument("--max-projects", type=int, default=None, help="harvest at most this many sources")
    ap.add_argument("--kinds", default=None, help="comma-separated source kinds: stdlib,pypi,npm,debian")
    ap.add_argument("--stages", default=None, help="comma-separated stages (default: all)")
    ap.add_argument("--skip-download", action="store_true", help="use only what is already in the cache")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--history-packages", default=None,
                    help="file of PyPI package names whose patch releases are mined (default: the packaged list)")
    ap.add_argument("--history-pairs", type=int, default=8, help="patch-release pairs per package (default %(default)s)")
    args = ap.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stats = build_dataset(
        args.out, args.sources, cache_dir=args.cache, limit=args.max_projects,
        kinds=args.kinds.split(",") if args.kinds else None, skip_download=args.skip_download,
        seed=args.seed, stages=set(args.stages.split(",")) if args.stages else None,
        history_packages=_history_list(args.history_packages), history_pairs=args.history_pairs,
    )
    for skill, s in stats["skills"].items():
        print(f"{skill:10s} {s['total']:8d}  {s['by_split']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
