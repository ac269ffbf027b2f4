"""Round planning: how a scan feeds functions to the model.

A scan sends its functions in rounds of `FUNCTIONS_PER_ROUND`, in file order: enough to fill the
engine's forward passes, few enough that cancellation and progress are prompt. Inside a round a
function goes to the model only once per content (the first of equal texts), and not at all when its
result is already known (the result cache, or an earlier round of the same scan). The local scan
(scan.py + Analyzer.cached) and the Ray scan (service/distributed.py) both plan with these functions,
so a scan makes the same model calls wherever it runs.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence

from manyskills.index.types import FunctionInfo

FUNCTIONS_PER_ROUND = 64  # enough to fill batches, small enough for prompt cancellation and progress


def split_rounds(functions: Sequence[FunctionInfo], size: int = FUNCTIONS_PER_ROUND) -> list[list[FunctionInfo]]:
    """Consecutive rounds of `size` functions (the last may be shorter), in the given order."""
    return [list(functions[start:start + size]) for start in range(0, len(functions), size)]


def unique_by_content(functions: Iterable[FunctionInfo], known: Container[str] = ()) -> list[FunctionInfo]:
    """The first function of each content hash, in order, leaving out hashes in `known`."""
    chosen: dict[str, FunctionInfo] = {}
    for function in functions:
        if function.content_hash not in known and function.content_hash not in chosen:
            chosen[function.content_hash] = function
    return list(chosen.values())


def plan_rounds(functions: Sequence[FunctionInfo], known: Iterable[str] = ()) -> list[list[FunctionInfo]]:
    """The functions each round of a local scan sends to the model when nothing is cached but `known`:
    a function sent in an earlier round is a cache hit by then; rounds left empty are dropped."""
    seen = set(known)
    planned = []
    for round_functions in split_rounds(functions):
        misses = unique_by_content(round_functions, seen)
        seen.update(function.content_hash for function in misses)
        if misses:
            planned.append(misses)
    return planned
