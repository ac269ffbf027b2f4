"""`manyskills adapt`: a project adapter trained on the repository's own past bug fixes.

The repository's fix commits are mined with the history miner (`data.gitmine`: one-function edits of
1-3 lines, each a (buggy, fixed) pair); the current tree's functions (HEAD's committed files, outside
tests and vendored code) add clean examples. Training continues the shipped adapter (its LoRA and
heads, `TrainConfig.init_adapter`) on the defect skill only, within a time budget that covers the
whole command (mining, state caching, training and the evaluation). The other skills' heads are left
as shipped; their inputs move with the LoRA, which is why a project adapter is used only when asked
for or when its evaluation says it beats the shipped one.

`--evaluate` is a time split: the most recent `HOLDOUT_SHARE` of the fix commits are held out, the
adapter trains on the older ones only, and both adapters are scored on the held-out fixes (see
`adapt_eval`). The project adapter is marked active only when it beats the shipped one there
(`decide`); the decision, its reason and the numbers go into its manifest (`training.project`).

Output: `<project>/.manyskills/adapter/` (a `.gitignore` of `*` in `.manyskills/` keeps it out of
commits); state caches live in `.manyskills/cache/` so a second run reuses them.
"""

from __future__ import annotations

import math
import random
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

DEFAULT_MINUTES = 10.0  # a laptop CPU: about 2 minutes of mining and caching, the rest training and evaluation
HOLDOUT_SHARE = 0.2
MAX_LINES = 60  # longer functions are left out, as in training (examples.load_split)
PROJECT_DIR = ".manyskills"
ADAPTER_DIR = "adapter"
EVAL_SHARE = 0.25  # of the budget kept for the evaluation with --evaluate, at least ...
EVAL_SHARE_MAX = 0.5  # ... and at most; in between, what the evaluation is expected to take (see below)
# One analysis at evaluation (all 24 feature layers, the serving window) costs about this many cached
# sequences (20 frozen layers, the training window) on the same machine: about 2.6 and 4.5 on tmux and vitest.
ANALYSIS_PER_CACHED = 3.5
RUNTIME_LOAD_S = 15.0  # loading one adapter's runtime for the evaluation

Progress = Callable[[str], None]


@dataclass
class FixPair:
    buggy: dict  # gitmine rows (DefectExample fields + commit, date, path, function)
    fixed: dict

    @property
    def commit(self) -> str:
        return self.buggy["commit"]

    @property
    def date(self) -> datetime:
        return datetime.fromisoformat(self.buggy["date"])


@dataclass
class TreeFunction:
    language: str
    text: str
    path: str


@dataclass
class AdaptData:
    train: list[FixPair]
    heldout: list[FixPair]
    clean: list[TreeFunction]  # training's clean examples
    calibration: list[TreeFunction] = field(default_factory=list)  # threshold of the project adapter
    evaluation: list[TreeFunction] = field(default_factory=list)  # false warnings per 1,000 lines


def fix_pairs(rows: list[dict]) -> list[FixPair]:
    """The mined rows as (buggy, fixed) pairs, oldest commit first."""
    sides: dict[str, dict[int, dict]] = {}
    for row in rows:
        sides.setdefault(row["pair_id"], {})[int(row["label"])] = row
    pairs = [FixPair(s[1], s[0]) for s in sides.values() if 0 in s and 1 in s]
    return sorted(pairs, key=lambda p: (p.date, p.commit))


def time_split(pairs: list[FixPair], share: float = HOLDOUT_SHARE) -> tuple[list[FixPair], list[FixPair]]:
    """(older, held out): the most recent `share` of the fix *commits* (never a commit on both sides),
    at least one commit on each side when there are two or more."""
    commits: dict[str, datetime] = {}
    for p in pairs:
        commits[p.commit] = max(commits.get(p.commit, p.date), p.date)
    order = sorted(commits, key=lambda c: (commits[c], c))
    if len(order) < 2:
        return list(pairs), []
    n_held = min(len(order) - 1, max(1, math.ceil(share * len(order))))
    held = set(order[-n_held:])
    return [p for p in pairs if p.commit not in held], [p for p in pairs if p.commit in held]


def tree_functions(path: str | Path, max_functions: int, seed: int = 0) -> list[TreeFunction]:
    """Up to `max_functions` functions of HEAD's committed source files (bare repositories too), outside
    tests and vendored code, under MAX_LINES lines; a seeded sample when there are more."""
    from manyskills.data.gitmine import _Blobs, git_dir_of, is_test_path, is_vendored_path
    from manyskills.index.functions import index_functions
    from manyskills.index.languages import language_for_path

    git_dir = git_dir_of(path)
    listing = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", "HEAD"], check=True,
                             capture_output=True).stdout.decode("utf-8", "replace")
    files = []
    for entry in listing.split("\0"):
        meta, _, name = entry.partition("\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == "blob" and (lang := language_for_path(name)) \
                and not is_test_path(name) and not is_vendored_path(name):
            files.append((name, lang, fields[2]))
    rng = random.Random(seed)
    rng.shuffle(files)
    out: list[TreeFunction] = []
    blobs = _Blobs(git_dir)
    try:
        for name, lang, blob in files:
            text = blobs.text(blob)
            if text is None or len(text) > 500_000:
                continue
            for fn in index_functions(lang, text):
                if not fn.is_test and fn.text.count("\n") < MAX_LINES and fn.text.strip():
                    out.append(TreeFunction(lang, fn.text, name))
            if len(out) >= 4 * max_functions:
                break
    finally:
        blobs.close()
    rng.shuffle(out)
    return out[:max_functions]


def split_tree(functions: list[TreeFunction], evaluate: bool) -> tuple[list, list, list]:
    """(training, calibration, evaluation): halves for training and the two measurements with
    --evaluate, so neither the threshold nor the false-warning rate is measured on what was trained on."""
    if not evaluate:
        return functions, [], []
    half, three_quarters = len(functions) // 2, (3 * len(functions)) // 4
    return functions[:half], functions[half:three_quarters], functions[three_quarters:]


def decide(shipped: dict, project: dict) -> tuple[bool, str]:
    """Whether the project adapter is active by default: it must rank the held-out buggy sides above
    their fixes more often than the shipped adapter (pairwise), without a lower AUROC or line top-1 and
    without more false warnings per 1,000 lines. Any undefined number (no held-out fixes) means no."""
    keys = ("pairwise", "auroc", "line_top1", "false_per_kloc")
    if any(not isinstance(d.get(k), (int, float)) or math.isnan(d[k]) for d in (shipped, project) for k in keys):
        return False, "not enough held-out fixes to compare the adapters"
    if project["pairwise"] <= shipped["pairwise"]:
        return False, (f"pairwise buggy>fixed {project['pairwise']:.3f} does not beat the shipped adapter's "
                       f"{shipped['pairwise']:.3f}")
    if project["auroc"] < shipped["auroc"]:
        return False, f"AUROC {project['auroc']:.3f} is below the shipped adapter's {shipped['auroc']:.3f}"
    if project["line_top1"] < shipped["line_top1"]:
        return False, f"line top-1 {project['line_top1']:.3f} is below the shipped adapter's {shipped['line_top1']:.3f}"
    if project["false_per_kloc"] > shipped["false_per_kloc"]:
        return False, (f"{project['false_per_kloc']:.1f} false warnings per 1,000 lines, more than the shipped "
                       f"adapter's {shipped['false_per_kloc']:.1f}")
    return True, (f"beats the shipped adapter on the held-out fixes: pairwise {project['pairwise']:.3f} > "
                  f"{shipped['pairwise']:.3f}")


def ensure_project_dir(project: Path) -> Path:
    """`.manyskills/` with a `.gitignore` of `*`: nothing in it is ever committed by accident."""
    directory = project / PROJECT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    ignore = directory / ".gitignore"
    if not ignore.is_file():
        ignore.write_text("*\n")
    return directory


def defect_items(pairs: list[FixPair], clean: list[TreeFunction]) -> list:
    from manyskills.training.examples import DefectItem

    items = []
    for p in pairs:
        b, f = p.buggy, p.fixed
        items.append(DefectItem(b["language"], b["code"], 1, b["bug_lines"][0], b["pair_id"], b.get("note", ""),
                                b.get("fix_line"), b.get("fix_replacement"), b["operator"], b.get("project", "")))
        items.append(DefectItem(f["language"], f["code"], 0, -1, f["pair_id"], "", None, None, f["operator"],
                                f.get("project", "")))
    for i, fn in enumerate(clean):
        items.append(DefectItem(fn.language, fn.text, 0, -1, f"tree-{i}", operator="clean"))
    return items


def _short(pairs: list[FixPair]) -> list[FixPair]:
    return [p for p in pairs if max(p.buggy["code"].count("\n"), p.fixed["code"].count("\n")) < MAX_LINES]


def commit_range(pairs: list[FixPair]) -> dict:
    if not pairs:
        return {}
    return {"first_commit": pairs[0].commit, "first_date": pairs[0].buggy["date"],
            "last_commit": pairs[-1].commit, "last_date": pairs[-1].buggy["date"]}


def run_adapt(path: str | Path, since: str | None = None, minutes: float = DEFAULT_MINUTES, evaluate: bool = False,
              out: str | Path | None = None, shipped: str | Path | None = None, seed: int = 0,
              progress: Progress = print) -> dict:
    """Mine, train (and with `evaluate`, score and decide); returns the manifest's `training.project`."""
    from manyskills.data.gitmine import mine_repository
    from manyskills.model.paths import shipped_adapter_dir

    started = time.time()
    deadline = started + minutes * 60
    project = Path(path).resolve()
    shipped_dir = Path(shipped) if shipped else shipped_adapter_dir()
    if shipped_dir is None:
        raise FileNotFoundError("no shipped adapter to extend (models/default); pass --adapter")
    work = ensure_project_dir(project) if out is None else Path(out).parent
    out_dir = Path(out) if out else work / ADAPTER_DIR

    progress(f"mining fix commits in {project} ...")
    mined = mine_repository(project, since=since)
    pairs = _short(fix_pairs(mined.rows))
    progress(f"mined {len(pairs)} fix pairs from {mined.stats['fix_commits']} fix-message commits of "
             f"{mined.stats['commits']} ({mined.stats['seconds']:.0f} s)")
    train, heldout = time_split(pairs) if evaluate else (pairs, [])
    # Caching costs about a second a sequence on a loaded 2-core CPU: the pools scale with the budget.
    cap = max(8, int(minutes * 40))
    train = train[-cap:]  # the most recent fixes are closest to today's code
    progress("indexing the current tree's functions ...")
    functions = tree_functions(project, max(8, int(minutes * 30)) * (2 if evaluate else 1), seed)
    clean, calibration, evaluation = split_tree(functions, evaluate)
    data = AdaptData(train, heldout, clean, calibration, evaluation)
    progress(f"{len(train)} training fixes, {len(heldout)} held out, {len(clean)} clean functions"
             + (f", {len(calibration)} + {len(evaluation)} for calibration and false warnings" if evaluate else ""))
    if not train:
        raise ValueError(f"no fix commits to learn from in {project} (the miner found {len(pairs)} usable fixes)")

    info = {
        "repository": mined.stats["repository"], "head": mined.stats["head"], "since": since,
        "extends": {"path": str(shipped_dir), "version": _manifest(shipped_dir).version},
        "commit_range": commit_range(train), "heldout_range": commit_range(heldout),
        "counts": {"commits": mined.stats["commits"], "fix_commits": mined.stats["fix_commits"],
                   "fix_pairs": len(pairs), "train_pairs": len(train), "heldout_pairs": len(heldout),
                   "clean_functions": len(clean)},
        "minutes": minutes, "active": False,
        "reason": "not evaluated: run `manyskills adapt --evaluate` to activate it by default, or set "
                  "projectAdapter to its path",
    }
    trainer, interrupted = _train(data, shipped_dir, out_dir, deadline, minutes if evaluate else 0.0, seed, progress,
                                  info)
    if interrupted:
        info["reason"] = "interrupted: the last checkpoint is kept and left off"
    elif evaluate:
        from manyskills.training.adapt_eval import evaluate_adapters

        _save(trainer, out_dir, shipped_dir, info, checkpoint=False)  # the evaluation loads it from disk

        info["evaluation"] = evaluate_adapters(shipped_dir, out_dir, data, progress)
        info["active"], info["reason"] = decide(info["evaluation"]["shipped"], info["evaluation"]["project"])
        threshold = info["evaluation"]["project"].get("threshold")
        if threshold is not None:
            trainer.manifest.thresholds["defect"] = threshold
    info["seconds"] = round(time.time() - started, 1)
    _save(trainer, out_dir, shipped_dir, info, checkpoint=interrupted)
    return info


def _manifest(directory: Path):
    from manyskills.model.adapter import Manifest

    return Manifest.load(directory)


def evaluation_seconds(data: AdaptData, cached: int, cache_seconds: float) -> float:
    """What `--evaluate` takes after training: two runtimes loaded; each adapter scores both sides of the
    held-out fixes, the calibration functions and the evaluation functions; at the rate this machine
    just cached states, scaled by `ANALYSIS_PER_CACHED`."""
    rate = cached / cache_seconds if cached and cache_seconds > 0 else 4.0  # nothing cached: a slow CPU
    items = 2 * (2 * len(data.heldout) + len(data.calibration) + len(data.evaluation))
    return 2 * RUNTIME_LOAD_S + ANALYSIS_PER_CACHED * items / rate


def evaluation_reserve(minutes: float, estimate: float) -> float:
    """Seconds of the budget kept for the evaluation: the estimate, within [EVAL_SHARE, EVAL_SHARE_MAX]
    of the budget (the budget covers the whole command; training gets the rest)."""
    budget = minutes * 60
    return min(max(estimate, EVAL_SHARE * budget), EVAL_SHARE_MAX * budget)


def _train(data: AdaptData, shipped_dir: Path, out_dir: Path, deadline: float, evaluate_minutes: float, seed: int,
           progress: Progress, info: dict):
    from manyskills.training.config import TrainConfig
    from manyskills.training.trainer import Trainer

    config = TrainConfig(
        out=str(out_dir), skills=["defect"], init_adapter=str(shipped_dir), steps=100_000, deadline=deadline,
        batch_size=8, lr_lora=1e-4, lr_heads=3e-4, warmup=10, real_fix_share=0.5, seed=seed, checkpoint_every=25,
        activation_cache=str(out_dir.parent / "cache" / "activations"), device="cpu",
        version=f"{_manifest(shipped_dir).version}+project",
    )
    trainer = Trainer(config, progress)
    progress("caching the frozen layers' states ...")
    pools = trainer.prepare(_skill_data(data))
    if evaluate_minutes:  # keep what the evaluation will need, now that this machine's speed is known
        estimate = evaluation_seconds(data, trainer.stats["sequences_cached"], trainer.stats["cache_seconds"])
        trainer.config.deadline = deadline - evaluation_reserve(evaluate_minutes, estimate)
    progress(f"training on {len(pools['defect'])} examples until the budget ends ...")
    try:
        trainer.train(pools)
    except KeyboardInterrupt:
        progress(f"interrupted at step {trainer.step}; saving the last state")
        _save(trainer, out_dir, shipped_dir, {**info, "reason": "interrupted: kept and left off"}, checkpoint=True)
        return trainer, True
    info["steps"] = trainer.step
    return trainer, False


def _skill_data(data: AdaptData):
    from manyskills.training.examples import SkillData

    return SkillData(defect=defect_items(data.train, data.clean))


def _save(trainer, out_dir: Path, shipped_dir: Path, info: dict, checkpoint: bool) -> None:
    # Served like the shipped adapter: its window, calibrated threshold (or the project's, see adapt_eval).
    trainer.manifest.max_tokens = _manifest(shipped_dir).max_tokens
    trainer.save(out_dir, checkpoint=checkpoint, extra={"project": info})
