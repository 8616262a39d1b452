"""`ftlab solutions`: instructors' solved copies of the notebooks, which keep the originals intact."""

import ast
import json
import subprocess
import sys

import math

import nbformat
import numpy as np
import pandas as pd
import pytest

import ftlab
from ftlab.course.copies import course_notebooks, solved_source, write_solved_copies

CHECK = 'answer = ...  # your answer here\nftlab.check("{}", answer)'


def _run_cell(source):
    """Execute a solved cell's code; return the value of its last line (the check's result)."""
    tree = ast.parse(source)
    last = ast.Expression(tree.body.pop().value)
    namespace = {"np": np, "pd": pd, "math": math, "ftlab": ftlab}
    exec(compile(tree, "<cell>", "exec"), namespace)
    return eval(compile(last, "<cell>", "eval"), namespace)


def test_every_course_notebook_becomes_a_solved_copy_whose_checks_pass(tmp_path):
    originals = course_notebooks()
    before = {p: p.read_bytes() for p in originals}
    out = subprocess.run([sys.executable, "-m", "ftlab.cli", "solutions", str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout
    assert out.count("wrote ") == len(originals)
    assert {p: p.read_bytes() for p in originals} == before, "an original notebook changed"
    solved = 0
    for original in originals:
        source = nbformat.read(original, as_version=4)
        copy = nbformat.read(tmp_path / original.name, as_version=4)
        nbformat.validate(copy)
        assert len(copy.cells) == len(source.cells)
        for src_cell, copy_cell in zip(source.cells, copy.cells):
            if src_cell.source == copy_cell.source:
                assert copy_cell.get("outputs") == src_cell.get("outputs")
                continue
            solved += 1
            assert "answer = ..." in src_cell.source and "answer = ..." not in copy_cell.source
            assert copy_cell.outputs == []
            assert _run_cell(copy_cell.source).correct, copy_cell.source
    assert solved == len(ftlab.exercises())


def test_a_cell_that_checks_nothing_is_left_alone():
    assert solved_source("x = ...\nprint(x)") == "x = ...\nprint(x)"
    assert solved_source("%pip install ftlab") == "%pip install ftlab"
    with pytest.raises(ValueError, match="'99-nope'.*no exercise"):
        solved_source(CHECK.format("99-nope"))


def test_refuses_to_overwrite_copies_or_originals(tmp_path):
    nb = course_notebooks()[1]
    write_solved_copies([nb], tmp_path)
    marker = (tmp_path / nb.name).read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        write_solved_copies([nb], tmp_path)
    assert (tmp_path / nb.name).read_bytes() == marker
    with pytest.raises(ValueError, match="is the original notebook"):
        write_solved_copies([nb], nb.parent, overwrite=True)
    write_solved_copies([nb], tmp_path, overwrite=True)
    assert not list(tmp_path.glob("*.tmp"))


def test_cli_reports_a_refusal_with_exit_code_2(tmp_path):
    nb = course_notebooks()[0]
    (tmp_path / nb.name).write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "ftlab.cli", "solutions", str(tmp_path), str(nb)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "exists; pass --overwrite" in proc.stderr
    assert json.loads((tmp_path / nb.name).read_text()) == {}
