"""`manyskills: ignore` comments, honoured identically by the server and the CLI.

A comment in the language's own line-comment syntax, on the flagged line or on the first line of the
function (any line from its start to its signature), suppresses all skills, or only those listed:
`# manyskills: ignore[defect]`, `// manyskills: ignore[clone, flaky]`.
"""

from __future__ import annotations

import re

from manyskills.index.types import FunctionInfo

_DIRECTIVE = re.compile(r"manyskills:\s*ignore(?:\[(?P<skills>[a-z,\s]*)\])?", re.IGNORECASE)


def _line_suppresses(line: str, comment_prefix: str, skill: str) -> bool:
    at = line.find(comment_prefix)
    while at != -1:
        match = _DIRECTIVE.search(line, at + len(comment_prefix))
        if match and line[at + len(comment_prefix): match.start()].strip() == "":
            listed = match.group("skills")
            if listed is None:
                return True
            return skill in {s.strip().lower() for s in listed.split(",")}
        at = line.find(comment_prefix, at + 1)
    return False


def is_suppressed(lines: list[str], function: FunctionInfo, flagged_line: int, skill: str, comment_prefix: str) -> bool:
    """`lines` are the document's lines; `flagged_line` is a document line."""
    header_end = function.body_start_line if function.body_start_line >= 0 else function.span.start.line
    candidates = {flagged_line, *range(function.span.start.line, max(header_end, function.span.start.line) + 1)}
    return any(0 <= n < len(lines) and _line_suppresses(lines[n], comment_prefix, skill) for n in candidates)


def suppression_comment(comment_prefix: str, skill: str) -> str:
    return f"  {comment_prefix} manyskills: ignore[{skill}]"
