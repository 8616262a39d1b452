"""Notebooks 05 and 06 say what their checks say: each exercise's markdown asks the exercise's own
question (and lists a judgement's options), and the experiment of 06 is read, not typed."""

import json
import re
from pathlib import Path

import pytest

import ftlab
from ftlab.course.exercise import EXERCISES

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CHECK_CALL = re.compile(r'ftlab\.check\("([^"]+)", \w+\)')
ftlab.exercises()  # registers every exercise in EXERCISES


def _plain(text):
    """Markdown as plain words: no emphasis, code marks or exercise numbers; one space."""
    text = re.sub(r"\*\*Exercise \d+\.\*\*", " ", text)
    text = text.replace("`", "").replace("*", "")
    return " ".join(text.split())


def _cells(name):
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]


def _question_cells(name):
    """(exercise id, the markdown cell just before its check cell)."""
    cells = _cells(name)
    for before, cell in zip(cells, cells[1:]):
        match = CHECK_CALL.search("".join(cell["source"]))
        if cell["cell_type"] == "code" and match:
            assert before["cell_type"] == "markdown", f"{match.group(1)}: no question before it"
            yield match.group(1), "".join(before["source"])


@pytest.mark.parametrize("name", ["05_training_data.ipynb", "06_data_augmentation.ipynb"])
def test_each_exercise_is_asked_in_its_own_words_just_before_its_check(name):
    seen = []
    for exercise_id, markdown in _question_cells(name):
        exercise = EXERCISES[exercise_id]
        assert _plain(exercise.question) in _plain(markdown), exercise_id
        for key, (option, _) in exercise.choices.items():
            assert f"({key}) {_plain(option)}" in _plain(markdown), (exercise_id, key)
        seen.append(exercise_id)
    assert seen == ftlab.exercises(name[:2])


def test_notebook_06_reads_the_experiment_instead_of_typing_it():
    sources = ["".join(c["source"]) for c in _cells("06_data_augmentation.ipynb")]
    code = "\n".join(s for s, c in zip(sources, _cells("06_data_augmentation.ipynb"))
                     if c["cell_type"] == "code")
    assert "shipped_results()" in code and "rerun_row(" in code
    assert "augmentation_experiment(" not in code  # the runs come from the results file
