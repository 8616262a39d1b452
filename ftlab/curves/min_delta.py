"""How to choose ``min_delta``: against the curve's own noise, measured from its values.

:func:`evaluation_noise` measures how far a monitored value moves from one evaluation to the next
by noise alone; :func:`min_delta_advice` turns that and how far the curve really falls into advice.
A ``min_delta`` below the noise lets noise count as improvement; one above the real fall per
``patience`` evaluations stops training while it is still improving.
"""

import math
from dataclasses import dataclass

import numpy as np


def evaluation_noise(values):
    """How much ``values`` (one monitored value per evaluation) move from one evaluation to the
    next by noise alone: the standard deviation of the step-to-step change, in the values' units.

    It is read from the second differences ``v[i+1] - 2 v[i] + v[i-1]``, in which a straight trend
    cancels: for independent noise of standard deviation s per evaluation they have standard
    deviation s·√6, and a step-to-step change s·√2. The median of their sizes (not the mean)
    keeps a few spikes from inflating it. A curve that bends adds its bend to the second
    differences, so on a smooth, curved run this is an upper bound. ``None`` under 3 values.

    >>> rng = np.random.default_rng(0)
    >>> flat = 1.0 + 0.05 * rng.standard_normal(5000)          # noise 0.05 per evaluation
    >>> round(evaluation_noise(flat), 3), round(0.05 * math.sqrt(2), 3)
    (0.071, 0.071)
    >>> round(evaluation_noise(np.linspace(2, 1, 50)), 6)       # a straight fall has no noise
    0.0
    """
    y = np.asarray(values, dtype=float)
    y = y[np.isfinite(y)]
    if len(y) < 3:
        return None
    second = y[2:] - 2 * y[1:-1] + y[:-2]
    # median |N(0, s)| = 0.6745 s, and the step-to-step change has s·√2 = (s·√6)/√3
    return float(np.median(np.abs(second)) / 0.6745 / math.sqrt(3))


@dataclass
class MinDeltaAdvice:
    """What :func:`min_delta_advice` found: ``noise`` (:func:`evaluation_noise`), ``falls`` (how
    much the values fell over the ``patience`` evaluations before each one; NaN for the first),
    ``level_fall`` (how far the curve's level, the mean of ``window`` consecutive evaluations,
    fell from its start to its lowest) and the advice in words (``text``, also ``str()``)."""

    noise: float
    falls: np.ndarray
    level_fall: float
    window: int
    patience: int
    text: str

    def __str__(self):
        return self.text


def min_delta_advice(values, patience=1):
    """Advice for ``min_delta`` on a curve like ``values``, judged against its own noise.

    A ``min_delta`` below the step-to-step noise lets a dip of noise alone count as an
    improvement (it resets the patience counter and becomes the kept "best"); one above the fall
    the curve still makes over ``patience`` evaluations stops training while it is improving. When
    the curve's level never falls by more than its noise, no ``min_delta`` separates the two:
    lower the noise first (more validation examples per evaluation, or the full validation set;
    or monitor a smoothed value, with a patience longer than the smoothing's lag).

    >>> a = min_delta_advice([1.6, 1.42, 1.36, 1.30, 1.25, 1.21, 1.18, 1.15, 1.14], patience=1)
    >>> a.noise < a.level_fall
    True
    """
    y = np.asarray(values, dtype=float)
    y = y[np.isfinite(y)]
    if len(y) < 3:
        raise ValueError(f"min_delta_advice needs at least 3 evaluations to measure noise, got {len(y)}")
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
        raise ValueError(f"patience must be a whole number of evaluations >= 1, got {patience!r}")
    noise = evaluation_noise(y)
    falls = np.full(len(y), np.nan)
    falls[patience:] = y[:-patience] - y[patience:]
    window = max(1, len(y) // 10)  # levels average out noise; ten of them show the trend
    level = np.convolve(y, np.ones(window) / window, mode="valid")
    level_fall = float(level[0] - level.min())
    means = f"means of {window} evaluations" if window > 1 else "the evaluations themselves"
    if level_fall <= 0:
        text = (f"The curve's level ({means}) never falls below its start: there is no "
                f"improvement for min_delta to protect or to miss, so any min_delta keeps the "
                f"first evaluations and patience alone sets how long training goes on. Its "
                f"step-to-step noise is {noise:.4g}.")
    elif level_fall <= noise:
        text = (f"The curve's level ({means}) falls {level_fall:.4g} in all, no more than the "
                f"step-to-step noise {noise:.4g}: no min_delta separates improvement from noise "
                f"here. Below {noise:.4g} a dip of noise counts as an improvement; above it every "
                f"real improvement is ignored too. Lower the noise first: more validation "
                f"examples per evaluation (or the full validation set), or monitor a smoothed "
                f"loss (smoothing=...) with a patience longer than the smoothing's lag.")
    else:
        text = (f"Step-to-step noise {noise:.4g}: a min_delta below it lets a dip of noise count "
                f"as an improvement. The curve's level ({means}) falls {level_fall:.4g} in all; a "
                f"min_delta above the fall it still makes over {patience} evaluation(s) stops "
                f"training while it improves (see falls). Start near {noise:.4g} and raise it "
                f"only up to the smallest fall you still want to train for.")
    return MinDeltaAdvice(noise=noise, falls=falls, level_fall=level_fall, window=window,
                          patience=int(patience), text=text)
