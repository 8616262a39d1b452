"""diagnose calibrated on synthetic runs of known truth: how often it cries "overfitting" on healthy
runs, how often it sees a real 30 % rise, and that diverging and full-validation-only runs are judged.

Every run has 1000 steps; training loss decays with 8 % per-step noise. Validation is measured at
40 evaluations (every 25 steps) with noise of 8 % of its level per evaluation:

- healthy: validation decays like training (a random time scale, so some are flat for long);
- flat: validation constant plus noise, the hardest healthy case for a false alarm;
- overfit: validation falls to a minimum at 20-50 % of the run, then its trend rises linearly to
  30 % above that minimum at the end;
- diverging: training (and validation) blow up from 30-70 % of the run, or turn NaN/inf;
- full: no per-step validation; ``full_valid_loss`` at each of 8 epoch ends (1 % noise).

The measured rates are in ``ftlab.curves.diagnosis``'s docstring; this test recomputes them.
"""

import numpy as np
import pytest

from ftlab.curves.diagnosis import diagnose_curves

SEEDS = range(400)
N_STEPS, EVERY, NOISE = 1000, 25, 0.08


def synthetic_run(kind, seed):
    """``(steps, train_loss, valid_loss, full_valid_loss)`` of a run whose truth is ``kind``."""
    rng = np.random.default_rng(seed)
    s = np.arange(1, N_STEPS + 1, dtype=float)
    scale = N_STEPS * rng.uniform(0.05, 0.5)
    train = 0.5 + 1.5 * np.exp(-s / scale)
    valid = 0.7 + 1.4 * np.exp(-s / scale)
    if kind == "flat":
        valid = np.full_like(s, 1.0)
    elif kind == "overfit":
        turn = N_STEPS * rng.uniform(0.2, 0.5)
        low = 0.7 + 1.4 * np.exp(-turn / scale)
        rise = 0.3 * low * (s - turn) / (N_STEPS - turn)
        valid = np.where(s <= turn, valid, low + rise)
    elif kind == "diverging":
        start = N_STEPS * rng.uniform(0.3, 0.7)
        blow = np.exp(np.clip(s - start, 0, None) / (N_STEPS * 0.05))
        train, valid = train * blow, valid * blow
        if seed % 2:  # half of them overflow to inf/NaN
            train[s > start + 150] = rng.choice([np.inf, np.nan])
    train = train * (1 + NOISE * rng.standard_normal(N_STEPS))
    evaluated = s % EVERY == 0
    noisy_valid = valid * (1 + NOISE * rng.standard_normal(N_STEPS))
    full = np.full_like(s, np.nan)
    if kind == "full":
        ends = s % (N_STEPS // 8) == 0
        full[ends] = valid[ends] * (1 + 0.01 * rng.standard_normal(ends.sum()))
        evaluated[:] = False
    return s, train, np.where(evaluated, noisy_valid, np.nan), full


def rate(kind, verdicts):
    runs = (synthetic_run(kind, seed) for seed in SEEDS)
    hits = [diagnose_curves(s, t, v, full_valid_loss=f).verdict in verdicts for s, t, v, f in runs]
    return float(np.mean(hits))


def measured_rates():
    """The calibration table of the docstring, recomputed."""
    judged = ("overfitting", "underfitting", "still-improving", "converged")
    return {"healthy": rate("healthy", {"overfitting"}), "flat": rate("flat", {"overfitting"}),
            "overfit": rate("overfit", {"overfitting"}),
            "diverging": rate("diverging", {"unstable"}), "full": rate("full", judged)}


@pytest.fixture(scope="module")
def rates():
    return measured_rates()


def test_healthy_runs_rarely_called_overfitting(rates):
    assert rates["healthy"] <= 0.05 and rates["flat"] <= 0.05, rates


def test_a_30_percent_rise_is_seen(rates):
    assert rates["overfit"] >= 0.95, rates


def test_diverging_runs_are_unstable(rates):
    assert rates["diverging"] == 1.0, rates


def test_full_validation_only_runs_are_judged(rates):
    assert rates["full"] == 1.0, rates


def test_synthetic_truths_are_what_they_claim():
    s, t, v, f = synthetic_run("overfit", 3)
    trend = synthetic_run("overfit", 3)  # same seed, same curve
    assert np.array_equal(np.isnan(v), np.isnan(trend[2])) and np.isnan(f).all()
    s, t, v, f = synthetic_run("full", 3)
    assert np.isnan(v).all() and (~np.isnan(f)).sum() == 8


if __name__ == "__main__":  # print the table for the docstring
    print(measured_rates())
