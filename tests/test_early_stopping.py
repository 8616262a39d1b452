"""simulate_early_stopping against the scenarios of Keras's, Lightning's and Hugging Face's own tests."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftlab.curves.early_stopping import simulate_early_stopping as sim

KERAS_LOSSES = [10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]

# ----------------------------------------------------------------------------- Keras 3


@pytest.mark.parametrize("patience, stop", [(0, 3), (1, 3), (2, 4), (3, 5)])
def test_keras_patience_scenario(patience, stop):
    # keras/src/callbacks/early_stopping_test.py: stopped_epoch == max(patience, 1) + 2
    r = sim(KERAS_LOSSES, patience=patience)
    assert r.stopped_index == stop == max(patience, 1) + 2
    assert (r.best_index, r.best_value) == (2, 8.0)


def test_keras_restore_best_scenario():
    r = sim([0.2, 0.15, 0.1, 0.11, 0.12], patience=2)
    assert (r.stopped_index, r.best_index) == (4, 2)


def test_keras_baseline_scenario():
    # No epoch beats the baseline: wait never resets, so training runs `patience` epochs only,
    # and the best of them (index 2) is what restore_best_weights would restore.
    r = sim([0.9, 0.8, 0.7, 0.71, 0.72, 0.73], patience=5, baseline=0.5)
    assert r.stopped_index == 4 and r.best_index == 2
    assert r.wait_history == [1, 2, 3, 4, 5]


def test_keras_baseline_beaten_resets_wait():
    r = sim([0.9, 0.4, 0.45, 0.46], patience=2, baseline=0.5)
    assert r.wait_history == [1, 0, 1, 2] and r.stopped_index == 3


def test_keras_min_delta_is_absolute_and_strict():
    # 9.5 improves 10 by exactly 0.5: not strictly more than min_delta, so no improvement.
    for d in (0.5, -0.5):
        r = sim([10.0, 9.5, 9.0], patience=1, min_delta=d)
        assert r.stopped_index == 1 and r.best_index == 0
    assert sim([10.0, 9.4, 8.8], patience=1, min_delta=0.5).stopped_index is None


def test_keras_never_stops_at_index_zero():
    # patience 0: the first value is always an improvement, and index 0 may not stop anyway
    assert sim([float("nan"), 1.0, 2.0], patience=0).stopped_index == 2


def test_keras_start_from_ignores_early_values():
    r = sim([1.0, 0.5, 3.0, 2.0, 2.5, 2.6], patience=1, start_from=2)
    # 1.0 and 0.5 are ignored; 3.0 is the first value seen and therefore the best
    assert r.wait_history[:2] == [None, None]
    assert (r.best_index, r.stopped_index) == (3, 4)


def test_keras_max_mode_mirrors():
    acc = [-v for v in KERAS_LOSSES]
    assert sim(acc, patience=2, mode="max").stopped_index == 4


def test_never_stopping_reports_best():
    r = sim([3.0, 2.0, 1.0], patience=1)
    assert r.stopped_index is None and not r.stopped and (r.best_index, r.best_value) == (2, 1.0)


# ----------------------------------------------------------------------------- Lightning


@pytest.mark.parametrize("stopping, divergence, losses, stop", [
    # tests/tests_pytorch/callbacks/test_early_stopping.py::test_early_stopping_thresholds (patience 3)
    (None, None, [8, 4, 2, 3, 4, 5, 8, 10], 5),
    (2.9, None, [9, 8, 7, 6, 5, 6, 4, 3, 2, 1], 8),
    (None, 15.9, [9, 4, 2, 16, 32, 64], 3),
])
def test_lightning_threshold_scenarios(stopping, divergence, losses, stop):
    r = sim(losses, patience=3, flavor="lightning", stopping_threshold=stopping,
            divergence_threshold=divergence)
    assert r.stopped_index == stop


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_lightning_stops_on_non_finite(bad):
    # test_early_stopping_on_non_finite_monitor: losses [4, 3, bad, 2, 1] stop at epoch 2
    r = sim([4, 3, bad, 2, 1], patience=3, flavor="lightning")
    assert r.stopped_index == 2 and "not finite" in r.reason
    assert sim([4, 3, bad, 2, 1], patience=3, flavor="lightning", check_finite=False).stopped_index is None


def test_lightning_can_stop_at_index_zero_and_keeps_min_delta_sign():
    assert sim([1.0, 2.0], patience=0, flavor="lightning").stopped_index == 1
    # a negative min_delta makes Lightning (unlike Keras) accept small worsenings as improvements
    r = sim([1.0, 1.05, 1.08], patience=1, flavor="lightning", min_delta=-0.1)
    assert r.stopped_index is None and r.best_index == 2
    assert sim([1.0, 1.05, 1.08], patience=1, min_delta=-0.1).stopped_index == 1


# ----------------------------------------------------------------------------- Hugging Face


def test_hf_threshold_does_not_stop_best_from_moving():
    # 9.99 beats 10 but by less than the threshold: the counter grows, yet best_metric moves.
    r = sim([10.0, 9.99, 9.98, 9.97], patience=3, min_delta=0.05, flavor="hf")
    assert r.wait_history == [0, 1, 2, 3] and r.stopped_index == 3
    assert (r.best_index, r.best_value) == (3, 9.97)
    keras = sim([10.0, 9.99, 9.98, 9.97], patience=3, min_delta=0.05)
    assert keras.best_index == 0 and keras.stopped_index == 3


def test_hf_patience_counts_like_keras_on_keras_scenario():
    assert [sim(KERAS_LOSSES, patience=p, flavor="hf").stopped_index for p in (1, 2, 3)] == [3, 4, 5]
    # patience 0 would stop at the very first evaluation (counter 0 >= 0)
    assert sim(KERAS_LOSSES, patience=0, flavor="hf").stopped_index == 0


def test_hf_nan_first_value_is_not_best():
    r = sim([math.nan, 2.0, 3.0], patience=1, flavor="hf")
    assert r.best_index == 1 and r.stopped_index == 2


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("kwargs, match", [
    ({"flavor": "tf"}, "flavor"),
    ({"mode": "auto"}, "mode"),
    ({"patience": -1}, "patience"),
    ({"patience": 1.5}, "patience"),
    ({"baseline": 1.0, "flavor": "hf"}, "baseline"),
    ({"stopping_threshold": 1.0}, "Lightning"),
    ({"start_from": -2}, "start_from"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sim([1.0, 2.0], **kwargs)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.01, 10), min_size=1, max_size=30), st.integers(0, 6),
       st.sampled_from(["keras", "hf", "lightning"]))
def test_more_patience_never_stops_earlier(values, patience, flavor):
    a = sim(values, patience=patience, flavor=flavor).stopped_index
    b = sim(values, patience=patience + 1, flavor=flavor).stopped_index
    a = len(values) if a is None else a
    b = len(values) if b is None else b
    assert b >= a


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.01, 10), min_size=1, max_size=30), st.integers(0, 6))
def test_without_min_delta_best_is_the_minimum_seen_before_stopping(values, patience):
    for flavor in ("keras", "hf", "lightning"):
        r = sim(values, patience=patience, flavor=flavor)
        end = len(values) if r.stopped_index is None else r.stopped_index + 1
        seen = np.asarray(values[:end])
        assert r.best_value == seen.min() and r.best_index == int(np.argmin(seen))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "0.01", None])
def test_min_delta_must_be_a_finite_number(bad):
    with pytest.raises(ValueError, match="min_delta must be a finite number"):
        sim([1.0, 0.9, 0.95], patience=1, min_delta=bad)


# ----------------------------------------------------------------------------- min_delta and noise

from ftlab.curves.min_delta import evaluation_noise, min_delta_advice  # noqa: E402
from ftlab.curves.selection import (  # noqa: E402
    by_patience_sweep, lowest, optimism_summary, split_half_selection)


def test_evaluation_noise_ignores_a_straight_trend_and_measures_step_to_step_noise():
    assert evaluation_noise(np.linspace(3.0, 1.0, 40)) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(3)
    noisy = np.linspace(3.0, 1.0, 20000) + 0.1 * rng.standard_normal(20000)
    # a step-to-step change of independent noise 0.1 spreads by 0.1·√2
    assert evaluation_noise(noisy) == pytest.approx(0.1 * math.sqrt(2), rel=0.03)
    assert evaluation_noise([1.0, 2.0]) is None
    assert evaluation_noise([1.0, np.nan, 2.0, 3.0, 4.0]) == pytest.approx(0.0)


def test_min_delta_advice_on_the_shipped_runs():
    import ftlab

    def advice(name, patience):
        return min_delta_advice(ftlab.load_sample(name).metrics["valid_loss"].dropna().to_numpy(),
                                patience=patience)

    noisy = advice("ms-thesis-legacy", 5)  # a level that falls less than one step's noise
    assert noisy.level_fall < noisy.noise and "no min_delta separates" in noisy.text
    smooth = advice("tinyllama-trl", 1)  # tiny noise, a real fall at every evaluation
    assert smooth.noise < smooth.level_fall and "Start near" in smooth.text
    assert (smooth.falls[1:] > 0).all() and np.isnan(smooth.falls[0])
    rising = advice("patent-insights", 2)  # lowest at the first evaluation
    assert rising.level_fall == 0 and "never falls below its start" in rising.text
    assert str(rising) == rising.text


@pytest.mark.parametrize("values, patience", [([1.0, 2.0], 1), ([1.0, 2.0, 3.0], 0)])
def test_min_delta_advice_rejects_what_it_cannot_judge(values, patience):
    with pytest.raises(ValueError):
        min_delta_advice(values, patience=patience)


# ----------------------------------------------------------------------------- the winner's curse


def _equal_candidates(n_candidates=15, n_examples=40, seed=0):
    """Candidates equally good in truth: each example's difficulty plus independent noise."""
    rng = np.random.default_rng(seed)
    return (1.0 + 0.3 * rng.standard_normal((1, n_examples))
            + 0.1 * rng.standard_normal((n_candidates, n_examples)))


def test_a_candidate_fixed_in_advance_has_no_optimism_on_average():
    losses = _equal_candidates()
    table = split_half_selection(losses, choose=lambda curve: 3, n_splits=40, seed=1)
    assert len(table) == 80 and set(table["chosen"]) == {3}
    assert abs(table["optimism"].mean()) < 1e-12  # every split used both ways round
    assert (table["optimism"] == table["heldout_loss"] - table["selection_loss"]).all()


def test_choosing_the_lowest_is_optimistic_and_the_held_out_half_is_not_fooled():
    losses = _equal_candidates()
    table = split_half_selection(losses, n_splits=60, seed=2)
    optimism = table["optimism"].mean()
    assert optimism > 0.01
    # the candidates are equally good in truth: the held-out half reports the chosen one about as
    # good as the average candidate, the selection half reports it better by the optimism
    assert abs(table["heldout_loss"].mean() - losses.mean()) < optimism / 4
    assert losses.mean() - table["selection_loss"].mean() > optimism / 2


def test_weights_make_a_half_the_token_weighted_mean():
    losses = np.array([[1.0, 3.0], [2.0, 2.0]])
    table = split_half_selection(losses, weights=[1.0, 3.0], n_splits=1, seed=0)
    for row in table.itertuples():
        assert row.selection_loss in (1.0, 2.0, 3.0) and row.heldout_loss in (1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="weights"):
        split_half_selection(losses, weights=[1.0])
    with pytest.raises(ValueError, match="2-D"):
        split_half_selection([1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        split_half_selection([[1.0, np.nan], [1.0, 2.0]])
    with pytest.raises(ValueError, match="n_splits"):
        split_half_selection(losses, n_splits=0)


def test_by_patience_sweep_keeps_the_lowest_evaluation_some_patience_reaches():
    curve = np.array([3.0, 2.0, 2.5, 2.6, 2.7, 1.0, 1.5])
    assert by_patience_sweep(range(0, 2))(curve) == 1  # patience <= 1 stops before index 5
    assert by_patience_sweep(range(0, 5))(curve) == 5 == lowest(curve)


def test_optimism_summary_counts_runs_not_splits():
    import pandas as pd

    def table(values):
        return pd.DataFrame({"optimism": values, "selection_loss": [1.0] * len(values),
                             "heldout_loss": [1.0 + v for v in values]})

    s = optimism_summary([table([0.01, 0.03]), table([0.02, 0.04]), table([0.03, 0.05])])
    assert s["runs"] == 3 and s["mean"] == pytest.approx(0.03)
    assert s["per_run"] == pytest.approx([0.02, 0.03, 0.04])
    half = 4.302653 * 0.01 / math.sqrt(3)  # Student's t quantile 0.975, 2 degrees of freedom
    assert (s["low"], s["high"]) == pytest.approx((0.03 - half, 0.03 + half))
    one = optimism_summary(table([0.01, 0.02]))
    assert one["runs"] == 1 and math.isnan(one["low"]) and math.isnan(one["high"])
    with pytest.raises(ValueError):
        optimism_summary([])
