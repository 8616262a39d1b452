"""The exercises: unsolved in every notebook, each with a worked solution its check accepts."""

import json
import re
from pathlib import Path

import pytest

import ftlab
from ftlab.course.exercise import EXERCISES, Exercise, judge

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9]*.ipynb"))
CHECK_CALL = re.compile(r'ftlab\.check\("([^"]+)", (\w+)\)')
IDS = ftlab.exercises()


def _check_cells():
    """(notebook, cell source, its stored outputs as text) of every cell calling ftlab.check."""
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and CHECK_CALL.search(source):
                yield path, source, json.dumps(cell.get("outputs", []), ensure_ascii=False)


@pytest.mark.parametrize("name", IDS)
def test_each_exercise_is_unanswered_until_answered_and_accepts_its_worked_solution(name):
    assert ftlab.check(name, ...).state == "unanswered"
    assert f"ftlab.solution({name!r})" in ftlab.check(name, ...).message
    exercise = EXERCISES[name]
    assert exercise.worked.strip() and exercise.hint, f"{name} needs a worked solution and a hint"
    assert ftlab.check(name, ftlab.solution(name)).correct


@pytest.mark.parametrize("name", IDS)
def test_each_listed_mistake_gets_its_own_explanation(name):
    exercise = EXERCISES[name]
    for wrong, explanation in exercise.mistakes:
        result = ftlab.check(name, wrong())
        assert not result.correct, f"{name}: a listed mistake equals the right answer"
        assert result.message == explanation
    for key, (_, explanation) in exercise.choices.items():
        result = ftlab.check(name, key)
        assert result.correct == (key == exercise.solution())
        if not result.correct:
            assert result.message == explanation
    explanations = [e for _, e in exercise.choices.values()] + [e for _, e in exercise.mistakes]
    assert len(set(explanations)) == len(explanations), f"{name}: two answers share an explanation"


@pytest.mark.parametrize("name", IDS)
def test_a_fractional_answer_says_how_many_decimals(name):
    exercise = EXERCISES[name]
    answer = exercise.solution()
    if isinstance(answer, str) or float(answer).is_integer():
        return
    assert exercise.decimals is not None and "decimal" in exercise.question, (
        f"{name}: say 'to N decimals' in the question and set decimals=N")
    assert ftlab.check(name, round(answer, exercise.decimals)).correct


def test_every_notebook_from_03_on_asks_for_a_judgement():
    for path in NOTEBOOKS:
        number = path.name.split("_")[0]
        if number < "03":
            continue
        choices = [n for n in ftlab.exercises(number) if EXERCISES[n].choices]
        assert choices, f"{path.name} has no judgement (choice) exercise"


def test_shipped_notebooks_are_unsolved_and_check_every_exercise_once_in_course_order():
    seen = []
    for path, source, outputs in _check_cells():
        name, var = CHECK_CALL.search(source).groups()
        assert name.split("-")[0] == path.name.split("_")[0], f"{name} checked in {path.name}"
        assert f"{var} = ...  # your answer here" in source, f"{path.name}: {name} ships solved"
        assert "✓ Correct" not in outputs, f"{path.name}: {name}'s stored output shows it solved"
        seen.append(name)
    assert seen == IDS


def test_rounding_near_misses_choices_and_unknown_ids():
    ex = Exercise(question="x to 2 decimals?", solution=lambda: 2.302585, why="", decimals=2)
    assert judge("x", ex, 2.30).correct and judge("x", ex, 2.3026).correct
    assert judge("x", ex, 2.31).state == "close" and "close —" in judge("x", ex, 2.31).message
    assert judge("x", ex, 3.0).state == "wrong"
    assert judge("x", ex, "two").state == "wrong"
    steps = Exercise(question="steps?", solution=lambda: 96, why="")
    assert judge("s", steps, 95).state == "close" and judge("s", steps, 90).state == "wrong"
    pick = Exercise(question="which?", solution=lambda: "b", why="yes",
                    choices={"a": ("stop at 100", "too early"), "b": ("stop at 300", "")})
    assert judge("p", pick, "(B)").correct and judge("p", pick, "stop at 300").correct
    assert judge("p", pick, "a").message == "too early"
    assert "none of the options" in judge("p", pick, "z").message
    assert "(a) stop at 100 (b) stop at 300" in judge("p", pick, ...).message
    with pytest.raises(ValueError, match="no exercise named 'nope'.*01-uniform-loss"):
        ftlab.check("nope", 1)
