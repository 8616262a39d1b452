"""`ftlab student-copies`: exercise versions of the notebooks that keep the originals intact."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ftlab.course.copies import course_notebooks, prompt_for, write_student_copies

ROOT = Path(__file__).resolve().parent.parent


def _solution_cells(nb):
    return [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]


def test_every_course_notebook_becomes_a_clean_student_copy(tmp_path):
    originals = course_notebooks()
    before = {p: p.read_bytes() for p in originals}
    out = subprocess.run([sys.executable, "-m", "ftlab.cli", "student-copies", str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout
    assert out.count("wrote ") == len(originals)
    assert {p: p.read_bytes() for p in originals} == before, "an original notebook changed"
    for original in originals:
        source = nbformat.read(original, as_version=4)
        copy = nbformat.read(tmp_path / original.name, as_version=4)
        nbformat.validate(copy)
        assert len(copy.cells) == len(source.cells)
        assert all(not c.get("outputs") and c.get("execution_count") is None
                   for c in copy.cells if c.cell_type == "code")
        assert not _solution_cells(copy)
        for src_cell, copy_cell in zip(source.cells, copy.cells):
            if "solution" in src_cell.metadata.get("tags", []):
                assert copy_cell.source.endswith("...  # your answer here")
                assert src_cell.source not in copy_cell.source
            else:
                assert copy_cell.source == src_cell.source


def test_a_solution_cell_becomes_its_answer_prompts():
    assert prompt_for("x = 1\nanswer_a = x + 1\nanswer_b, other = 2, 3\nanswer_a = 5") == \
        "answer_a = ...  # your answer here"
    assert prompt_for("print('no answer variable')") == "# your code here"


def test_refuses_to_overwrite_copies_or_originals(tmp_path):
    nb = course_notebooks()[0]
    write_student_copies([nb], tmp_path)
    marker = (tmp_path / nb.name).read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        write_student_copies([nb], tmp_path)
    assert (tmp_path / nb.name).read_bytes() == marker
    with pytest.raises(ValueError, match="is the original notebook"):
        write_student_copies([nb], nb.parent, overwrite=True)
    write_student_copies([nb], tmp_path, overwrite=True)
    assert not list(tmp_path.glob("*.tmp"))


def test_cli_reports_a_refusal_with_exit_code_2(tmp_path):
    nb = course_notebooks()[0]
    (tmp_path / nb.name).write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "ftlab.cli", "student-copies", str(tmp_path), str(nb)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "exists; pass --overwrite" in proc.stderr
    assert json.loads((tmp_path / nb.name).read_text()) == {}
