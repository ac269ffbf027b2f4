"""The `rename` clone rewrite: consistent renaming of 1-3 parameters/locals to natural alternatives
(`result` -> `res`, `index` -> `idx`, `userName` -> `userNm`, ...), never onto a name the function
already uses, a keyword, `self`/`this`, or a name spelled inside a format string.

`rename_candidates(name)` gives the natural spellings, most natural first; `fallback_names(name)`
the less natural ones used only when none of those is free.
"""

from __future__ import annotations

import random
import re

from manyskills.data.node_types import KEYWORDS, SELF_NAMES, STRING_TYPES
from manyskills.data.syntax import FunctionSyntax, apply_edits

__all__ = ["fallback_names", "rename", "rename_candidates", "used_words"]

_SYNONYMS = {
    "result": ["res", "out", "output", "ret"], "res": ["result", "out"], "ret": ["result", "rv"],
    "out": ["result", "output"], "output": ["out", "result"], "value": ["val", "v"], "val": ["value", "v"],
    "values": ["vals", "items"], "items": ["elems", "entries"], "item": ["elem", "entry"],
    "elem": ["item", "element"], "element": ["elem", "item"], "entry": ["item", "record"],
    "index": ["idx", "pos"], "idx": ["index", "pos"], "pos": ["position", "idx"], "i": ["j", "k", "ii"],
    "j": ["k", "jj"], "k": ["m", "kk"], "n": ["num", "count"], "count": ["cnt", "num"], "cnt": ["count", "num"],
    "num": ["n", "number"], "total": ["acc", "sum_total"], "acc": ["total", "accum"], "text": ["txt", "s"],
    "s": ["text", "string"], "string": ["s", "text"], "line": ["ln", "row"], "lines": ["rows", "line_list"],
    "name": ["nm", "label"], "names": ["labels", "name_list"], "key": ["k", "name"], "keys": ["names", "key_list"],
    "data": ["payload", "content"], "buf": ["buffer", "chunk"], "buffer": ["buf", "chunk"], "x": ["a", "xv"],
    "y": ["b", "yv"], "path": ["p", "file_path"], "filename": ["fname", "file_name"], "file": ["fh", "fp"],
    "f": ["fh", "fp"], "msg": ["message", "text"], "message": ["msg", "text"], "err": ["error", "e"],
    "error": ["err", "exc"], "e": ["exc", "err"], "exc": ["e", "err"], "obj": ["o", "target"],
    "node": ["nd", "current"], "parts": ["pieces", "chunks"], "part": ["piece", "chunk"], "args": ["arguments", "argv"],
    "start": ["begin", "lo"], "end": ["stop", "hi"], "lo": ["low", "left"], "hi": ["high", "right"],
    "low": ["lo", "left"], "high": ["hi", "right"], "left": ["lo", "l"], "right": ["hi", "r"],
    "size": ["length", "sz"], "length": ["size", "len_"], "first": ["head", "initial"], "last": ["tail", "final"],
    "prev": ["previous", "before"], "cur": ["current", "curr"], "current": ["cur", "curr"], "tmp": ["temp", "t"],
    "temp": ["tmp", "t"], "flag": ["ok", "cond"], "found": ["hit", "matched"], "match": ["m", "hit"],
    "m": ["match", "mo"], "word": ["token", "w"], "words": ["tokens", "word_list"], "token": ["tok", "word"],
    "c": ["ch", "char"], "ch": ["c", "char"], "char": ["ch", "c"], "seen": ["visited", "done"],
    "queue": ["q", "pending"], "stack": ["stk", "pending"], "lst": ["items", "seq"], "seq": ["sequence", "items"],
    "mid": ["middle", "m"], "step": ["stride", "inc"], "target": ["goal", "wanted"], "response": ["resp", "reply"],
    "resp": ["response", "reply"], "request": ["req", "query"], "req": ["request", "query"], "config": ["cfg", "conf"],
    "options": ["opts", "settings"], "opts": ["options", "settings"], "ctx": ["context", "env"], "url": ["uri", "link"],
    "offset": ["off", "shift"], "width": ["w", "cols"], "height": ["h", "rows_"], "level": ["depth", "lvl"],
    "depth": ["level", "lvl"], "state": ["st", "status"], "mode": ["kind", "how"], "kind": ["type_", "sort"],
    "source": ["src", "origin"], "src": ["source", "origin"], "dest": ["dst", "target"], "dst": ["dest", "target"],
}
_ABBREVIATIONS = {
    "number": "num", "index": "idx", "value": "val", "length": "len", "count": "cnt", "string": "str",
    "message": "msg", "buffer": "buf", "config": "cfg", "element": "elem", "temporary": "tmp", "result": "res",
    "response": "resp", "request": "req", "position": "pos", "character": "ch", "directory": "dir",
    "source": "src", "destination": "dst", "previous": "prev", "current": "cur", "maximum": "max",
    "minimum": "min", "argument": "arg", "arguments": "args", "parameter": "param", "parameters": "params",
    "object": "obj", "context": "ctx", "error": "err", "exception": "exc", "document": "doc",
    "reference": "ref", "attribute": "attr", "attributes": "attrs", "callback": "cb", "function": "func",
    "iterator": "it", "counter": "ctr", "address": "addr", "allocation": "alloc", "command": "cmd",
    "format": "fmt", "information": "info", "initial": "init", "library": "lib", "package": "pkg",
    "pointer": "ptr", "second": "sec", "specification": "spec", "statistics": "stats", "total": "tot",
    "window": "win", "output": "out", "input": "inp", "name": "nm", "list": "lst", "file": "fh",
    "line": "ln", "text": "txt", "node": "nd", "item": "it", "items": "its", "key": "k", "data": "dat",
}
_EXPANSIONS = {short: long for long, short in _ABBREVIATIONS.items()}


def _split_name(name: str) -> tuple[list[str], str]:
    """(lower-case parts, style) with style "snake", "camel", "pascal" or "upper"."""
    if "_" in name.strip("_") or name.islower():
        parts = [p for p in name.split("_") if p]
        return [p.lower() for p in parts], "upper" if name.isupper() else "snake"
    parts = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)
    if not parts:
        return [name], "snake"
    return [p.lower() for p in parts], "pascal" if name[0].isupper() else "camel"


def _join_name(parts: list[str], style: str, original: str) -> str:
    lead = original[: len(original) - len(original.lstrip("_"))]
    if style == "snake":
        return lead + "_".join(parts)
    if style == "upper":
        return lead + "_".join(parts).upper()
    text = "".join(p.capitalize() for p in parts)
    return lead + (text if style == "pascal" else text[:1].lower() + text[1:])


def rename_candidates(name: str) -> list[str]:
    """Natural alternative spellings of a variable name, most natural first."""
    out: list[str] = []
    out.extend(_SYNONYMS.get(name, []))
    parts, style = _split_name(name)
    for i, part in enumerate(parts):
        for table in (_ABBREVIATIONS, _EXPANSIONS):
            if part in table:
                out.append(_join_name(parts[:i] + [table[part]] + parts[i + 1:], style, name))
        if part in _SYNONYMS and len(parts) > 1:
            for synonym in _SYNONYMS[part][:2]:
                if "_" not in synonym:
                    out.append(_join_name(parts[:i] + [synonym] + parts[i + 1:], style, name))
    if len(parts) > 1:
        out.append(_join_name(parts[1:], style, name) if len(parts[-1]) > 2 else _join_name(parts[:-1], style, name))
        out.append(_join_name(parts[:-1], style, name))
    if len(name) == 1 and name.isalpha():
        out.extend(c for c in "ijkmnpqrtuvwxyz" if c != name)
    return _unique(name, out)


def fallback_names(name: str) -> list[str]:
    """Less natural spellings, used only when no `rename_candidates` entry is free."""
    parts, style = _split_name(name)
    return _unique(name, [_join_name(parts + ["val" if style == "snake" else "value"], style, name), name + "2"])


def _unique(name: str, candidates: list[str]) -> list[str]:
    seen, unique = {name}, []
    for candidate in candidates:
        if candidate not in seen and re.fullmatch(r"[A-Za-z_]\w*", candidate):
            seen.add(candidate)
            unique.append(candidate)
    return unique


def used_words(code: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", code))


def rename(f: FunctionSyntax, rng: random.Random) -> tuple[str, dict] | None:
    if re.search(r"\b(locals|vars|eval|exec)\s*\(", f.code) and f.language == "python":
        return None
    bindings, _, occurrences, unsafe = f.variables()
    used = used_words(f.code)
    strings = [f.text(n) for n in f.nodes if n.type in STRING_TYPES]
    names = [n for n in sorted(bindings) if n not in unsafe and n not in SELF_NAMES and n not in KEYWORDS
             and not n.startswith("__") and n in occurrences and not _named_in_format(f.language, n, strings)]
    if not names:
        return None
    rng.shuffle(names)
    chosen = names[: rng.randint(1, min(3, len(names)))]
    edits: list[tuple[int, int, str]] = []
    mapping = {}
    for name in chosen:
        def free(candidates: list[str]) -> list[str]:
            return [c for c in candidates if c not in used and c not in KEYWORDS and c not in mapping.values()]

        options = free(rename_candidates(name)) or free(fallback_names(name))
        if not options:
            continue
        new = options[0] if rng.random() < 0.6 else rng.choice(options[:3])
        mapping[name] = new
        for node in occurrences[name]:
            start, end = f.span(node)
            edits.append((start, end, new))
    if not edits:
        return None
    return apply_edits(f.code, edits), {"renamed": mapping}


def _named_in_format(language: str, name: str, strings: list[str]) -> bool:
    """Is the name spelled inside a string where renaming would change behaviour (Rust inline
    format arguments `"{x}"`, Python self-documenting f-strings `f"{x=}"`)?"""
    if language == "rust":
        pattern = r"\{" + re.escape(name) + r"[:}]"
    elif language == "python":
        pattern = r"\{" + re.escape(name) + r"\s*="
    else:
        return False
    return any(re.search(pattern, text) for text in strings)
