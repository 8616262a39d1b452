"""The cost explorer of notebook 05, driven from Python."""

import pytest

from ftlab.widgets.chat import cost_explorer, training_cost_numbers
from ftlab.chat.tokens import default_epochs


def test_numbers_follow_the_epoch_rule_and_price():
    r = training_cost_numbers(1000, 50, model="gpt-4o-2024-08-06")
    assert r["n_epochs"] == default_epochs(1000) == 3
    assert r["billed_tokens"] == 1000 * 50 * 3
    assert r["cost_usd"] == pytest.approx(150_000 * 25.0 / 1e6)
    fixed = training_cost_numbers(1000, 50, n_epochs=1)
    assert fixed["n_epochs"] == 1 and fixed["rule"] == "set by you"


def test_moving_the_controls_updates_result_marker_and_readout():
    ex = cost_explorer(tokens_per_example=100)
    marker = ex.figure.axes[0].lines[-1]
    ex.controls["n_examples"].value = 10_000
    assert ex.result["n_examples"] == 10_000 and ex.result["n_epochs"] == 2
    assert list(marker.get_xdata()) == [10_000] and list(marker.get_ydata()) == [2]
    assert "20,000 example passes" in ex.readout.value
    ex.controls["n_epochs"].value = 4
    assert ex.result["billed_tokens"] == 10_000 * 100 * 4 and "set by you" in ex.readout.value
    assert list(ex.figure.axes[1].lines[-1].get_ydata()) == [4_000_000]


def _augmented():
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl

    train = read_chat_jsonl(data_dir() / "chat" / "marv_train.jsonl")[:60]
    extra = [{"messages": [r["messages"][0], {"role": "user", "content": "Quick question: "
                                              + r["messages"][1]["content"].lower()}, r["messages"][2]]}
             for r in train[:20]]
    return list(train) + extra


def test_duplicate_threshold_explorer_finds_the_copies_and_moves_its_line():
    from ftlab.widgets.chat import duplicate_threshold_explorer

    ex = duplicate_threshold_explorer(_augmented())
    line = ex.figure.axes[0].lines[-1]
    assert ex.result["groups"] == 20 and ex.result["redundant"] == 20  # the 20 edited copies
    assert ex.result["closest_apart"][2] < 0.6  # everything left apart is clearly different
    ex.controls["threshold"].value = 1.0
    assert ex.result["groups"] == 0 and list(line.get_xdata()) == [1.0, 1.0]
    a, b, sim = ex.result["closest_apart"]
    assert sim > 0.8 and "quick question" in ex.result["texts"][b]  # an edited copy now slips through
    assert "kept apart" in ex.readout.value
