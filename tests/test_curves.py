"""smooth against TensorBoard's own test vectors; diagnose on synthetic curves made for each verdict."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftlab.curves import diagnosis as curves
from ftlab.curves.diagnosis import diagnose_curves
from ftlab.curves.smoothing import smooth

# ----------------------------------------------------------------------------- smooth
# Vectors from TensorBoard's data_transformer_test.ts (line_chart_v2, classicSmoothing).


def test_tensorboard_smooths_two_series():
    assert smooth([1, 0.5, 0], 0.6) == pytest.approx(
        [1, 0.6875, ((0.5 * 0.4 + 0.4 * 1 * 0.6) * 0.6 + 0) / (1 - 0.6**3)], abs=1e-15)
    assert smooth([0, 0.5, 1], 0.6) == pytest.approx(
        [0, 0.3125, (1 * 0.4 + 0.5 * 0.4 * 0.6) / (1 - 0.6**3)], abs=1e-15)
    assert smooth([], 0.6).tolist() == []


def test_tensorboard_weight_zero_is_identity():
    assert smooth([1, 0.5, 0], 0.0).tolist() == [1, 0.5, 0]


def test_tensorboard_non_finite_points_pass_through_without_advancing():
    out = smooth([-math.inf, 1, math.nan, math.inf, 0.5], 0.6)
    assert out[0] == -math.inf and out[1] == 1 and math.isnan(out[2]) and out[3] == math.inf
    assert out[4] == 0.6875


def test_tensorboard_weight_one_gives_zero():
    assert smooth([1, 0.5, 0], 1).tolist() == [0, 0, 0]


def test_tensorboard_constant_series_has_no_float_noise():
    assert smooth([0.3, 0.3, 0.3], 0.1).tolist() == [0.3, 0.3, 0.3]


@pytest.mark.parametrize("weight", [math.nan, -1, -math.inf, math.inf])
def test_tensorboard_clips_bad_weights_to_zero(weight):
    assert smooth([1, 0.5], weight).tolist() == [1, 0.5]


def test_tensorboard_clips_large_weight_to_one():
    assert smooth([1, 0.5], 2).tolist() == [0, 0]


def test_smooth_keeps_a_pandas_index():
    pd = pytest.importorskip("pandas")
    s = pd.Series([1.0, 0.5, 0.0], index=[10, 20, 30], name="train_loss")
    out = smooth(s, 0.6)
    assert list(out.index) == [10, 20, 30] and out.name == "train_loss"
    assert out.iloc[1] == 0.6875


def test_smooth_rejects_2d():
    with pytest.raises(ValueError, match="1-D"):
        smooth([[1, 2], [3, 4]])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=40), st.floats(0, 0.999))
def test_smoothed_values_are_weighted_averages_of_the_points_so_far(ys, w):
    out = smooth(ys, w)
    for i in range(len(ys)):
        lo, hi = min(ys[: i + 1]), max(ys[: i + 1])
        tol = 1e-9 * max(1.0, abs(lo), abs(hi))
        assert lo - tol <= out[i] <= hi + tol


# ----------------------------------------------------------------------------- diagnose


def _run(train, valid, every=20, n=600, seed=0, noise=0.02):
    rng = np.random.default_rng(seed)
    steps = np.arange(1, n + 1)
    tr = train(steps) * (1 + noise * rng.standard_normal(n))
    va = np.where(steps % every == 0, valid(steps), np.nan)
    return steps, tr, va


def _decay(start, end, scale):
    return lambda s: end + (start - end) * np.exp(-s / scale)


SYNTHETIC = {
    "no-validation": _run(_decay(2, 0.3, 100), lambda s: np.full(s.shape, np.nan)),
    "too-little-validation": _run(_decay(2, 0.3, 100), _decay(2.1, 0.5, 100), every=300),
    "unstable": _run(lambda s: 1.0 + s / 400, lambda s: 1.2 + s / 400),
    "overfitting": _run(_decay(2, 0.1, 100), lambda s: 0.6 + 0.8 * ((s - 160) / 440) ** 2),
    "underfitting": _run(_decay(2.0, 1.9, 300), _decay(2.1, 2.0, 300)),
    "still-improving": _run(_decay(2, 0.2, 600), _decay(2.1, 0.3, 600)),
    "converged": _run(_decay(2, 0.3, 60), _decay(2.1, 0.5, 60)),
}


@pytest.mark.parametrize("verdict", sorted(SYNTHETIC))
def test_synthetic_curve_gets_its_verdict(verdict):
    d = diagnose_curves(*SYNTHETIC[verdict])
    assert d.verdict == verdict, str(d)
    assert d.advice and d.reasons


def test_every_verdict_has_a_synthetic_curve_and_advice():
    assert set(SYNTHETIC) == set(curves.VERDICTS) == set(curves.ADVICE)


def test_overfitting_evidence_points_at_the_turn():
    d = diagnose_curves(*SYNTHETIC["overfitting"])
    assert d.best_valid_step == 160 and d.rise_step == 180
    assert d.final_valid_loss > d.best_valid_loss and d.valid_slope > 0 > d.train_slope
    assert "160" in d.advice


def test_thresholds_decide_the_verdict(monkeypatch):
    steps, tr, va = SYNTHETIC["still-improving"]
    monkeypatch.setattr(curves, "MIN_FALL", 0.99)  # demand more fall at the end
    assert diagnose_curves(steps, tr, va).verdict == "converged"


def test_non_finite_training_loss_is_unstable():
    steps, tr, va = SYNTHETIC["converged"]
    tr = tr.copy()
    tr[400] = np.inf
    assert diagnose_curves(steps, tr, va).verdict == "unstable"


def test_jumpy_validation_alone_is_not_unstable():
    # batch-to-batch noise in validation says nothing about training: judged within its noise
    rng = np.random.default_rng(1)
    steps, tr, va = SYNTHETIC["converged"]
    va = np.abs(va * (1 + 0.4 * rng.standard_normal(va.shape)))
    d = diagnose_curves(steps, tr, va)
    assert d.verdict == "converged" and d.valid_noise > 0.2 and d.rise_needed > 0.3


def test_one_validation_point_is_too_little_not_none():
    steps, tr, _ = SYNTHETIC["converged"]
    va = np.where(steps == 600, 0.5, np.nan)
    d = diagnose_curves(steps, tr, va)
    assert d.verdict == "too-little-validation" and d.n_valid == 1


def test_full_validation_is_used_when_it_is_the_validation_there_is():
    steps, tr, _ = SYNTHETIC["overfitting"]
    full = np.where(steps % 100 == 0, 0.6 + 0.8 * ((steps - 160) / 440) ** 2, np.nan)
    d = diagnose_curves(steps, tr, None, full_valid_loss=full)
    assert d.valid_column == "full_valid_loss" and d.verdict == "overfitting"


def test_single_low_point_does_not_make_overfitting():
    # the old rule compared the single lowest point with the end: one lucky batch was enough
    rng = np.random.default_rng(2)
    steps, tr, va = SYNTHETIC["converged"]
    va = va * (1 + 0.08 * rng.standard_normal(va.shape))
    va[steps == 300] *= 0.7
    d = diagnose_curves(steps, tr, va)
    assert d.verdict == "converged" and d.best_valid_step == 300


def test_rising_training_loss_is_unstable_whatever_validation_does():
    steps, tr, va = SYNTHETIC["converged"]
    tr = tr * np.where(steps > 300, np.exp((steps - 300) / 100), 1.0)
    assert diagnose_curves(steps, tr, va).verdict == "unstable"
    assert diagnose_curves(steps, tr, None).verdict == "unstable"


def test_best_epoch_and_repeats_in_the_evidence():
    steps, tr, va = SYNTHETIC["overfitting"]
    d = diagnose_curves(steps, tr, va, epoch=steps / 200)
    assert (d.best_epoch, d.best_before_repeat) == (1, True)
    assert any("before any training example was seen twice" in r for r in d.reasons)


def test_best_after_epoch_1_is_after_repeats_and_advice_may_name_memorising():
    steps, tr, va = SYNTHETIC["overfitting"]            # validation lowest at step 160
    d = diagnose_curves(steps, tr, va, epoch=steps / 100)  # 100 steps per epoch: 160 is in epoch 2
    assert (d.best_epoch, d.best_before_repeat, d.first_repeat_step) == (2, False, 101)
    assert any("in epoch 2: after every training example had been seen" in r for r in d.reasons)
    assert "memorising repeated examples" in d.advice and "did not cause" not in d.advice


def test_best_in_epoch_1_advice_rules_memorising_out():
    steps, tr, va = SYNTHETIC["overfitting"]
    d = diagnose_curves(steps, tr, va, epoch=steps / 200)
    assert d.first_repeat_step == 201
    assert "memorising repeated examples did not cause the turn" in d.advice
    assert "as it does when it starts memorising" not in d.advice
    assert "examples repeat from step 201" in d.reasons[-1]


def test_unknown_epochs_say_so_in_the_advice():
    d = diagnose_curves(*SYNTHETIC["overfitting"])
    assert (d.best_epoch, d.best_before_repeat, d.first_repeat_step) == (None, None, None)
    assert "epochs are unknown" in d.advice and "epochs are unknown" in d.reasons[-1]


def test_the_shipped_overfitting_run_turned_in_epoch_1_before_any_repeat():
    # patent-insights: 555 steps per epoch (meta), validation lowest at step 100
    import ftlab

    d = ftlab.diagnose(ftlab.load_sample("patent-insights"))
    assert (d.verdict, d.best_epoch, d.best_before_repeat) == ("overfitting", 1, True)
    assert d.best_valid_step == 100 and d.first_repeat_step == 556
    assert "did not cause the turn" in d.advice and "step 100" in d.advice
    for cause in ("noisy", "style", "learning-rate multiplier"):
        assert cause in d.advice


def test_a_shipped_run_whose_best_is_after_epoch_1():
    import ftlab

    d = ftlab.diagnose(ftlab.load_sample("azure-storytelling"))  # 100 steps per epoch
    assert (d.verdict, d.best_epoch, d.best_before_repeat) == ("overfitting", 2, False)
    assert d.best_level_step > d.first_repeat_step == 101
    assert "did not cause" not in d.advice


def test_full_validation_wins_a_tie_with_per_step_validation():
    steps, tr, _ = SYNTHETIC["converged"]
    ends = steps % 60 == 0
    va = np.where(ends, 0.55, np.nan)
    full = np.where(ends, 0.5, np.nan)
    assert diagnose_curves(steps, tr, va, full_valid_loss=full).valid_column == "full_valid_loss"


def test_a_decayed_learning_rate_is_named_when_a_run_flattens():
    steps, tr, va = SYNTHETIC["converged"]
    lr = 1e-4 * (1 - steps / steps[-1])
    d = diagnose_curves(steps, tr, va, learning_rate=lr)
    assert d.verdict == "converged" and d.final_lr_ratio == 0
    assert "learning rate ended at 0.00% of its largest" in d.reasons[-1]
    assert diagnose_curves(steps, tr, va).final_lr_ratio is None


def test_diagnose_curves_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        diagnose_curves([1, 2, 3], [1.0, 0.9], None)


def test_diagnose_without_training_loss_names_the_run():
    with pytest.raises(ValueError, match="my-run has no training loss"):
        diagnose_curves([1, 2], [np.nan, np.nan], None, name="my-run")
