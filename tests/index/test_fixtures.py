"""Each fixture's functions, exactly: (qualified_name, kind, start line, end line, is_test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from manyskills.index.functions import index_functions
from manyskills.index.languages import LANGUAGES, language_for_path
from manyskills.index.treesitter import parse

FIXTURES = Path(__file__).parent.parent / "fixtures" / "index"

EXPECTED = {
    "c/ringbuf.c": [
        ('ring_new', 'function', 12, 20, False),
        ('ring_push', 'function', 22, 31, False),
        ('ring_size', 'function', 35, 35, False),
        ('split_words', 'function', 37, 42, False),
        ('broken', 'function', 44, 47, False),
        ('main', 'function', 49, 54, False),
    ],
    "cpp/matrix.cpp": [
        ('linalg.Matrix.Matrix', 'constructor', 8, 8, False),
        ('linalg.Matrix.at', 'method', 11, 11, False),
        ('linalg.Matrix.transpose', 'method', 20, 29, False),
        ('linalg.Matrix.transpose.copy', 'lambda', 25, 25, False),
        ('linalg.Matrix.operator+=', 'method', 31, 35, False),
        ('linalg.clamp', 'function', 37, 40, False),
        ('Point.norm2', 'method', 46, 46, False),
        ('broken', 'function', 49, 51, False),
        ('main', 'function', 53, 57, False),
        ('main.square', 'lambda', 55, 55, False),
        ('MatrixTest.TransposeSwapsShape', 'function', 59, 62, True),
    ],
    "go/server.go": [
        ('NewServer', 'function', 14, 17, False),
        ('Server.Get', 'method', 19, 26, False),
        ('Server.Handler', 'method', 28, 36, False),
        ('Server.Handler.respond', 'lambda', 29, 31, False),
        ('Stack.Push', 'method', 40, 40, False),
        ('defaultKey', 'lambda', 42, 42, False),
        ('broken', 'function', 44, 46, False),
        ('TestGet', 'function', 48, 53, True),
        ('BenchmarkGet', 'function', 55, 60, False),
    ],
    "java/OrderService.java": [
        ('OrderService.priceOf', 'lambda', 12, 12, False),
        ('OrderService.OrderService', 'constructor', 14, 16, False),
        ('OrderService.OrderService', 'constructor', 18, 20, False),
        ('OrderService.total', 'method', 22, 32, False),
        ('OrderService.place', 'method', 34, 40, False),
        ('OrderService.place.audit', 'lambda', 35, 37, False),
        ('OrderService.Order.Order', 'constructor', 43, 45, False),
        ('OrderService.Listener.name', 'method', 51, 53, False),
        ('OrderService.broken', 'method', 56, 58, False),
        ('OrderService.OrderServiceTest.totalIsZeroWhenEmpty', 'method', 61, 64, True),
        ('OrderService.OrderServiceTest.placesOrders', 'method', 66, 69, True),
    ],
    "javascript/cart.js": [
        ('subtotal', 'function', 3, 10, False),
        ('subtotal.lineTotal', 'lambda', 8, 8, False),
        ('Cart.constructor', 'constructor', 15, 18, False),
        ('Cart.add', 'method', 20, 23, False),
        ('Cart.notify', 'lambda', 25, 27, False),
        ('Cart.total', 'method', 29, 31, False),
        ('formatters.currency', 'lambda', 35, 35, False),
        ('formatters.percent', 'method', 36, 38, False),
        ('emptyCart', 'function', 41, 43, False),
        ('restore', 'lambda', 45, 45, False),
        ('broken', 'function', 47, 49, False),
        ('Cart.adds lines', 'function', 52, 56, True),
        ('Cart.computes the total', 'function', 58, 60, True),
    ],
    "python/inventory.py": [
        ('retry', 'function', 8, 21, False),
        ('retry.decorator', 'function', 9, 19, False),
        ('retry.decorator.wrapper', 'function', 10, 17, False),
        ('Inventory.normalize', 'lambda', 27, 27, False),
        ('Inventory.__init__', 'constructor', 29, 30, False),
        ('Inventory.add', 'method', 32, 37, False),
        ('Inventory.total', 'method', 39, 41, False),
        ('Inventory.Report.render', 'method', 44, 46, False),
        ('price_of', 'lambda', 49, 49, False),
        ('test_add_counts', 'function', 52, 55, True),
        ('InventoryTest.setUp', 'method', 59, 60, False),
        ('InventoryTest.test_total', 'method', 62, 64, True),
        ('TestReport.test_render_empty', 'method', 68, 69, True),
        ('broken', 'function', 72, 75, False),
        ('fetch_remote', 'function', 78, 80, False),
    ],
    "rust/lib.rs": [
        ('Store.new', 'method', 12, 15, False),
        ('Store.get', 'method', 17, 20, False),
        ('Store.insert_all', 'method', 22, 27, False),
        ('Store.insert_all.owned', 'lambda', 23, 23, False),
        ('Store.fmt', 'method', 31, 33, False),
        ('Snapshot.count', 'method', 39, 41, False),
        ('parse_line', 'function', 44, 50, False),
        ('parse_line.trim', 'function', 45, 47, False),
        ('broken', 'function', 52, 54, False),
        ('tests.parses_pairs', 'function', 60, 64, True),
        ('tests.async_insert', 'function', 66, 70, True),
        ('tests.helper', 'function', 72, 74, False),
    ],
    "tsx/TodoList.tsx": [
        ('TodoList', 'function', 6, 24, False),
        ('TodoList.addItem', 'lambda', 10, 12, False),
        ('TodoList.renderItem', 'function', 14, 16, False),
        ('Counter.increment', 'lambda', 29, 29, False),
        ('Counter.render', 'method', 31, 33, False),
        ('Broken', 'lambda', 36, 36, False),
        ('renders items', 'function', 38, 41, True),
    ],
    "typescript/scheduler.ts": [
        ('Scheduler.now', 'lambda', 13, 13, False),
        ('Scheduler.constructor', 'constructor', 15, 15, False),
        ('Scheduler.enqueue', 'method', 17, 24, False),
        ('Scheduler.drain', 'method', 26, 31, False),
        ('Scheduler.drain.runOne', 'lambda', 27, 29, False),
        ('Base.toString', 'method', 38, 40, False),
        ('Util.clamp', 'function', 44, 46, False),
        ('retry', 'lambda', 49, 55, False),
        ('overloaded', 'function', 59, 59, False),
        ('broken', 'function', 61, 63, False),
        ('clamps', 'function', 65, 67, True),
    ],
}


def read_fixture(relative_path: str) -> tuple[str, str]:
    path = FIXTURES / relative_path
    return relative_path.split("/")[0], path.read_bytes().decode("utf-8")


def test_every_language_has_a_fixture():
    assert {path.split("/")[0] for path in EXPECTED} == set(LANGUAGES)
    on_disk = {str(path.relative_to(FIXTURES)) for path in FIXTURES.glob("*/*")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("relative_path", sorted(EXPECTED))
def test_fixture_functions(relative_path):
    language, text = read_fixture(relative_path)
    assert language_for_path(relative_path) == language
    functions = index_functions(language, text)
    found = [(f.qualified_name, f.kind, f.span.start.line, f.span.end.line, f.is_test) for f in functions]
    assert found == EXPECTED[relative_path]


@pytest.mark.parametrize("relative_path", sorted(EXPECTED))
def test_fixture_spans_are_exact_document_text(relative_path):
    language, text = read_fixture(relative_path)
    lines = text.split("\n")
    for function in index_functions(language, text):
        start, end = function.span.start, function.span.end
        covered = "\n".join(lines[start.line:end.line + 1])
        covered = covered[start.character:len(covered) - (len(lines[end.line]) - end.character)]
        assert function.text == covered
        assert function.text == function.text.strip()
        assert function.language == language
        assert function.name == function.qualified_name.rsplit(".", 1)[-1] or "." in function.name
        assert start.line <= function.body_start_line <= end.line


@pytest.mark.parametrize("relative_path", sorted(EXPECTED))
def test_fixtures_contain_a_syntax_error_yet_index(relative_path):
    language, text = read_fixture(relative_path)
    assert parse(language, text).has_errors
    assert any(f.name == "broken" for f in index_functions(language, text)) or language == "tsx"


def by_name(relative_path: str):
    language, text = read_fixture(relative_path)
    return {f.qualified_name: f for f in index_functions(language, text)}


@pytest.mark.parametrize(
    "relative_path, qualified_name, first_line",
    [
        ("python/inventory.py", "Inventory.add", "@retry(3)"),
        ("python/inventory.py", "retry.decorator.wrapper", "@functools.wraps(func)"),
        ("javascript/cart.js", "subtotal", "/**"),
        ("typescript/scheduler.ts", "Scheduler.enqueue", "/**"),
        ("tsx/TodoList.tsx", "TodoList", "/** A list of todos with an input box. */"),
        ("java/OrderService.java", "OrderService.total", "/**"),
        ("c/ringbuf.c", "ring_new", "/**"),
        ("c/ringbuf.c", "ring_push", "// Push one value; returns 0 when full."),
        ("cpp/matrix.cpp", "linalg.Matrix.transpose", "/**"),
        ("cpp/matrix.cpp", "linalg.clamp", "template <typename T>"),
        ("go/server.go", "Server.Get", "// Get returns a cached value."),
        ("rust/lib.rs", "Store.new", "/// Creates an empty store."),
        ("rust/lib.rs", "Store.get", "#[inline]"),
        ("rust/lib.rs", "tests.parses_pairs", "/// Parsing keeps both halves."),
    ],
)
def test_decorators_annotations_and_doc_comments_are_in_the_span(relative_path, qualified_name, first_line):
    assert by_name(relative_path)[qualified_name].text.splitlines()[0].strip() == first_line


def test_comments_that_are_not_attached_stay_out():
    functions = by_name("c/ringbuf.c")
    # The "/* Not a doc comment */" is separated by a blank line and precedes a struct anyway.
    assert all("Not a doc comment" not in f.text for f in functions.values())
    go = by_name("go/server.go")
    assert go["Server.Handler"].text.startswith("func (s Server) Handler()")


def test_nested_functions_stay_inside_their_outer_text():
    functions = by_name("python/inventory.py")
    assert functions["retry.decorator.wrapper"].text in functions["retry.decorator"].text
    assert functions["retry.decorator"].text in functions["retry"].text


def test_names_and_body_lines():
    inventory = by_name("python/inventory.py")
    assert inventory["Inventory.add"].name == "add"
    assert inventory["Inventory.add"].body_start_line == 34  # the docstring, after decorator and `def`
    cart = by_name("javascript/cart.js")
    assert cart["Cart.adds lines"].name == "adds lines"
    assert cart["Cart.adds lines"].text.startswith('it("adds lines", () => {')
    assert cart["subtotal"].body_start_line == 8  # first statement after "{"
    go = by_name("go/server.go")
    assert go["Server.Handler.respond"].body_start_line == 30
    cpp = by_name("cpp/matrix.cpp")
    assert cpp["MatrixTest.TransposeSwapsShape"].name == "TransposeSwapsShape"
