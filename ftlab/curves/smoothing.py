"""TensorBoard's smoothing of a noisy curve: a debiased exponential moving average.

``smooth`` is what TensorBoard (and ftlab's plots) draw over a noisy loss curve; its lag is what
notebook 03 teaches next to it.
"""

import math

import numpy as np


def smooth(values, weight=0.6):
    """TensorBoard's scalar smoothing: a debiased exponential moving average.

    For each finite point y (n counts the finite points so far, ``last`` starts at 0)::

        last = last * w + (1 - w) * y
        smoothed = last / (1 - w**n)

    Dividing by ``1 - w**n`` removes the pull towards the starting 0, so the first smoothed value
    is the first value itself. Non-finite points (NaN, ±inf: steps without a value) are passed
    through unchanged and do not move the average. A constant series comes back unchanged.
    ``weight`` is clamped to [0, 1] (NaN/±inf count as 0); 0 means no smoothing, and 1 freezes
    the average at its starting 0, exactly as TensorBoard does.

    Returns a float array (a pandas Series with the same index if given one).

    >>> smooth([1, 0.5, 0], 0.6).round(5).tolist()
    [1.0, 0.6875, 0.33673]
    >>> smooth([1.0, float("nan"), 0.5], 0.6).tolist()
    [1.0, nan, 0.6875]
    """
    w = float(weight)
    w = min(max(w, 0.0), 1.0) if math.isfinite(w) else 0.0
    ys = np.asarray(values, dtype=float)
    if ys.ndim != 1:
        raise ValueError(f"smooth expects one series (1-D), got shape {ys.shape}")
    if ys.size == 0 or bool(np.all(ys == ys[0])):
        out = ys.copy()  # TensorBoard returns constant series as they are (no rounding noise)
    else:
        out = _debiased_ema(ys, w)
    if type(values).__module__.startswith("pandas") and hasattr(values, "index"):
        return type(values)(out, index=values.index, name=getattr(values, "name", None))
    return out


def _debiased_ema(ys, w):
    out = ys.copy()
    last, n = 0.0, 0
    for i, y in enumerate(ys.tolist()):  # a plain loop: same float operations as TensorBoard
        if not math.isfinite(y):
            continue
        last = last * w + (1.0 - w) * y
        n += 1
        out[i] = last / (1.0 if w == 1.0 else 1.0 - w**n)
    return out
