"""Which files a scan reads and the one too-big/binary rule (analysis/files.py), shared with the
server's open documents."""

import subprocess

from manyskills.analysis.files import iter_source_files, read_source, skip_reason, text_skip_reason


def test_one_rule_and_one_wording_for_files_and_open_documents(tmp_path):
    big = "x = 1\n" * 100
    (tmp_path / "big.py").write_text(big)
    assert read_source(tmp_path / "big.py", 100) == (None, "600 bytes, over maxFileBytes (100)")
    assert text_skip_reason(big, 100) == "600 bytes, over maxFileBytes (100)"
    binary = "def f():\n    return 1\n\x00\x01"
    (tmp_path / "bin.py").write_text(binary)
    assert read_source(tmp_path / "bin.py", 0) == (None, "binary file")
    assert text_skip_reason(binary, 0) == "binary file"
    assert read_source(tmp_path / "big.py", 0) == (big, None) and text_skip_reason(big, 0) is None


def test_size_counts_utf8_bytes_and_only_the_start_is_probed_for_nul():
    assert text_skip_reason("é" * 60, 100) == "120 bytes, over maxFileBytes (100)"
    assert skip_reason(10, "a" * 8192 + "\x00", 0) is None
    assert skip_reason(10, b"a" * 8191 + b"\x00", 0) == "binary file"
    assert skip_reason(101, b"", 100) == "101 bytes, over maxFileBytes (100)"


def test_unreadable_and_undecodable_files_say_why(tmp_path):
    (tmp_path / "latin1.py").write_bytes("x = 'é'\n".encode("latin-1"))
    text, reason = read_source(tmp_path / "latin1.py", 0)
    assert text is None and reason.startswith("not valid UTF-8")
    text, reason = read_source(tmp_path / "missing.py", 0)
    assert text is None and reason.startswith("unreadable")


def test_the_walk_skips_hidden_dependency_and_virtualenv_folders(tmp_path):
    for path in ("src/a.py", "src/b.js", "src/notes.txt", ".hidden/c.py", "node_modules/d.js", "env/pyvenv.cfg",
                 "env/lib/e.py", "src/.f.py", "src/sub/g.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x = 1\n")
    found = [(p.relative_to(tmp_path).as_posix(), lang) for p, lang in iter_source_files([tmp_path], ["python"])]
    assert found == [("src/a.py", "python"), ("src/sub/g.py", "python")]
    both = {p.name for p, _ in iter_source_files([tmp_path, tmp_path / "src" / "a.py"], ["python", "javascript"])}
    assert both == {"a.py", "b.js", "g.py"}  # a file named twice is read once


def test_inside_a_git_work_tree_ignored_files_are_skipped(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("build/\n")
    for path in ("kept.py", "build/generated.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x = 1\n")
    assert [p.name for p, _ in iter_source_files([tmp_path], ["python"])] == ["kept.py"]
