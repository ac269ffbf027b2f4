from pathlib import Path

from manyskills.data.readers import (
    READERS,
    read_bigclonebench,
    read_codereviewer,
    read_codesearchnet,
    read_codexglue_defect,
    read_flakeflagger,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "data" / "readers"


def test_codexglue_defect():
    ex = list(read_codexglue_defect(FIX / "codexglue_defect_train.jsonl"))
    assert [e.project for e in ex] == ["FFmpeg", "qemu"]  # tornado is deny-listed
    a, b = ex
    assert a.label == 1 and b.label == 0 and a.split == "train" and a.language == "c"
    assert a.bug_lines == [] and a.fix_line is None and a.source == "reader:codexglue-defect"
    assert "973b1a6" in a.note and a.id == "codexglue-defect-0"
    assert len(list(read_codexglue_defect(FIX / "codexglue_defect_train.jsonl", deny=False))) == 3


def test_bigclonebench():
    pairs = list(read_bigclonebench(FIX / "bigclonebench_data.jsonl", FIX / "bigclonebench_train.txt"))
    assert [(p.label, p.split, p.language) for p in pairs] == [(1, "train", "java"), (0, "train", "java")]
    assert "plus" in pairs[0].code_b and "add" in pairs[0].code_a
    assert pairs[0].rewrite == "reader:bigclonebench"


def test_codesearchnet_and_advtest():
    ex = list(read_codesearchnet(FIX / "codesearchnet_test.jsonl"))
    assert len(ex) == 2  # the tqdm row is deny-listed
    csn, adv = ex
    assert csn.project == "psf/requests" and csn.query == "Take an object and test to see"
    assert csn.split == "test" and csn.language == "python"
    assert csn.code_normalized.startswith("def func(arg_0):")
    assert adv.project == "owner/lib" and adv.query == "Add two numbers together."
    assert "var_0 = arg_0 + arg_1" in adv.code_normalized
    assert adv.split == "test"  # from the file name


def test_codereviewer():
    ex = list(read_codereviewer(FIX / "codereviewer_msg-valid.jsonl"))
    assert len(ex) == 3
    a, b, c = ex
    assert a.label == 1 and a.language == "python" and a.split == "valid"
    assert a.note == "The file is never closed; use a with block."
    assert a.code.split("\n") == ["def load(path):", "    f = open(path, 'rb')", "    data = f.read()", "    return f"]
    assert a.bug_lines == [1, 2] and a.source == "reader:codereviewer"
    assert b.label == 0 and b.note == "" and b.language == "java" and b.code == "int x = 2;"
    assert c.label == 0 and c.code.startswith("def keep")


def test_flakeflagger():
    ex = list(read_flakeflagger(FIX / "flakeflagger.csv"))
    assert [(e.project, e.label) for e in ex] == [("spring-boot", 1), ("spring-boot", 0), ("hbase", 1)]
    assert "Thread.sleep" in ex[0].code and ex[0].cause == "reported"
    assert ex[1].code == "org.example.FooTest.testAdd" and ex[1].cause == ""
    minimal = list(read_flakeflagger(FIX / "flakeflagger_minimal.csv", project="demo"))
    assert [(e.project, e.label, e.language) for e in minimal] == [("demo", 0, "java"), ("demo", 1, "java")]


def test_registry():
    assert set(READERS) >= {"codexglue-defect", "bigclonebench", "codesearchnet", "advtest", "codereviewer", "flakeflagger"}
