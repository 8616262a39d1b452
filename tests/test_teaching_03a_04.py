"""Notebooks 03a and 04 teach what their data show: each exercise is asked in the notebook in its
own words (options listed), and the general claims the prose makes hold on the shipped data."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

import ftlab
from ftlab.course.exercise import EXERCISES
from ftlab.runs.polling import poll_events

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _plain(text):
    """Markdown as words: no emphasis, backticks or exercise number, one space between words."""
    text = re.sub(r"\*\*\d+\.\*\*", " ", text)
    return " ".join(text.replace("`", "").replace("**", "").split())


def _asked(notebook):
    """{exercise id: the markdown cell just before its check cell} of one notebook."""
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    asked = {}
    for before, cell in zip(cells, cells[1:]):
        match = re.search(r'ftlab\.check\("([^"]+)"', "".join(cell["source"]))
        if cell["cell_type"] == "code" and match:
            assert before["cell_type"] == "markdown", f"{match.group(1)}: no question before it"
            asked[match.group(1)] = _plain("".join(before["source"]))
    return asked


@pytest.mark.parametrize("notebook, prefix", [("03a_reading_runs.ipynb", "03a"),
                                              ("04_early_stopping.ipynb", "04")])
def test_each_exercise_is_asked_in_its_own_words_with_its_options(notebook, prefix):
    asked = _asked(notebook)
    assert sorted(asked) == sorted(ftlab.exercises(prefix))
    for name, text in asked.items():
        exercise = EXERCISES[name]
        assert _plain(exercise.question) in text, name
        for key, (option, _) in exercise.choices.items():
            assert f"({key}) {_plain(option)}" in text, f"{name}: option ({key}) not listed"


@pytest.mark.parametrize("prefix", ["03a", "04"])
def test_each_notebook_has_a_judgement_whose_wrong_options_are_all_explained(prefix):
    judged = [n for n in ftlab.exercises(prefix) if EXERCISES[n].choices]
    assert judged
    for name in judged:
        exercise = EXERCISES[name]
        right = exercise.solution()
        assert right in exercise.choices and exercise.why
        for key, (_, explanation) in exercise.choices.items():
            assert (key == right) != bool(explanation.strip()), f"{name} ({key})"


@pytest.mark.parametrize("page_size, every", [(20, 30), (20, 25), (10, 15), (5, 40)])
def test_a_loop_reading_only_the_newest_page_loses_the_oldest_events_of_each_burst(page_size, every):
    # 03a: "Each burst's losses are its oldest events, the steps just after the previous poll"
    marv = ftlab.load_sample("marv")
    seen = poll_events(marv, page_size=page_size, every=every)
    last = int(marv.steps[-1])
    polls = list(range(every, last, every)) + [last]
    lost, kept = np.array(seen["lost_steps"]), seen["seen"]
    for before, poll in zip([0] + polls, polls):
        burst_lost = lost[(lost > before) & (lost <= poll)]
        burst_kept = kept[(kept > before) & (kept <= poll)]
        assert len(burst_kept) == min(page_size, len(burst_lost) + len(burst_kept))
        if len(burst_lost):
            assert burst_lost.max() < burst_kept.min()


def test_full_validation_is_at_epoch_ends_wherever_a_shipped_log_has_it():
    # 03a computes this for the files it shows; the claim must not depend on which ones
    for name in ftlab.sample_runs()["name"]:
        run = ftlab.load_sample(name)
        full = run.metrics["full_valid_loss"].dropna().index.tolist()
        if full and run.metrics["epoch"].notna().any():
            assert set(full) <= set(run.epochs()["last_step"]), name


def test_the_min_delta_examples_of_04_show_what_the_prose_says():
    from ftlab.curves.min_delta import evaluation_noise

    legacy = ftlab.load_sample("ms-thesis-legacy").metrics["valid_loss"].dropna()
    noise = evaluation_noise(legacy.to_numpy())
    # every min_delta the notebook tries on the legacy run is below its noise, and each keeps a dip
    for min_delta in (0.0, 0.02, 0.05):
        r = ftlab.load_sample("ms-thesis-legacy").early_stopping(patience=60, min_delta=min_delta)
        assert min_delta < noise
        i = legacy.index.get_loc(r.best_step)
        around = np.r_[legacy.iloc[max(0, i - 5):i], legacy.iloc[i + 1:i + 6]]
        assert around.mean() - r.kept_valid_loss > noise / 2
    # on tinyllama-trl every fall is real, and a larger min_delta stops earlier and keeps worse
    healthy = ftlab.load_sample("tinyllama-trl")
    kept = [healthy.early_stopping(patience=1, min_delta=d).kept_valid_loss
            for d in (0.0, 0.005, 0.02, 0.05)]
    assert kept == sorted(kept) and len(set(kept)) == 4
