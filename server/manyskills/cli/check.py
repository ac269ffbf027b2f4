"""`manyskills check PATH...`: analyse files and folders, print text / JSON / SARIF.

Exit codes: 0 no findings, 1 findings, 2 usage or runtime error. JSON lines and characters are
0-based (characters count Unicode code points); text output is 1-based like other linters.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import attrs

from manyskills import __version__
from manyskills.analysis.findings import Finding
from manyskills.cli.exit_codes import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from manyskills.index.types import Span
from manyskills.model.engine import EngineUnavailable
from manyskills.settings import ALL_LANGUAGES, Settings, SkillToggles

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"warning": "warning", "information": "note", "hint": "note"}
CHECK_SKILLS = ("defect", "review", "clone", "flaky")


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="analyse files and folders")
    p.add_argument("paths", nargs="+", help="files or folders")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    p.add_argument("--threshold", type=float, default=None, help="report findings scoring at least this (0..1)")
    p.add_argument("--skills", default=None, help=f"comma-separated subset of {','.join(CHECK_SKILLS)}")
    p.add_argument("--languages", default=None, help=f"comma-separated subset of {','.join(ALL_LANGUAGES)}")
    p.add_argument("--review", action="store_true", help="generate a review note and repair for each defect (slow)")
    p.add_argument("--model", default=None, help="local directory of an HF causal LM (default: embedded)")
    p.add_argument("--adapter", default=None, help="adapter directory (default: the shipped adapter)")
    p.add_argument("--project-adapter", default="auto", metavar="auto|off|DIR",
                   help="the project adapter of `manyskills adapt` (auto: the project's .manyskills/adapter when "
                        "it is marked active)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--output", "-o", default=None, help="write the report to this file instead of stdout")
    p.add_argument("--engine", default="local",
                   help="'local' (default: the model runs here) or the URL of a model service (manyskills model-server)")
    p.add_argument("--engine-timeout", type=float, default=60.0, help="seconds per service call, retries included")
    p.add_argument("--engine-fallback", choices=("none", "local"), default="none",
                   help="use the local model when the service does not answer")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="spread the scan over Ray workers: a local instance, or ADDRESS (auto, HOST:PORT, ray://...)")
    p.add_argument("--ray-workers", type=int, default=None, help="Ray workers (default: one per free CPU)")
    p.add_argument("--ray-gpus-per-worker", type=float, default=0.0, help="GPUs per Ray worker")
    p.set_defaults(run=run)


class UsageError(Exception):
    pass


def settings_from_args(args: argparse.Namespace) -> Settings:
    try:
        settings = Settings(device=args.device, model=args.model, adapter=args.adapter,
                            project_adapter=args.project_adapter, engine=args.engine,
                            engine_fallback=args.engine_fallback, engine_timeout=args.engine_timeout)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.ray is not None and args.engine != "local":
        raise UsageError("--ray and --engine are alternatives: Ray workers load the model themselves")
    if args.threshold is not None:
        if not 0.0 <= args.threshold <= 1.0:
            raise UsageError(f"--threshold must be between 0 and 1, got {args.threshold}")
        settings = attrs.evolve(settings, threshold=args.threshold)
    if args.skills:
        wanted = {s.strip() for s in args.skills.split(",") if s.strip()}
        unknown = wanted - set(CHECK_SKILLS) - {"search"}
        if unknown:
            raise UsageError(f"unknown skills {sorted(unknown)}; choose from {', '.join(CHECK_SKILLS)}")
        settings = attrs.evolve(settings, skills=SkillToggles(**{s: s in wanted for s in attrs.fields_dict(SkillToggles)}))
    if args.languages:
        langs = tuple(s.strip() for s in args.languages.split(",") if s.strip())
        unknown = set(langs) - set(ALL_LANGUAGES)
        if unknown:
            raise UsageError(f"unknown languages {sorted(unknown)}; choose from {', '.join(ALL_LANGUAGES)}")
        settings = attrs.evolve(settings, languages=langs)
    return settings


def _progress(message: str, fraction: float | None = None) -> None:
    pct = f" {int(fraction * 100):3d}%" if fraction is not None else ""
    print(f"manyskills:{pct} {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except UsageError as exc:
        print(f"manyskills check: {exc}", file=sys.stderr)
        return EXIT_ERROR
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"manyskills check: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_ERROR
    from manyskills.analysis.analyzer import Analyzer
    from manyskills.analysis.files import iter_source_files
    from manyskills.model.engine import ModelEngine

    try:
        loader = _loader(args, settings)
    except UsageError as exc:
        print(f"manyskills check: {exc}", file=sys.stderr)
        return EXIT_ERROR
    engine = ModelEngine(loader, on_progress=_progress)
    engine.start()
    engine.wait_ready()
    if engine.backend is None:
        print(f"manyskills check: the model could not be loaded: {engine.status.message}", file=sys.stderr)
        return EXIT_ERROR
    analyzer = Analyzer(engine, settings.cache_size)
    files = list(iter_source_files(args.paths, settings.languages))
    try:
        results = _scan(args, analyzer, files, settings)
        reviews = _reviews(engine, analyzer, results) if args.review and settings.skills.review else {}
    except EngineUnavailable as exc:
        print(f"manyskills check: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        engine.shutdown(wait=30)
        _close(engine.backend)
    identity = engine.backend.identity
    report = build_report(results, identity, reviews)
    rendered = {"json": lambda: json.dumps(report, indent=2), "sarif": lambda: json.dumps(to_sarif(report), indent=2),
                "text": lambda: to_text(report)}[args.format]()
    if args.output:
        Path(args.output).write_text(rendered + "\n")
    else:
        sys.stdout.write(rendered + ("\n" if rendered else ""))
    return EXIT_FINDINGS if report["findings"] else EXIT_OK


def _loader(args: argparse.Namespace, settings: Settings):
    if args.ray is None:
        from manyskills.model.project_adapter import project_root
        from manyskills.service.backends import backend_loader

        return backend_loader(settings, lambda level, message: print(f"manyskills: {message}", file=sys.stderr),
                              root=lambda: project_root(args.paths[0]))
    # Ray connects here, on the main thread (ray.init installs signal handlers); the engine only holds the pool.
    from manyskills.service.cluster import RayUnavailable
    from manyskills.service.distributed import RayPoolBackend

    try:
        pool = RayPoolBackend(args.ray, settings.model, settings.adapter, settings.device, args.ray_workers,
                              args.ray_gpus_per_worker, progress=_progress)
    except (RayUnavailable, EngineUnavailable) as exc:
        raise UsageError(str(exc)) from None
    return lambda progress: pool


def _scan(args: argparse.Namespace, analyzer, files, settings: Settings):
    """Locally (or through the model service), or spread over Ray workers: the same results either way."""
    from manyskills.analysis.scan import derive_findings, index_files, scan_files

    if args.ray is None:
        return scan_files(analyzer, files, settings)
    from manyskills.service.distributed import analyse_on_ray

    results = index_files(files, settings)
    backend = analyzer.engine.backend
    analyses = analyse_on_ray(backend, results, lambda done, total: _progress(
        f"{done}/{total} functions on {backend.size} Ray worker(s)", done / max(total, 1)))
    derive_findings(analyzer, results, analyses, settings)
    return results


def _close(backend) -> None:
    close = getattr(backend, "close", None)
    if close is not None:
        close()


def _reviews(engine, analyzer, results) -> dict:
    from manyskills.analysis.repair import review_finding

    out = {}
    for result in results:
        for finding in result.findings:
            if finding.skill != "defect":
                continue
            hits, _ = analyzer.cached([finding.function])
            out[id(finding)] = review_finding(engine, finding, hits.get(finding.function.content_hash))
    return out


def _range(span: Span) -> dict:
    return {"start": {"line": span.start.line, "character": span.start.character},
            "end": {"line": span.end.line, "character": span.end.character}}


def _finding_json(result, finding: Finding, review) -> dict:
    from manyskills.analysis.repair import repair_edit

    fix = None
    repair = getattr(review, "repair", None)
    if repair is not None:  # only a repair that passed the margin becomes a fix
        span, new_text = repair_edit(finding.function, result.lines, repair)
        fix = {"range": _range(span), "new_text": new_text, "description": repair.description,
               "score_before": round(repair.score_before, 4), "score_after": round(repair.score_after, 4),
               "likelihood_gain": None if repair.gain is None else round(repair.gain, 3)}
    out = {
        "path": str(result.path),
        "language": result.language,
        "function": finding.function.qualified_name,
        "skill": finding.skill,
        "severity": finding.severity,
        "score": round(finding.score, 4),
        "message": finding.message,
        "range": _range(finding.span),
        "function_range": _range(finding.function.span),
        "fix": fix,
    }
    if review is not None:
        out["note"] = review.note
    if finding.related:
        out["related"] = [{"path": r.path, "function": r.name, "range": _range(r.span)} for r in finding.related]
    return out


def build_report(results, identity, reviews: dict) -> dict:
    findings = [_finding_json(r, f, reviews.get(id(f))) for r in results for f in r.findings]
    return {
        "tool": {"name": "manyskills", "version": __version__},
        "model": {"base": identity.base_name, "adapter": identity.adapter_path or "untrained",
                  "adapter_version": identity.adapter_version, "device": identity.device, "dtype": identity.dtype},
        "files": len(results),
        "functions": sum(len(r.functions) for r in results),
        "skipped": [{"path": str(r.path), "reason": r.skipped} for r in results if r.skipped],
        "findings": findings,
    }


def to_text(report: dict) -> str:
    lines = []
    for f in report["findings"]:
        start = f["range"]["start"]
        lines.append(f"{f['path']}:{start['line'] + 1}:{start['character'] + 1}: {f['skill']} {f['message']} "
                     f"({f['score']:.2f})")
        if f.get("note"):  # --review: the note, and the fix only where a repair passed the gate
            lines.append(f"    note: {f['note']}")
        if f.get("fix"):
            fix = f["fix"]
            lines.append(f"    fix ({fix['description']}), line {fix['range']['start']['line'] + 1}: "
                         f"{fix['new_text'].strip()}")
    n = len(report["findings"])
    lines.append(f"Found {n} finding{'s' if n != 1 else ''} in {report['files']} files "
                 f"({report['functions']} functions).")
    return "\n".join(lines)


def to_sarif(report: dict) -> dict:
    rules = [
        {"id": "defect", "name": "PossibleDefect", "shortDescription": {"text": "Possible defect"},
         "defaultConfiguration": {"level": "warning"}},
        {"id": "flaky", "name": "FlakyTest", "shortDescription": {"text": "Test looks flaky"},
         "defaultConfiguration": {"level": "note"}},
        {"id": "clone", "name": "CodeClone", "shortDescription": {"text": "Function looks like a clone"},
         "defaultConfiguration": {"level": "note"}},
    ]
    rule_index = {r["id"]: i for i, r in enumerate(rules)}

    def region(rng: dict) -> dict:
        return {"startLine": rng["start"]["line"] + 1, "startColumn": rng["start"]["character"] + 1,
                "endLine": rng["end"]["line"] + 1, "endColumn": rng["end"]["character"] + 1}

    def uri(path: str) -> str:
        return Path(path).as_posix()

    results = []
    for f in report["findings"]:
        item = {
            "ruleId": f["skill"],
            "ruleIndex": rule_index[f["skill"]],
            "level": _SARIF_LEVEL[f["severity"]],
            "message": {"text": f["message"]},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(f["path"])},
                                                "region": region(f["range"])},
                           "logicalLocations": [{"fullyQualifiedName": f["function"], "kind": "function"}]}],
            "properties": {"score": f["score"]},
        }
        if f.get("fix"):
            item["fixes"] = [{"description": {"text": f.get("note") or "Suggested repair"},
                              "artifactChanges": [{"artifactLocation": {"uri": uri(f["path"])}, "replacements": [
                                  {"deletedRegion": region(f["fix"]["range"]),
                                   "insertedContent": {"text": f["fix"]["new_text"]}}]}]}]
        if f.get("related"):
            item["relatedLocations"] = [
                {"id": i, "physicalLocation": {"artifactLocation": {"uri": uri(r["path"])}, "region": region(r["range"])},
                 "message": {"text": f"similar function {r['function']}"}} for i, r in enumerate(f["related"])]
        results.append(item)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ManySkills", "version": report["tool"]["version"],
                                "informationUri": "https://pypi.org/project/manyskills/", "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"model": report["model"]},
        }],
    }
