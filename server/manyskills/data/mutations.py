"""Bug injection: turn real functions into (clean, buggy) training pairs for the defect skills.

`make_defect_examples(functions, seed)` gives, for each function that admits a mutation, one clean
negative and up to `per_function` mutated positives sharing a `pair_id`. Every mutation is an edit
of the original text at character offsets found through the syntax tree (`manyskills.data.syntax`),
so formatting, comments and indentation style stay exactly as the author wrote them.
A mutant is kept only when

* it re-parses without syntax errors (and, for Python, still compiles),
* it differs from the original, and
* replacing ONE line of it (`fix_line`) with `fix_replacement` gives back the original exactly
  (the repair target), so every bug is localised to one line (`bug_lines`).

This module is the operator registry and the generator; the operators themselves live in
`manyskills.data.operators`, one module per family. Operators (`OPERATORS`) cover the classic
single-point bugs (wrong operator, off-by-one, negated condition, swapped arguments/branches,
variable misuse, wrong literal/return/attribute, removed check, missing await/break, ...) plus
*inserting* operators (duplicated statement, extra increment, extra break, reset inside a loop,
return inside a loop) so that deleting operators are balanced and length does not separate buggy
from clean code. The generator balances operators (no
operator above `max_share` of the positives) and steers the running length difference between
buggy and clean code back to zero; `length_baseline_auc` and `operator_stats` measure the result.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from manyskills.data import notes as _notes
from manyskills.data.operators import bounds, deleting, expressions, inserting, operands
from manyskills.data.operators.base import Edit
from manyskills.data.records import CorpusFunction, DefectExample, stable_id
from manyskills.data.syntax import FunctionSyntax, analyze, compiles
from manyskills.index.languages import LANGUAGE_NAMES as LANGUAGES
from manyskills.index.treesitter import parse
from manyskills.stats import auroc

__all__ = [
    "DELETING_OPERATORS",
    "INSERTING_OPERATORS",
    "LANGUAGES",
    "MAX_OPERATOR_SHARE",
    "OPERATORS",
    "FunctionSyntax",
    "Mutant",
    "analyze",
    "apply_fix",
    "candidate_mutants",
    "length_baseline_auc",
    "line_fix",
    "make_defect_examples",
    "mutate_function",
    "operator_stats",
]

MAX_OPERATOR_SHARE = 0.12

OPERATORS = (
    "wrong_binary_operator",
    "wrong_comparison",
    "off_by_one",
    "negated_condition",
    "swapped_branches",
    "swapped_arguments",
    "variable_misuse",
    "wrong_literal",
    "removed_check",
    "wrong_return_value",
    "is_vs_equality",
    "assignment_vs_equality",
    "missing_await",
    "missing_break",
    "wrong_attribute",
    "wrong_recursive_argument",
    "wrong_base_case",
    "and_or_swap",
    "increment_swap",
    # inserting operators (add a plausible but wrong statement)
    "extra_increment",
    "duplicated_statement",
    "duplicated_assignment",
    "extra_break",
    "reset_in_loop",
    "return_in_loop",
)
DELETING_OPERATORS = frozenset({"removed_check", "missing_await", "missing_break"})
INSERTING_OPERATORS = frozenset(
    {"extra_increment", "duplicated_statement", "duplicated_assignment", "extra_break", "reset_in_loop",
     "return_in_loop"}
)


# --- fixes ----------------------------------------------------------------------------------------


def apply_fix(code: str, fix_line: int, fix_replacement: str) -> str:
    """Replace line `fix_line` of `code` by `fix_replacement` ("" deletes the line; "\\n" inside
    the replacement inserts lines)."""
    lines = code.split("\n")
    if fix_replacement == "":
        del lines[fix_line]
    else:
        lines[fix_line] = fix_replacement
    return "\n".join(lines)


def line_fix(original: str, mutant: str) -> tuple[list[int], int, str] | None:
    """(bug_lines, fix_line, fix_replacement) turning `mutant` back into `original` by replacing one
    line, or None when the difference does not fit one line of the mutant."""
    old, new = original.split("\n"), mutant.split("\n")
    prefix = 0
    while prefix < len(old) and prefix < len(new) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < len(old) - prefix and suffix < len(new) - prefix
           and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]):
        suffix += 1
    old_region = old[prefix:len(old) - suffix]
    new_region = new[prefix:len(new) - suffix]
    if len(new_region) == 1:
        replacement = "\n".join(old_region)
        if old_region and replacement == "":
            return None  # the fix would blank the line, which "" cannot express
        fix_line = prefix
    elif not new_region and old_region:
        if prefix < len(new):
            fix_line, replacement = prefix, "\n".join([*old_region, new[prefix]])
        elif prefix > 0:
            fix_line, replacement = prefix - 1, "\n".join([new[prefix - 1], *old_region])
        else:
            return None
    else:
        return None
    if apply_fix(mutant, fix_line, replacement) != original:
        return None
    return [fix_line], fix_line, replacement


# --- registry and validation ----------------------------------------------------------------------


@dataclass
class Mutant:
    operator: str
    code: str
    bug_lines: list[int]
    fix_line: int
    fix_replacement: str
    note: str
    info: dict


_OPERATOR_FUNCTIONS: dict[str, Callable[[FunctionSyntax], Iterator[Edit]]] = {
    "wrong_binary_operator": expressions.wrong_binary_operator,
    "wrong_comparison": expressions.wrong_comparison,
    "off_by_one": bounds.off_by_one,
    "negated_condition": expressions.negated_condition,
    "swapped_branches": operands.swapped_branches,
    "swapped_arguments": operands.swapped_arguments,
    "variable_misuse": operands.variable_misuse,
    "wrong_literal": operands.wrong_literal,
    "removed_check": deleting.removed_check,
    "wrong_return_value": operands.wrong_return_value,
    "is_vs_equality": expressions.is_vs_equality,
    "assignment_vs_equality": expressions.assignment_vs_equality,
    "missing_await": deleting.missing_await,
    "missing_break": deleting.missing_break,
    "wrong_attribute": operands.wrong_attribute,
    "wrong_recursive_argument": bounds.wrong_recursive_argument,
    "wrong_base_case": bounds.wrong_base_case,
    "and_or_swap": expressions.and_or_swap,
    "increment_swap": expressions.increment_swap,
    "extra_increment": inserting.extra_increment,
    "duplicated_statement": inserting.duplicated_statement,
    "duplicated_assignment": inserting.duplicated_assignment,
    "extra_break": inserting.extra_break,
    "reset_in_loop": inserting.reset_in_loop,
    "return_in_loop": inserting.return_in_loop,
}


def _collect_edits(f: FunctionSyntax, operators: Iterable[str] = OPERATORS) -> dict[str, list[Edit]]:
    found: dict[str, list[Edit]] = {}
    for name in operators:
        edits = []
        seen = set()
        for edit in _OPERATOR_FUNCTIONS[name](f):
            key = (edit.start, edit.end, edit.new)
            if key in seen or f.code[edit.start:edit.end] == edit.new:
                continue
            if edit.start < f.edit_floor:
                continue
            seen.add(key)
            edits.append(edit)
        if edits:
            found[name] = edits
    return found


def _validate(f: FunctionSyntax, edit: Edit, rng: random.Random) -> Mutant | None:
    mutant = edit.apply(f.code)
    if mutant == f.code:
        return None
    if parse(f.language, f.prefix + mutant + f.suffix).has_errors:
        return None
    if f.language == "python" and not compiles((f.python_prefix or "") + mutant):
        return None
    fix = line_fix(f.code, mutant)
    if fix is None:
        return None
    bug_lines, fix_line, replacement = fix
    note = _notes.note_for(edit.operator, edit.info, rng)
    return Mutant(edit.operator, mutant, bug_lines, fix_line, replacement, note, edit.info)


def candidate_mutants(language: str, code: str, operators: Iterable[str] = OPERATORS, seed: int = 0,
                      limit_per_operator: int | None = None) -> dict[str, list[Mutant]]:
    """Every valid mutant of a function, by operator (for tests and inspection)."""
    f = analyze(language, code)
    if f is None:
        return {}
    rng = random.Random(seed)
    result: dict[str, list[Mutant]] = {}
    for name, edits in _collect_edits(f, operators).items():
        mutants = []
        for edit in edits:
            mutant = _validate(f, edit, rng)
            if mutant is not None:
                mutants.append(mutant)
                if limit_per_operator is not None and len(mutants) >= limit_per_operator:
                    break
        if mutants:
            result[name] = mutants
    return result


# --- generation with balancing --------------------------------------------------------------------


class _Balance:
    """Running operator counts (overall) and buggy-minus-clean length drift (per language, so every
    language's subset stays balanced too)."""

    # Drift allowed before an edit that makes it worse is deprioritised; it grows with the number
    # of positives, keeping the mean length difference per example near zero (< 0.01 lines,
    # < 0.4 chars) while letting deleting and inserting operators both be used.
    CHAR_TOLERANCE = 60
    LINE_TOLERANCE = 3
    CHAR_TOLERANCE_PER_EXAMPLE = 0.4
    LINE_TOLERANCE_PER_EXAMPLE = 0.01

    def __init__(self, max_share: float):
        self.max_share = max_share
        self.counts: Counter[str] = Counter()
        self.total = 0
        self.drift: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # language -> [chars, lines, count]

    def allowed(self, operator: str) -> bool:
        return self.counts[operator] + 1 <= max(self.max_share * (self.total + 1), 8)

    def harmful(self, language: str, code: str, edit: Edit) -> int:
        chars, lines = edit.deltas(code)
        drift_chars, drift_lines, count = self.drift[language]
        line_tolerance = max(self.LINE_TOLERANCE, self.LINE_TOLERANCE_PER_EXAMPLE * count)
        char_tolerance = max(self.CHAR_TOLERANCE, self.CHAR_TOLERANCE_PER_EXAMPLE * count)
        harm = 0
        if abs(drift_lines + lines) > abs(drift_lines) and abs(drift_lines + lines) > line_tolerance:
            harm += 2
        if abs(drift_chars + chars) > abs(drift_chars) and abs(drift_chars + chars) > char_tolerance:
            harm += 1
        return harm

    def record(self, language: str, operator: str, original: str, mutant: str, sign: int = 1) -> None:
        self.counts[operator] += sign
        self.total += sign
        drift = self.drift[language]
        drift[0] += sign * (len(mutant) - len(original))
        drift[1] += sign * (mutant.count("\n") - original.count("\n"))
        drift[2] += sign

    def forget(self, language: str, operator: str, original: str, mutant: str) -> None:
        self.record(language, operator, original, mutant, sign=-1)


def mutate_function(f: FunctionSyntax, rng: random.Random, balance: _Balance | None = None,
                    count: int = 1, exclude: Iterable[str] = ()) -> list[Mutant]:
    """Up to `count` mutants of one function, each from a different operator."""
    balance = balance or _Balance(1.0)
    candidates = _collect_edits(f)
    used = set(exclude)
    mutants: list[Mutant] = []
    for _ in range(count):
        ranked = []
        for operator, edits in candidates.items():
            if operator in used or not balance.allowed(operator):
                continue
            rng.shuffle(edits)
            edits.sort(key=lambda e: balance.harmful(f.language, f.code, e))  # stable: random among ties
            harm = balance.harmful(f.language, f.code, edits[0])
            ranked.append((harm * 1_000_000 + balance.counts[operator] + rng.random(), operator))
        ranked.sort()
        chosen = None
        for _, operator in ranked:
            for edit in candidates[operator][:6]:
                chosen = _validate(f, edit, rng)
                if chosen is not None:
                    break
            if chosen is not None:
                break
        if chosen is None:
            break
        used.add(chosen.operator)
        balance.record(f.language, chosen.operator, f.code, chosen.code)
        mutants.append(chosen)
    return mutants


def make_defect_examples(functions: list[CorpusFunction], seed: int, per_function: int = 1,
                         max_share: float = MAX_OPERATOR_SHARE, exact: bool = True) -> list[DefectExample]:
    """One clean negative plus `per_function` mutated positives per function (sharing a `pair_id`),
    each positive from a different operator.

    Functions that admit no valid mutation are left out entirely, so buggy and clean examples come
    from the same functions. With `exact` (default) a function is used only if it admits
    `per_function` mutants: longer functions admit more, so letting them contribute more positives
    than short ones would make length predict the label (AUROC ~0.54 at 3 per function on the
    standard library); with `exact=False` a function contributes up to `per_function`."""
    order = list(range(len(functions)))
    random.Random(seed).shuffle(order)
    balance = _Balance(max_share)
    produced: dict[int, list[DefectExample]] = {}
    for index in order:
        function = functions[index]
        if function.language not in LANGUAGES:
            continue
        f = analyze(function.language, function.code)
        if f is None:
            continue
        rng = random.Random(f"{seed}:{function.id}")
        mutants = mutate_function(f, rng, balance, per_function)
        if mutants and exact and len(mutants) < per_function:
            for mutant in mutants:
                balance.forget(function.language, mutant.operator, function.code, mutant.code)
            mutants = []
        if not mutants:
            continue
        pair_id = stable_id("defect-pair", function.id, seed)
        common = {"project": function.project, "language": function.language, "split": function.split,
                  "pair_id": pair_id, "source": "mutation"}
        examples = [DefectExample(id=stable_id("defect", function.id, seed, "clean"), code=function.code, label=0,
                                  operator="clean", **common)]
        for number, mutant in enumerate(mutants):
            examples.append(DefectExample(
                id=stable_id("defect", function.id, seed, mutant.operator, number), code=mutant.code, label=1,
                bug_lines=mutant.bug_lines, fix_line=mutant.fix_line, fix_replacement=mutant.fix_replacement,
                operator=mutant.operator, note=mutant.note, **common))
        produced[index] = examples
    return [example for index in range(len(functions)) for example in produced.get(index, ())]


# --- artefact checks ------------------------------------------------------------------------------


def length_baseline_auc(examples: Iterable[DefectExample], unit: str = "chars") -> float:
    """AUROC of "the longer function is the buggy one" over buggy vs clean examples (0.5: length
    tells nothing). `unit`: "chars" or "lines"."""
    def size(code: str) -> float:
        return float(len(code)) if unit == "chars" else float(code.count("\n") + 1)

    examples = list(examples)
    buggy = [size(e.code) for e in examples if e.label == 1]
    clean = [size(e.code) for e in examples if e.label == 0]
    return auroc(buggy, clean) if buggy and clean else 0.5  # nothing to compare: length tells nothing


def operator_stats(examples: Iterable[DefectExample]) -> dict[str, dict[str, float]]:
    """Per operator: count, share of the positives, and mean char/line length change vs the clean
    counterpart (same pair_id). Key "_all" summarises all positives."""
    examples = list(examples)
    clean = {e.pair_id: e for e in examples if e.label == 0}
    positives = [e for e in examples if e.label == 1]
    groups: dict[str, list[DefectExample]] = defaultdict(list)
    for example in positives:
        groups[example.operator].append(example)
        groups["_all"].append(example)
    stats = {}
    for operator, group in sorted(groups.items()):
        char_deltas, line_deltas = [], []
        for example in group:
            base = clean.get(example.pair_id)
            if base is not None:
                char_deltas.append(len(example.code) - len(base.code))
                line_deltas.append(example.code.count("\n") - base.code.count("\n"))
        stats[operator] = {
            "count": len(group),
            "share": len(group) / max(1, len(positives)),
            "mean_char_delta": sum(char_deltas) / max(1, len(char_deltas)),
            "mean_line_delta": sum(line_deltas) / max(1, len(line_deltas)),
            "languages": len({e.language for e in group}),
        }
    return stats
