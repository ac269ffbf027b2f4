"""Reviewer-style notes for injected bugs: one sentence naming the concrete code involved.

`note_for(operator, info, rng)` picks one of several phrasings for the operator (and, where the
operator has several flavours, for `info["kind"]`) with the caller's seeded RNG, and fills it from
`info` (what the mutation recorded: `bad`/`good` operators or names, `bad_expr`/`good_expr`
snippets, variables, ...). Templates whose fields are missing are skipped; every operator has a
generic fallback, so a note is always produced. "bad" is what the buggy code says, "good" what it
should say.
"""

from __future__ import annotations

import random
import string

__all__ = ["TEMPLATES", "note_for"]

# operator or "operator/kind" -> phrasings
TEMPLATES: dict[str, list[str]] = {
    "wrong_binary_operator": [
        "`{bad_expr}` uses `{bad}` where `{good}` is needed, so the computed value is wrong; it should be `{good_expr}`.",
        "The arithmetic in `{bad_expr}` is wrong: the operator should be `{good}`, not `{bad}`.",
        "`{bad}` in `{bad_expr}` should be `{good}`; as written the result is off.",
        "This computes `{bad_expr}`, but the intended expression is `{good_expr}`.",
    ],
    "wrong_comparison": [
        "The comparison `{bad_expr}` uses `{bad}` but should use `{good}`, so the condition holds in the wrong cases.",
        "`{bad_expr}` tests the wrong relation between `{left}` and `{right}`; it should be `{good_expr}`.",
        "Comparing with `{bad}` here inverts or widens the check; `{good_expr}` is what the logic needs.",
    ],
    "off_by_one/loop_bound": [
        "The loop bound uses `{bad}` so `{var}` {overrun}; it should be `{good}`.",
        "`{bad_expr}` makes the loop run one iteration {too}; the condition should be `{good_expr}`.",
        "Off-by-one in the loop condition: `{var} {bad} {bound}` should be `{var} {good} {bound}`.",
    ],
    "off_by_one/range": [
        "`{bad_expr}` is off by one: it should be `{good_expr}`.",
        "The range `{bad_expr}` covers one element too many or too few; use `{good_expr}`.",
        "Off-by-one in the range bound: `{bad}` should be `{good}`.",
    ],
    "off_by_one/index": [
        "The index in `{bad_expr}` is off by one and reads the neighbouring element; it should be `{good_expr}`.",
        "`{bad_expr}` uses `{bad}` as the position, one away from the intended `{good}`.",
        "Off-by-one index: `{bad_expr}` should be `{good_expr}`, otherwise the wrong element (or one past the end) is used.",
    ],
    "off_by_one/length": [
        "`{bad_expr}` is one past the last valid index; it should be `{good_expr}`.",
        "Using `{bad_expr}` here is off by one; the code needs `{good_expr}`.",
        "The bound `{bad_expr}` should be `{good_expr}`: the length is one more than the last index.",
    ],
    "off_by_one": [
        "`{bad_expr}` is off by one; it should be `{good_expr}`.",
        "Off-by-one: `{bad_expr}` should read `{good_expr}`.",
    ],
    "negated_condition/added": [
        "The condition `{bad_expr}` is inverted, so the branch runs exactly when it should not; it should be `{good_expr}`.",
        "This `{statement}` tests `{bad_expr}` but the logic requires `{good_expr}`; the negation is wrong.",
        "The negation in `{bad_expr}` flips the check; drop it and test `{good_expr}`.",
    ],
    "negated_condition/removed": [
        "The condition should be `{good_expr}`; testing `{bad_expr}` runs the branch in the opposite case.",
        "A negation is missing: `{bad_expr}` should be `{good_expr}`.",
        "`{statement} {bad_expr}` has the logic backwards; the check needs to be `{good_expr}`.",
    ],
    "swapped_branches": [
        "The two branches of `{bad_expr}` are swapped: `{second}` is chosen when `{cond}` holds, but it should be `{first}`.",
        "`{bad_expr}` picks the values the wrong way round; it should be `{good_expr}`.",
        "The true and false arms are exchanged here, so `{cond}` selects the wrong value; expected `{good_expr}`.",
    ],
    "swapped_arguments": [
        "The arguments `{second}` and `{first}` to `{callee}` are passed in the wrong order; it should be `{good_expr}`.",
        "`{bad_expr}` swaps `{first}` and `{second}`; `{callee}` expects `{first}` first.",
        "Argument order is reversed in the call to `{callee}`: `{second}` and `{first}` need to be exchanged.",
    ],
    "variable_misuse": [
        "`{bad}` is used here but `{good}` was meant; the line `{bad_line}` reads the wrong variable.",
        "This uses `{bad}` where `{good}` is needed, so the wrong value flows into `{bad_line}`.",
        "Wrong variable: `{bad}` should be `{good}` in `{bad_line}`.",
        "`{bad_line}` refers to `{bad}`, but the value it needs is in `{good}`.",
    ],
    "wrong_literal": [
        "The constant in `{bad_expr}` is wrong: `{bad}` should be `{good}`.",
        "`{bad_expr}` uses `{bad}` where `{good}` is intended; it should be `{good_expr}`.",
        "`{bad}` here should be `{good}`, otherwise `{bad_expr}` produces the wrong result.",
    ],
    "removed_check/guard": [
        "The guard `{cond}` (followed by `{jump}`) is missing here, so the code below runs on input it cannot handle.",
        "Nothing checks `{cond}` before continuing; the early `{jump}` for that case is missing.",
        "A check is missing: when `{cond}` holds the function should `{jump}` instead of carrying on.",
    ],
    "removed_check/conjunct": [
        "The condition `{bad_expr}` no longer checks `{check}`, so it can act on invalid values; it should be `{good_expr}`.",
        "`{check}` was dropped from the condition; `{bad_expr}` should be `{good_expr}`.",
        "Missing check `{check}` in `{bad_expr}`; without it the branch runs in cases it must skip.",
    ],
    "removed_check": [
        "A check is missing here, so the code proceeds on values it does not handle.",
    ],
    "wrong_return_value/variable": [
        "`{bad_name}` is returned but `{function}` computed `{good_name}` for this; the function returns the wrong value.",
        "The function returns `{bad_name}` instead of `{good_name}`.",
        "`return {bad}` should be `return {good}`; the result that was built is discarded.",
    ],
    "wrong_return_value/literal": [
        "`{function}` returns `{bad}` here but should return `{good}`.",
        "The returned value `{bad}` is wrong in this case; it should be `{good}`.",
        "`return {bad}` reports the opposite result; it should be `return {good}`.",
    ],
    "wrong_return_value": [
        "The function returns `{bad}` here but should return `{good}`.",
    ],
    "is_vs_equality": [
        "`{bad_expr}` uses `{bad}` where `{good}` is needed: identity and equality differ for these values.",
        "Comparing with `{bad}` in `{bad_expr}` checks the wrong thing; it should be `{good_expr}`.",
        "`{bad}` should be `{good}` here; `{bad_expr}` can be false for equal values (or true for different ones).",
    ],
    "assignment_vs_equality/assign_in_condition": [
        "`{bad_expr}` assigns instead of comparing, so the condition is always the assigned value; it should be `{good_expr}`.",
        "The condition uses `=` where `{good}` was meant: `{bad_expr}` overwrites the variable.",
        "Assignment inside the condition: `{bad_expr}` should be `{good_expr}`.",
    ],
    "assignment_vs_equality/comparison_statement": [
        "`{bad_expr}` compares and discards the result; the assignment `{good_expr}` never happens.",
        "This statement uses `==` where `=` is needed, so `{good_expr}` is never stored.",
        "`{bad_expr}` has no effect; it should be the assignment `{good_expr}`.",
    ],
    "assignment_vs_equality": [
        "`{bad_expr}` should be `{good_expr}`.",
    ],
    "missing_await": [
        "`{expr}` is not awaited, so the code continues with a pending coroutine/promise instead of its result.",
        "Missing `await` before `{expr}`: the result is used before the operation completes.",
        "The call `{expr}` returns an awaitable that is never awaited here.",
    ],
    "missing_break/switch": [
        "The `break` at the end of `{context}` is missing, so execution falls through into the next case.",
        "`{context}` falls through to the following case because its `break` is missing.",
        "Missing `break` after the `{context}` branch; the next case's code runs as well.",
    ],
    "missing_break/loop": [
        "The loop `{context}` no longer stops once the match is found; a `break` is missing here.",
        "Missing `break`: `{context}` keeps iterating after the case it should stop at, and later iterations overwrite the result.",
        "Without the `break` here, `{context}` runs to the end instead of exiting early.",
    ],
    "wrong_attribute/attribute": [
        "`{bad_expr}` reads `{bad}` but `{good}` is the field meant here.",
        "Wrong field: `{bad_expr}` should be `{good_expr}`.",
        "This uses `{bad}` where `{good}` is needed, so `{bad_expr}` picks up the wrong value.",
    ],
    "wrong_attribute/method": [
        "`{bad_expr}` calls `{bad}` but `{good}` is the method needed here.",
        "Wrong method: `{bad}` is called on `{object}` where `{good}` was intended.",
        "This calls `{bad}` instead of `{good}`, so `{bad_expr}` does the wrong operation.",
    ],
    "wrong_recursive_argument": [
        "The recursive call `{bad_expr}` passes `{bad}` instead of `{good}`, so the recursion does not make the right progress.",
        "`{function}` recurses with `{bad}`; it should be `{good}`, otherwise it skips cases or never reaches the base case.",
        "Wrong argument in the recursive call: `{bad_expr}` should be `{good_expr}`.",
    ],
    "wrong_base_case": [
        "The base case `{bad_expr}` is wrong: `{returned}` should happen when `{good_expr}`.",
        "`{bad_expr}` takes the early exit at the wrong boundary; the condition should be `{good_expr}`.",
        "The early exit tests `{bad_expr}` but the boundary case is `{good_expr}`.",
    ],
    "and_or_swap": [
        "`{bad_expr}` joins the conditions with `{bad}`; they must be joined with `{good}`.",
        "The logical operator in `{bad_expr}` should be `{good}`, not `{bad}`.",
        "Using `{bad}` in `{bad_expr}` makes the check too strict or too loose; it should be `{good_expr}`.",
    ],
    "increment_swap": [
        "`{bad_expr}` moves `{var}` in the wrong direction; it should be `{good_expr}`.",
        "`{var}` is updated with `{bad}` but needs `{good}`.",
        "The update `{bad_expr}` should be `{good_expr}`; as written `{var}` goes the wrong way.",
    ],
    "extra_increment/shift": [
        "`{stmt}` shifts the loop variable `{var}` by one, so the body works on the wrong index.",
        "The extra `{stmt}` at the top of the loop makes every use of `{var}` below off by one.",
        "`{var}` is already set by the loop; incrementing it with `{stmt}` here skews the index used by the body.",
    ],
    "extra_increment": [
        "`{var}` is advanced an extra time by `{stmt}` here, so elements are skipped.",
        "The added `{stmt}` increments `{var}` twice per iteration.",
        "`{stmt}` here double-counts: `{var}` is already advanced by the loop.",
    ],
    "duplicated_statement": [
        "`{stmt}` is executed twice in a row, so its effect is applied twice.",
        "This duplicates `{stmt}`; the second copy double-counts.",
        "The statement `{stmt}` is repeated, applying the update twice.",
    ],
    "duplicated_assignment": [
        "The extra line `{stmt}` overwrites `{target}` using `{bad}` instead of `{good}`.",
        "`{stmt}` is a leftover copy of the previous assignment: it recomputes `{target}` from `{bad}` and discards the correct value.",
        "`{target}` is assigned twice; the second assignment `{stmt}` reads `{bad}` where `{good}` was meant.",
    ],
    "extra_break": [
        "The `break` here stops `{loop}` at the first element where `{cond}` holds, so later elements are never considered.",
        "`{loop}` exits too early: this `break` after `{cond}` skips the remaining iterations.",
        "An unintended `break` in the `{cond}` branch ends the loop prematurely.",
    ],
    "reset_in_loop": [
        "`{var}` is reset to `{value}` on every iteration of `{loop}`, so only the last iteration's work survives.",
        "Re-initialising `{var} = {value}` inside the loop discards what earlier iterations accumulated.",
        "`{var}` should be initialised once before `{loop}`, not reset to `{value}` each time round.",
    ],
    "return_in_loop": [
        "`{ret}` is inside `{loop}`, so the function returns after the first iteration.",
        "The `{ret}` belongs after the loop; here it exits during the first pass of `{loop}`.",
        "Returning from within `{loop}` stops the iteration early; `{ret}` should come after the loop.",
    ],
}

_FALLBACK = "This line introduces a bug ({operator})."


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def note_for(operator: str, info: dict, rng: random.Random) -> str:
    """One reviewer-style sentence about a bug made by `operator`, filled from `info`."""
    values = {k: str(v) for k, v in info.items() if v not in (None, "")}
    values.setdefault("operator", operator.replace("_", " "))
    if "line_text" in values:
        values.setdefault("bad_line", values["line_text"])
    if operator == "off_by_one" and info.get("kind") == "loop_bound":
        more = info.get("bad") in ("<=", ">=")
        values["overrun"] = ("reaches `{}` and goes one step too far".format(info.get("bound", "the bound"))
                             if more else "stops one step before `{}`".format(info.get("bound", "the bound")))
        values["too"] = "too many" if more else "too few"
    keys = [f"{operator}/{info.get('kind')}", operator] if info.get("kind") else [operator]
    for key in keys:
        usable = [t for t in TEMPLATES.get(key, ()) if all(name in values for name in _fields(t))]
        if usable:
            return rng.choice(usable).format_map(_Fields(values))
    return _FALLBACK.format(operator=values["operator"])
