"""Cross-entropy, perplexity and token accuracy, in plain numpy.

The course's formula for one prediction is L = -sum_i y_i log p_i. With a one-hot target y only the
correct class survives, so L = -log p_correct. A fine-tuning dashboard's "training loss" is that
number averaged over every token the loss counts; perplexity is P = e^L.

Every function takes float32 or float64 arrays with any leading batch shape: logits are
``(..., C)`` and integer targets are ``(...)``.
"""

import math

import numpy as np

# Rows of logits are processed in chunks of about this many bytes: small enough that a chunk and
# its scratch copy stay in the CPU's L2 cache between the passes over it (max, subtract, exp, sum),
# so a huge (8192, 100_000) float32 batch is read from memory about once and needs only a tiny
# temporary instead of a second full copy.
_CHUNK_BYTES = 1 << 19

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------- checks


def _float_array(x, name):
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have a class axis, got a scalar")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); there is nothing to score")
    return arr


def _check_logits_targets(logits, targets, ignore_index):
    logits = _float_array(logits, "logits")
    targets = np.asarray(targets)
    if targets.dtype.kind not in "iu":
        raise ValueError(
            f"targets must be integer class indices, got dtype {targets.dtype}; "
            "for probability (soft) targets use cross_entropy_from_probs"
        )
    if targets.shape != logits.shape[:-1]:
        raise ValueError(
            f"targets shape {targets.shape} does not match logits shape {logits.shape}: "
            f"targets must have the logits' shape without the class axis, {logits.shape[:-1]}"
        )
    n_classes = logits.shape[-1]
    used = targets[targets != ignore_index]
    bad = used[(used < 0) | (used >= n_classes)]
    if bad.size:
        raise ValueError(
            f"targets contain {bad.flat[0]}, outside the {n_classes} classes of logits "
            f"(valid: 0..{n_classes - 1}, or ignore_index={ignore_index})"
        )
    return logits, targets


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _row_chunks(n_rows, row_bytes):
    step = max(1, _CHUNK_BYTES // max(1, row_bytes))
    for start in range(0, n_rows, step):
        yield start, min(n_rows, start + step)


# ----------------------------------------------------------------------------- softmax


def log_softmax(logits, axis=-1):
    """Numerically stable log of softmax: x - logsumexp(x).

    Subtracting the maximum first keeps ``exp`` from overflowing, so logits of 1e4 work where
    ``np.log(softmax(x))`` gives ``nan``.

    >>> log_softmax([10000.0, 0.0]).round(3).tolist()
    [0.0, -10000.0]
    """
    x = _float_array(logits, "logits")
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(logits, axis=-1):
    """Probabilities from logits: exp(x_i) / sum_j exp(x_j), computed stably.

    >>> softmax([0.0, 0.0, 0.0, 0.0]).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    return np.exp(log_softmax(logits, axis=axis))


# ----------------------------------------------------------------------------- cross-entropy


def _logsumexp_rows(chunk, scratch, start):
    """log Σ_c exp(x_c) of each row, in float64, using ``scratch`` (chunk-shaped) as the only buffer.

    The row maximum doubles as the input check: it is NaN or +inf exactly when the row holds a NaN
    or a +inf (-inf is a legitimate mask), so no separate pass looks for them. The sum of
    exp(x - max) is accumulated in the logits' own dtype: every term is in [0, 1] and the largest
    is 1, so numpy's pairwise summation keeps the relative error of a float32 sum below about
    30 float32 epsilons (4e-6) for any row length up to 10^7, an absolute error of at most 4e-6
    nats in the loss -- smaller than float32 logits can resolve. float64 logits are summed in
    float64. tests/test_losses.py checks the bound against a float64 reference.
    """
    m = chunk.max(axis=-1)
    broken = np.isnan(m) | (m == np.inf)
    if broken.any():
        row = start + int(np.argmax(broken))
        raise ValueError(f"logits contain NaN or +inf (first in row {row} of the flattened batch)")
    with np.errstate(invalid="ignore"):  # a row of only -inf: -inf - -inf, NaN like PyTorch's
        np.subtract(chunk, m[:, None], out=scratch)
    np.exp(scratch, out=scratch)
    return m.astype(np.float64) + np.log(scratch.sum(axis=-1).astype(np.float64))


def _reduce(per_item, denominators, reduction, shape):
    if reduction == "none":
        return per_item.reshape(shape)
    total = per_item.sum()
    if reduction == "sum":
        return total
    count = denominators.sum()
    return total / count if count > 0 else np.float64(np.nan)


def cross_entropy(logits, targets, *, ignore_index=-100, weights=None, label_smoothing=0.0,
                  reduction="mean"):
    """Cross-entropy of integer targets under softmax(logits), as PyTorch defines it.

    Per item: ``-log p[target]`` (optionally times the class weight ``weights[target]``).
    ``reduction="mean"`` divides by the number of counted targets (by the sum of their weights
    when ``weights`` is given); ``"sum"`` adds; ``"none"`` returns the per-item losses, 0 where
    the target equals ``ignore_index``. This is how chat fine-tuning counts only assistant
    tokens: every other position gets ``ignore_index``. If every target is ignored the mean is NaN.

    Label smoothing ε mixes in a uniform target:
    ``(1-ε)·(-log p[target]) + (ε/C)·Σ_c (-log p_c)``.

    Works in chunks of rows, so a (8192, 100_000) float32 batch needs only a small temporary.
    The result is float64.

    >>> round(float(cross_entropy([[2.0, 1.0, 0.1]], [0])), 4)
    0.417
    >>> cross_entropy([[0.0, 0.0], [5.0, 0.0]], [1, -100], reduction="none").round(4).tolist()
    [0.6931, 0.0]
    """
    _check_reduction(reduction)
    logits, targets = _check_logits_targets(logits, targets, ignore_index)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    n_classes = logits.shape[-1]
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (n_classes,):
            raise ValueError(f"weights must have shape ({n_classes},) (one per class), got {w.shape}")
        if (w < 0).any() or not np.isfinite(w).all():
            raise ValueError("weights must be finite and non-negative")

    flat_logits = logits.reshape(-1, n_classes)
    flat_targets = targets.reshape(-1)
    counted = flat_targets != ignore_index
    safe_targets = np.where(counted, flat_targets, 0)
    target_weight = (w[safe_targets] if w is not None else np.ones(len(flat_targets))) * counted
    target_logit = flat_logits[np.arange(len(flat_targets)), safe_targets].astype(np.float64)
    lse = np.empty(len(flat_targets), dtype=np.float64)
    smooth = np.zeros(len(flat_targets), dtype=np.float64)  # sum_c w_c·(-log p_c), when smoothing

    row_bytes = n_classes * flat_logits.itemsize
    scratch = np.empty((max(1, _CHUNK_BYTES // row_bytes), n_classes), dtype=flat_logits.dtype)
    for start, stop in _row_chunks(len(flat_targets), row_bytes):
        chunk = flat_logits[start:stop]
        lse[start:stop] = _logsumexp_rows(chunk, scratch[:stop - start], start)
        if label_smoothing:  # = lse·sum(w) - x·w, without materialising log p
            if w is None:
                smooth[start:stop] = n_classes * lse[start:stop] - chunk.sum(axis=-1, dtype=np.float64)
            else:
                smooth[start:stop] = lse[start:stop] * w.sum() - chunk.astype(np.float64) @ w

    # Ignored rows count 0 whatever their logits hold (a -inf there would give inf·0 = NaN).
    with np.errstate(invalid="ignore"):
        nll = np.where(counted, lse - target_logit, 0.0)
        smooth = np.where(counted, smooth, 0.0)
    losses = (1.0 - label_smoothing) * nll * target_weight
    if label_smoothing:
        losses += (label_smoothing / n_classes) * smooth
    return _reduce(losses, target_weight, reduction, targets.shape)


def cross_entropy_from_probs(probs, targets, *, ignore_index=-100, reduction="mean", atol=None):
    """The course's formula L = -Σ_i y_i log p_i, on probabilities.

    ``targets`` is either integer class indices (shape ``probs.shape[:-1]``, a one-hot y written
    compactly) or a distribution with the same shape as ``probs`` (one-hot or soft labels). Probabilities must be
    non-negative and sum to 1 along the last axis (within ``atol``); terms with y_i = 0 count as 0
    even where p_i = 0, and a correct class given p = 0 costs ``inf``, as the formula says.

    >>> round(float(cross_entropy_from_probs([[0.7, 0.2, 0.1]], [0])), 4)
    0.3567
    >>> round(float(cross_entropy_from_probs([0.7, 0.2, 0.1], [1, 0, 0])), 4)
    0.3567
    """
    _check_reduction(reduction)
    p = _float_array(probs, "probs")
    if atol is None:  # a row of float16 probabilities sums to 1 only within about 1e-3
        atol = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-4}.get(p.dtype, 1e-2)
    _check_distribution(p, "probs", atol)
    y = np.asarray(targets)
    if y.shape != p.shape:  # class indices, one per row of probs
        _check_logits_targets(p, y, ignore_index)
        counted = y != ignore_index
        picked = np.take_along_axis(p, np.where(counted, y, 0)[..., None], axis=-1)[..., 0]
        with np.errstate(divide="ignore"):
            per_item = np.where(counted, -np.log(picked.astype(np.float64)), 0.0)
        return _reduce(per_item, counted, reduction, y.shape)
    y = _float_array(y, "targets")
    _check_distribution(y, "targets", atol)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y > 0, -y * np.log(p.astype(np.float64)), 0.0)
    per_item = terms.sum(axis=-1)
    return _reduce(per_item, np.ones(per_item.shape), reduction, per_item.shape)


def _check_distribution(p, name, atol):
    if np.isnan(p).any():
        raise ValueError(f"{name} contain NaN")
    if (p < 0).any():
        raise ValueError(f"{name} contain negative values (min {p.min():.3g}); probabilities are >= 0")
    sums = p.sum(axis=-1, dtype=np.float64)
    worst = np.abs(sums - 1.0).max()
    if worst > atol:
        raise ValueError(
            f"{name} must sum to 1 along the last axis; one row sums to "
            f"{sums.flat[np.abs(sums - 1.0).argmax()]:.6g}. Did you pass logits? Use cross_entropy, "
            "or softmax() them first."
        )


# ----------------------------------------------------------------------------- accuracy


def token_accuracy(logits, targets, ignore_index=-100):
    """Share of counted positions where the most likely token is the target.

    This is the ``train_accuracy`` / ``valid_mean_token_accuracy`` of an OpenAI results file.
    NaN when every target is ignored.

    >>> float(token_accuracy([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]], [0, 0, -100]))
    0.5
    """
    logits, targets = _check_logits_targets(logits, targets, ignore_index)
    if np.isnan(logits).any():  # argmax would quietly pick the NaN as the prediction
        row = int(np.argwhere(np.isnan(logits).reshape(-1, logits.shape[-1]).any(axis=-1))[0][0])
        raise ValueError(f"logits contain NaN (first in row {row} of the flattened batch)")
    counted = targets != ignore_index
    if not counted.any():
        return np.float64(np.nan)
    hits = (np.argmax(logits, axis=-1) == targets) & counted
    return np.float64(hits.sum() / counted.sum())


# ----------------------------------------------------------------------------- perplexity


def _numbers(x, name):
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":  # np.asarray("2", dtype=float) would quietly read text
        raise ValueError(f"{name} must be a number or an array of numbers, got {x!r}")
    return arr.astype(np.float64)


def _loss_array(loss, name="loss"):
    arr = _numbers(loss, name)
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0 (a cross-entropy), got {arr[arr < 0].flat[0]}")
    return arr


def _as_output(arr):
    return arr if arr.ndim else np.float64(arr)


def perplexity(loss, base=math.e):
    """Perplexity P = base ** loss: e^L for a loss in nats, 2^L for a loss in bits.

    The "effective number of equally likely choices": a model that spreads probability evenly over
    k tokens has loss ln(k) and perplexity k. NaN (an unrecorded step) stays NaN.

    >>> round(float(perplexity(math.log(50))), 9)
    50.0
    >>> float(perplexity(3.0, base=2))
    8.0
    """
    arr = _loss_array(loss)
    with np.errstate(over="ignore"):
        return _as_output(np.power(float(base), arr))


def loss_from_perplexity(ppl, base=math.e):
    """The loss that gives this perplexity: log_base(P). Perplexity is at least 1.

    >>> float(loss_from_perplexity(1.0))
    0.0
    """
    arr = _numbers(ppl, "perplexity")
    if (arr < 1).any():
        raise ValueError(f"perplexity must be >= 1, got {arr[arr < 1].flat[0]}")
    return _as_output(np.log(arr) / math.log(base))


def nats_to_bits(loss):
    """Convert a loss in nats (natural log, what fine-tuning APIs report) to bits (log base 2).

    >>> float(nats_to_bits(math.log(2)))
    1.0
    """
    return _as_output(_numbers(loss, "loss") / math.log(2))


def bits_to_nats(loss):
    """Convert a loss in bits to nats.

    >>> round(float(bits_to_nats(1.0)), 6)
    0.693147
    """
    return _as_output(_numbers(loss, "loss") * math.log(2))
