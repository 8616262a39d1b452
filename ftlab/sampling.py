"""Inference parameters: temperature, top-k and top-p, and drawing the next token.

A language model gives logits z over its vocabulary. Generation turns them into a choice in three
steps, in this order (the order Hugging Face and most APIs use):

1. **temperature** T: p_i = exp(z_i / T) / Σ_j exp(z_j / T). T < 1 sharpens the distribution,
   T > 1 flattens it, and T = 0 is the limit where all probability sits on the most likely token
   (greedy decoding: the same output every time).
2. **top-k**: keep only the k most likely tokens.
3. **top-p** (nucleus): keep the smallest set of most likely tokens whose probabilities add up to
   at least p. The set is never empty: the most likely token is always kept.

The kept probabilities are renormalised to sum to 1 and one token is drawn. Every function works
on the last axis, so a batch of distributions is filtered in one call.
"""

import numpy as np

from ftlab.losses import softmax


def _probs(p, name="probs"):
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValueError(f"{name} must have a non-empty last (vocabulary) axis, got shape {arr.shape}")
    if np.isnan(arr).any() or (arr < 0).any():
        raise ValueError(f"{name} must be non-negative probabilities without NaN")
    return arr


def _renormalise(p):
    return p / p.sum(axis=-1, keepdims=True)


def apply_temperature(logits, temperature):
    """Probabilities softmax(logits / T); T = 0 puts probability 1 on the most likely token.

    Ties at T = 0 go to the lowest index, so greedy decoding is deterministic.

    >>> apply_temperature([2.0, 1.0, 0.0], 1.0).round(3).tolist()
    [0.665, 0.245, 0.09]
    >>> apply_temperature([2.0, 1.0, 0.0], 0).tolist()
    [1.0, 0.0, 0.0]
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"logits must have a non-empty last (vocabulary) axis, got shape {z.shape}")
    temperature = float(temperature)
    if not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
    if temperature == 0:
        greedy = np.zeros_like(z)
        np.put_along_axis(greedy, np.argmax(z, axis=-1)[..., None], 1.0, axis=-1)
        return greedy
    return softmax(z / temperature)


def _descending_order(p):
    # stable sort of -p: among equal probabilities the lower token id comes first
    return np.argsort(-p, axis=-1, kind="stable")


def top_k_filter(probs, k):
    """Keep the k most likely tokens (ties: lower index first), renormalised.

    ``k=None`` or k >= vocabulary size keeps everything.

    >>> top_k_filter([0.5, 0.2, 0.3], 2).round(3).tolist()
    [0.625, 0.0, 0.375]
    """
    p = _probs(probs)
    if k is None or k >= p.shape[-1]:
        return _renormalise(p)
    if int(k) != k or k < 1:
        raise ValueError(f"top_k must be a positive integer or None, got {k!r}")
    order = _descending_order(p)
    keep = np.zeros(p.shape, dtype=bool)
    np.put_along_axis(keep, order[..., : int(k)], True, axis=-1)
    return _renormalise(np.where(keep, p, 0.0))


def top_p_filter(probs, p):
    """Nucleus filter: the smallest set of most likely tokens whose total probability reaches p.

    A token is kept when the tokens ranked above it add up to less than p, so the most likely
    token always survives (even for p = 0) and p = 1 keeps every token.

    >>> top_p_filter([0.5, 0.2, 0.3], 0.7).round(3).tolist()
    [0.625, 0.0, 0.375]
    >>> top_p_filter([0.5, 0.2, 0.3], 0.5).tolist()
    [1.0, 0.0, 0.0]
    """
    probs = _renormalise(_probs(probs))
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"top_p must be between 0 and 1, got {p}")
    if p == 1.0:
        return probs
    order = _descending_order(probs)
    ranked = np.take_along_axis(probs, order, axis=-1)
    mass_above = np.cumsum(ranked, axis=-1) - ranked
    keep_ranked = mass_above < p
    keep_ranked[..., 0] = True  # never empty
    keep = np.zeros(probs.shape, dtype=bool)
    np.put_along_axis(keep, order, keep_ranked, axis=-1)
    return _renormalise(np.where(keep, probs, 0.0))


def filtered_distribution(logits, temperature=1.0, top_p=1.0, top_k=None):
    """The distribution a token is actually drawn from: temperature, then top-k, then top-p.

    >>> filtered_distribution([2.0, 1.0, 0.0], temperature=1.0, top_k=1).tolist()
    [1.0, 0.0, 0.0]
    """
    probs = apply_temperature(logits, temperature)
    return top_p_filter(top_k_filter(probs, top_k), top_p)


def sample(logits, temperature=1.0, top_p=1.0, top_k=None, rng=None):
    """Draw one token id from logits after temperature, top-k and top-p.

    ``rng`` is a ``numpy.random.Generator`` or an integer seed (``None``: seed 0, so results are
    reproducible unless you pass a generator you keep using). Temperature 0 returns the argmax
    without touching the random generator.

    >>> sample([2.0, 1.0, 0.0], temperature=0)
    0
    >>> sample([0.0, 0.0, 9.0], rng=1)
    2
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1:
        raise ValueError(f"sample draws one token: logits must be 1-D, got shape {z.shape}")
    if float(temperature) == 0:
        apply_temperature(z, 0)  # validates the logits
        return int(np.argmax(z))
    probs = filtered_distribution(z, temperature, top_p, top_k)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(0 if rng is None else rng)
    # inverse-CDF draw: one uniform number, so a seed gives the same token on every platform
    cdf = np.cumsum(probs)
    index = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    index = min(index, len(probs) - 1)
    while probs[index] == 0:  # float round-off can land just past the last kept token
        index -= 1
    return index
