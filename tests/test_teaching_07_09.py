"""Notebooks 07-09 teach it right: each exercise's question is the one on screen, the default
("auto") hyperparameters are the recommended start rather than a mistake, and the experiments that
compare settings hold the steps fixed and report the seed noise. Reads the stored notebooks."""

import json
import re
from pathlib import Path

import pytest

import ftlab
import ftlab.course.questions  # noqa: F401  (registers the exercises)
from ftlab.course.exercise import EXERCISES

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
GUIDE = "https://platform.openai.com/docs/guides/fine-tuning"
OURS = {"07": "07_training_parameters.ipynb", "08": "08_inference_parameters.ipynb",
        "09": "09_hosted_finetuning.ipynb"}


def _cells(number):
    return json.loads((NOTEBOOKS / OURS[number]).read_text(encoding="utf-8"))["cells"]


def _text(cell):
    return "".join(cell["source"])


def _outputs(cell):
    return "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                   for o in cell.get("outputs", []))


def _markdown(number):
    return "\n".join(_text(c) for c in _cells(number) if c["cell_type"] == "markdown")


@pytest.mark.parametrize("number", sorted(OURS))
def test_each_exercise_is_asked_in_the_markdown_just_before_it(number):
    cells = _cells(number)
    asked = []
    for before, cell in zip(cells, cells[1:]):
        found = re.search(r'ftlab\.check\("([^"]+)"', _text(cell)) if cell["cell_type"] == "code" else None
        if not found:
            continue
        name = found.group(1)
        exercise = EXERCISES[name]
        assert before["cell_type"] == "markdown" and exercise.question in _text(before), (
            f"{name}: the markdown cell before its check must hold its question word for word")
        for key, (option, _) in exercise.choices.items():
            assert f"({key}) {option}" in _text(before), f"{name}: option ({key}) is not listed"
        asked.append(name)
    assert asked == ftlab.exercises(number)


def test_every_notebook_07_to_09_asks_for_a_judgement():
    for number in OURS:
        assert any(EXERCISES[n].choices for n in ftlab.exercises(number)), number


def test_the_default_hyperparameters_are_the_recommended_start_not_a_mistake():
    text = _markdown("07")
    assert GUIDE in text and "Iterating on hyperparameters" in text
    for advice in ("epochs **+1 or 2**", "epochs **−1 or 2**", "**raise** the learning-rate multiplier"):
        assert advice in text, advice
    for number in OURS:
        for sentence in re.split(r"(?<=[.!?])\s", _markdown(number)):
            if "auto" in sentence:
                assert not re.search(r"leaves every|skips|mistake|wrong|problem", sentence), sentence
    plan = next(c for c in _cells("09") if "plan = ftlab.plan_job" in _text(c))
    assert "n_epochs=auto, batch_size=auto, learning_rate_multiplier=auto" in _outputs(plan)


def test_data_quantity_holds_the_steps_fixed_and_reports_the_seed_noise():
    cells = _cells("07")
    table = next(c for c in cells if "def subset(" in _text(c))
    shown = _outputs(table)
    steps = re.search(r"same (\d+) steps", shown)
    assert "same 3 epochs" in shown and steps, "both regimes: same epochs and same steps"
    assert "std" in shown and "min" in shown and "max" in shown
    seeds = re.search(r"SEEDS = \(([^)]*)\)", "".join(_text(c) for c in cells)).group(1)
    assert len([s for s in seeds.split(",") if s.strip()]) >= 3
    printed = "".join(_outputs(c) for c in cells)
    assert printed.count("seed noise ±") >= 8  # quantity, +2 epochs, rounds and weight 0 comparisons
    rounds = next(c for c in cells if "two_rounds = base.copy()" in _text(c))
    assert "seed noise" in _outputs(rounds)


def test_hosted_temperature_zero_and_filter_order_stay_documented():
    text = _markdown("08")
    assert "determinism is not" in text and "system_fingerprint" in text
    assert "OpenAI does not document its\norder" in text or "OpenAI does not document its order" in text


def test_notebook_08_routes_with_the_shipped_router_and_its_table_is_the_exercises():
    from ftlab.course.questions import n08_inference_parameters as n08

    router = next(c for c in _cells("08") if "router = " in _text(c))
    assert 'load_pretrained("tinylm-attn-tickets-v1")' in _text(router)
    assert "finetune(" not in _text(router)  # nothing trained in the cell: the shipped router
    shown = _outputs(router)
    routed = re.search(r"sends (\d+) of (\d+) test tickets", shown)
    assert routed and 0.5 < int(routed[1]) / int(routed[2]) < 1  # "most test tickets, not all"
    for temperature in (0.7, 1.0, 1.5):  # the judgement reads the numbers the learner sees
        assert f"{n08._label_change(temperature, 1.0):.3f}" in shown
    text = _markdown("08")
    assert "last 16" not in text and "end of each message" not in text  # it reads whole tickets


def test_notebook_09_f1_exercise_asks_about_the_reply_on_screen():
    from ftlab.course.questions import n09_hosted_finetuning as n09

    row = next(c for c in _cells("09") if "comparison.table.iloc[0]" in _text(c)
               and c["cell_type"] == "code")
    reply, reference = n09._tiny_reply()
    shown = _outputs(row)
    assert f"base: output: {reply}" in shown and f"reference: {reference}" in shown
    assert "character soup" not in _markdown("09")
