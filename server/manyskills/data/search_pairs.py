"""Code-search pairs from real code: the first sentence of a function's docstring / doc comment is
the query, the function without that documentation is the code (CodeSearchNet / AdvTest style).

`code_normalized` follows AdvTest: the function name becomes `func`, parameters `arg_0, arg_1, …`
and local variables `var_0, var_1, …` (found with the syntax tree, so attribute / field / keyword
names that merely share a spelling are left alone). Queries of fewer than 3 words, or that still
contain the function name verbatim (after dropping a Go-style leading "Name does …"), are dropped.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable

from manyskills.data.node_types import ECMA, NAMED_FUNCTION_TYPES, SELF_NAMES
from manyskills.data.records import CorpusFunction, SearchExample, stable_id
from manyskills.index.treesitter import SyntaxNode, parse

__all__ = [
    "clean_doc",
    "first_sentence",
    "make_search_examples",
    "normalize_code",
    "search_example",
    "split_doc",
]

log = logging.getLogger("manyskills.data.search_pairs")

_PARAM_CONTAINERS = {"parameters", "lambda_parameters", "formal_parameters", "parameter_list",
                     "closure_parameters"}
_IDENT_TYPES = {"identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"}
_KEEP_NAMES = SELF_NAMES | {"super", "arguments"}

# node type -> fields whose subtree binds local names
_LOCAL_BINDERS = {
    "assignment": ("left",),
    "augmented_assignment": ("left",),
    "for_statement": ("left",),
    "for_in_clause": ("left",),
    "named_expression": ("name",),
    "as_pattern": ("alias",),
    "variable_declarator": ("name",),
    "for_in_statement": ("left",),
    "catch_clause": ("parameter",),
    "enhanced_for_statement": ("name",),
    "catch_formal_parameter": ("name",),
    "resource": ("name",),
    "short_var_declaration": ("left",),
    "var_spec": ("name",),
    "range_clause": ("left",),
    "let_declaration": ("pattern",),
    "for_expression": ("pattern",),
    "let_condition": ("pattern",),
    "init_declarator": ("declarator",),
    "declaration": ("declarator",),
    "for_range_loop": ("declarator",),
}
_PATTERNISH = re.compile(r"pattern|splat|parameter|declarator|expression_list|pattern_list|tuple|list")


# --- documentation ---------------------------------------------------------------------------


def _outer_function(root: SyntaxNode, language: str) -> SyntaxNode | None:
    types = NAMED_FUNCTION_TYPES.get(language, frozenset())
    for node in root.walk(named_only=True):
        if node.type in types:
            return node
    return None


def _parse_function(language: str, code: str) -> tuple[SyntaxNode | None, int]:
    """(outermost function node, offset of `code` in the parsed text). Methods of JS/TS are parsed
    inside a wrapper class, since a bare method is not a valid program."""
    tree = parse(language, code)
    fn = _outer_function(tree.root, language)
    if (fn is None or tree.has_errors) and (language in ECMA or language == "java"):
        prefix = "class __W {\n"
        wrapped = parse(language, prefix + code + "\n}")
        wfn = _outer_function(wrapped.root, language)
        if wfn is not None and (fn is None or not wrapped.has_errors):
            return wfn, len(prefix)
    return fn, 0


def _python_docstring(code: str) -> tuple[str, str] | None:
    fn, _ = _parse_function("python", code)
    if fn is None:
        return None
    body = fn.child_by_field("body")
    if body is None or not body.named_children:
        return None
    first = body.named_children[0]
    if first.type != "expression_statement" or len(first.named_children) != 1 or first.named_children[0].type not in ("string", "concatenated_string"):
        return None
    if len(body.named_children) < 2:
        return None  # nothing left once the docstring is gone
    raw = first.named_children[0].text
    m = re.match(r"^[rRuUbBfF]*('''|\"\"\"|'|\")(.*)\1$", raw, re.DOTALL)
    doc = m.group(2) if m else raw
    lines = code.split("\n")
    s, e = first.start.line, first.end.line
    rest = "\n".join(lines[:s] + lines[e + 1:])
    return doc, rest


def _leading_comment(code: str) -> tuple[str, str] | None:
    lines = code.split("\n")
    i = 0
    doc_lines: list[str] = []
    stripped = lines[0].lstrip() if lines else ""
    if stripped.startswith(("/**", "/*!")):
        while i < len(lines):
            doc_lines.append(lines[i])
            if "*/" in lines[i]:
                i += 1
                break
            i += 1
        else:
            return None
        text = "\n".join(doc_lines)
        text = re.sub(r"^\s*/\*[*!]?", "", text)
        text = re.sub(r"\*/\s*$", "", text)
        text = "\n".join(re.sub(r"^\s*\*(?!/) ?", "", ln) for ln in text.split("\n"))
    elif stripped.startswith("//"):
        while i < len(lines) and lines[i].lstrip().startswith("//"):
            doc_lines.append(re.sub(r"^\s*//[/!]?\s?", "", lines[i]))
            i += 1
        text = "\n".join(doc_lines)
    else:
        return None
    rest = "\n".join(lines[i:])
    if not rest.strip():
        return None
    return text, rest


def split_doc(language: str, code: str) -> tuple[str, str] | None:
    """(documentation text, code without it), or None when the function is undocumented."""
    if language == "python":
        return _python_docstring(code)
    return _leading_comment(code)


def clean_doc(doc: str) -> str:
    doc = html.unescape(doc)
    doc = re.sub(r"\{@(?:link|linkplain|code|literal)\s+([^}]*)\}", r"\1", doc)
    doc = re.sub(r"</?[A-Za-z][^>]*>", " ", doc)
    doc = re.sub(r":[a-z]+:`~?([^`]*)`", r"\1", doc)
    doc = doc.replace("``", "").replace("`", "")
    return doc


def first_sentence(doc: str) -> str:
    """First sentence of the first paragraph, before any @tag / Args: section."""
    text = clean_doc(doc).strip()
    para = re.split(r"\n\s*\n", text, maxsplit=1)[0]
    keep = []
    for ln in para.split("\n"):
        if re.match(r"^\s*(@\w+|:param|:return|Args:|Arguments:|Returns:|Raises:|Parameters\b|Example)", ln):
            break
        keep.append(ln.strip())
    para = " ".join(k for k in keep if k)
    para = re.sub(r"\s+", " ", para).strip()
    m = re.search(r"(?<=[.!?])\s+(?=[A-Z(\"'`])", para)
    sentence = para[: m.start()] if m else para
    return sentence.strip().rstrip(".").strip()


# --- AdvTest normalisation ------------------------------------------------------------------


def _pattern_names(node: SyntaxNode | None) -> list[SyntaxNode]:
    if node is None:
        return []
    if node.type in _IDENT_TYPES:
        return [node]
    if node.type == "pair_pattern":
        return _pattern_names(node.child_by_field("value"))
    if node.type == "assignment_pattern":
        return _pattern_names(node.child_by_field("left"))
    for fld in ("name", "pattern", "declarator"):
        kids = node.children_by_field(fld)
        if kids:
            out: list[SyntaxNode] = []
            for k in kids:
                out.extend(_pattern_names(k))
            return out
    if node.type in ("default_parameter", "typed_default_parameter", "keyword_argument"):
        return _pattern_names(node.child_by_field("name"))
    if _PATTERNISH.search(node.type):
        skip = {k.key for f in ("type", "value", "default") for k in node.children_by_field(f)}
        out = []
        for c in node.named_children:
            if c.key in skip or c.type in ("type", "type_annotation"):
                continue
            out.extend(_pattern_names(c))
        return out
    return []


def _function_name_node(fn: SyntaxNode) -> SyntaxNode | None:
    name = fn.child_by_field("name")
    if name is not None:
        return name
    decl = fn.child_by_field("declarator")
    while decl is not None:
        if decl.type in ("identifier", "field_identifier"):
            return decl
        if decl.type in ("qualified_identifier", "destructor_name", "operator_name"):
            inner = decl.child_by_field("name")
            if inner is not None and inner.type in ("identifier", "field_identifier"):
                return inner
            return None
        decl = decl.child_by_field("declarator")
    parent = fn.parent
    if parent is not None and parent.type == "variable_declarator":
        return parent.child_by_field("name")
    return None


def _is_member_name(node: SyntaxNode) -> bool:
    """An identifier that names an attribute / field / keyword, not a variable."""
    parent = node.parent
    if parent is None:
        return False
    for ptype, fld in (("attribute", "attribute"), ("keyword_argument", "name"), ("field_access", "field"),
                       ("method_invocation", "name"), ("pair", "key")):
        if parent.type == ptype:
            target = parent.child_by_field(fld)
            if target is not None and target.key == node.key:
                return True
    return False


def normalize_code(language: str, code: str) -> str:
    """AdvTest-style normalisation (see module docstring); the code unchanged if it cannot be parsed."""
    try:
        fn, shift = _parse_function(language, code)
    except Exception:  # noqa: BLE001
        return code
    if fn is None:
        return code
    name_node = _function_name_node(fn)
    fname = name_node.text if name_node is not None else None
    params: dict[str, str] = {}
    locals_: dict[str, str] = {}
    for node in fn.walk(named_only=True):
        if node.type in _PARAM_CONTAINERS:
            # only parameter lists of this function or nested lambdas/closures count
            for ident in _pattern_names_container(node):
                t = ident.text
                if t not in params and t not in _KEEP_NAMES and t != fname:
                    params[t] = f"arg_{len(params)}"
        fields = _LOCAL_BINDERS.get(node.type)
        if fields:
            for fld in fields:
                for child in node.children_by_field(fld):
                    for ident in _pattern_names(child):
                        t = ident.text
                        if t not in params and t not in locals_ and t not in _KEEP_NAMES and t != fname:
                            locals_[t] = f"var_{len(locals_)}"
    mapping = {**locals_, **params}
    edits: list[tuple[int, int, str]] = []
    if name_node is not None:
        edits.append((name_node.start_offset, name_node.end_offset, "func"))
    for node in fn.walk(named_only=True):
        if node.type not in _IDENT_TYPES or (name_node is not None and node.key == name_node.key):
            continue
        t = node.text
        if t == fname and not _is_member_name(node):
            edits.append((node.start_offset, node.end_offset, "func"))
        elif t in mapping and not _is_member_name(node):
            rep = mapping[t]
            if node.type in ("shorthand_property_identifier", "shorthand_property_identifier_pattern"):
                rep = f"{t}: {rep}"
            edits.append((node.start_offset, node.end_offset, rep))
    text = fn.tree.text
    out = []
    pos = 0
    for s, e, rep in sorted(set(edits)):
        if s < pos:
            continue
        out.append(text[pos:s])
        out.append(rep)
        pos = e
    out.append(text[pos:])
    result = "".join(out)
    if shift:
        result = result[shift: len(result) - 2]  # drop "class __W {\n" and "\n}"
    return result


def _pattern_names_container(node: SyntaxNode) -> list[SyntaxNode]:
    out: list[SyntaxNode] = []
    for child in node.named_children:
        if child.type in ("self_parameter", "comment", "variadic_parameter"):
            continue
        out.extend(_pattern_names(child))
    return out


# --- examples ----------------------------------------------------------------------------------


def _simple_name(qualified: str) -> str:
    return re.split(r"[.:]", qualified)[-1] if qualified else ""


def search_example(fn: CorpusFunction, min_words: int = 3) -> SearchExample | None:
    try:
        found = split_doc(fn.language, fn.code)
    except Exception:  # noqa: BLE001
        return None
    if not found:
        return None
    doc, code = found
    query = first_sentence(doc)
    name = _simple_name(fn.qualified_name)
    if name and query.split(" ", 1)[0] == name:  # Go / Javadoc convention: "Name does …"
        query = query.split(" ", 1)[1] if " " in query else ""
        query = query[:1].upper() + query[1:]
    if len(query.split()) < min_words or len(query) > 300:
        return None
    if name and re.search(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", query):
        return None
    code = code.strip("\n")
    if not code.strip():
        return None
    return SearchExample(
        id=stable_id("search", fn.id),
        project=fn.project,
        language=fn.language,
        split=fn.split,
        query=query,
        code=code,
        code_normalized=normalize_code(fn.language, code),
    )


def make_search_examples(functions: Iterable[CorpusFunction]) -> list[SearchExample]:
    out = []
    for fn in functions:
        if fn.is_test:
            continue
        ex = search_example(fn)
        if ex is not None:
            out.append(ex)
    return out
