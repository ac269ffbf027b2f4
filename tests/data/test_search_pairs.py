import pytest
from manyskills.data.records import CorpusFunction
from manyskills.data.search_pairs import (
    first_sentence,
    make_search_examples,
    normalize_code,
    search_example,
    split_doc,
)

PY = '''@decorator
def compute(self, width, height: int = 2, *rest, **kw):
    """Compute the surface of a rectangle.

    Longer explanation that is not part of the query.
    """
    result = width * height
    for i, x in enumerate(rest):
        result += x
    self.result = result
    f(result=result)
    return compute(result, height=1)'''

JS = '''/**
 * Sums all the values in an array.
 * @param {number[]} xs
 */
sum(xs, {start = 0, scale: s}, ...more) {
  let total = start;
  for (const x of xs) { total += x * s; }
  return total;
}'''

JAVA = '''/**
 * Returns the {@code position} of the first matching element, or -1.
 */
public static int indexOf(List<String> items, String needle) {
    int i = 0;
    for (String item : items) {
        if (item.equals(needle)) return i;
        i++;
    }
    return -1;
}'''

GO = '''// Reverse returns the string with its runes in reverse order.
func Reverse(s string) string {
	r := []rune(s)
	return string(r)
}'''


def fn(language, qname, code, is_test=False):
    return CorpusFunction("id-" + qname, "proj", language, "f", qname, code, is_test, "train")


def test_python_pair():
    ex = search_example(fn("python", "Shape.compute", PY))
    assert ex.query == "Compute the surface of a rectangle"
    assert '"""' not in ex.code and "Longer explanation" not in ex.code
    assert ex.code.startswith("@decorator\ndef compute(")
    norm = ex.code_normalized
    assert "def func(self, arg_0, arg_1: int = 2, *arg_2, **arg_3):" in norm
    assert "var_0 = arg_0 * arg_1" in norm
    assert "for var_1, var_2 in enumerate(arg_2):" in norm
    assert "self.result = var_0" in norm  # attribute name untouched
    assert "f(result=var_0)" in norm  # keyword name untouched
    assert "return func(var_0, height=1)" in norm  # recursion renamed, keyword kept


def test_javascript_method_pair():
    ex = search_example(fn("javascript", "Calc.sum", JS))
    assert ex.query == "Sums all the values in an array"
    assert ex.code.startswith("sum(xs")
    norm = ex.code_normalized
    assert norm.startswith("func(arg_0, {start: arg_1 = 0, scale: arg_2}, ...arg_3) {")
    assert "let var_0 = arg_1;" in norm and "for (const var_1 of arg_0)" in norm


def test_java_pair():
    ex = search_example(fn("java", "Util.indexOf", JAVA))
    assert ex.query == "Returns the position of the first matching element, or -1"
    norm = ex.code_normalized
    assert "public static int func(List<String> arg_0, String arg_1)" in norm
    assert "int var_0 = 0;" in norm and "for (String var_1 : arg_0)" in norm
    assert "var_1.equals(arg_1)" in norm


def test_go_leading_name_is_dropped_from_query():
    ex = search_example(fn("go", "Reverse", GO))
    assert ex.query == "Returns the string with its runes in reverse order"
    assert "func func(arg_0 string) string" in ex.code_normalized
    assert "var_0 := []rune(arg_0)" in ex.code_normalized


@pytest.mark.parametrize("code", [
    'def load(path):\n    """Load it."""\n    return open(path).read()',  # too short
    'def load(path):\n    """Use load to read the file quickly."""\n    return open(path).read()',  # name leak
    'def load(path):\n    return open(path).read()\n',  # undocumented
    'def load(path):\n    """Only a docstring, nothing else here."""',  # nothing left
])
def test_dropped(code):
    assert search_example(fn("python", "load", code)) is None


def test_tests_are_not_search_targets():
    assert make_search_examples([fn("python", "Shape.compute", PY, is_test=True)]) == []


def test_first_sentence_and_split_doc():
    assert first_sentence("Do the thing. Then more.\n\nDetails") == "Do the thing"
    assert first_sentence("Parse a value\nacross lines.\n@param x the x") == "Parse a value across lines"
    assert first_sentence("Frobnicate :func:`foo` with ``bar``.") == "Frobnicate foo with bar"
    assert split_doc("rust", "/// Adds numbers together.\nfn add(a: i32) -> i32 {\n    a\n}")[0] == "Adds numbers together."
    assert split_doc("c", "int f(void) {\n    return 0;\n}") is None


def test_normalize_c_and_rust():
    c = "static size_t copy_buf(char *dst, const char *src, size_t n) {\n    size_t i, k = 0;\n    for (i = 0; i < n; i++) dst[i] = src[i];\n    return i + k;\n}"
    norm = normalize_code("c", c)
    assert norm.startswith("static size_t func(char *arg_0, const char *arg_1, size_t arg_2) {")
    assert "size_t var_0, var_1 = 0;" in norm
    rust = "pub fn add(a: i32, mut b: i32) -> i32 {\n    let (c, d) = (a, b);\n    b += c;\n    c + d + b\n}"
    nr = normalize_code("rust", rust)
    assert "pub fn func(arg_0: i32, mut arg_1: i32) -> i32" in nr and "let (var_0, var_1) = (arg_0, arg_1);" in nr
