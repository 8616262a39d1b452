"""How ftlab reports a number to a learner: with its uncertainty, and with the right noun.

``wilson_interval`` gives the 95 % interval of a proportion (task accuracy, a share of preferred
replies); ``t_quantile`` the Student's *t* quantiles behind an interval of a mean over a few seeds
(numpy only, so ftlab needs no scipy); ``plural`` writes a count with its noun, "1 event",
"20 events".

Two training recipes run with the same seeds are compared **paired**: seed ``s`` gives a pair of
scores and the question is about their differences ``d_s = A_s − B_s``, in which the
seed-to-seed noise both recipes share cancels.

- :func:`paired_interval`: the mean difference with a *t* interval,
  ``mean(d) ± t(0.975, n−1) · sd(d)/√n``, and the **minimum detectable difference**: the true
  difference this many seeds would detect (interval excluding 0) 80 % of the time,
  ``(t(0.975, n−1) + t(0.80, n−1)) · sd(d)/√n`` (the usual normal-theory approximation).
- :func:`two_way_bootstrap`: when the scores are means over test examples, resampling both the
  seeds and the test examples says how far the result could move with *other* test examples
  too, which a *t* interval over seeds alone does not.

>>> r = paired_interval([0.30, 0.34, 0.33, 0.35], [0.28, 0.30, 0.33, 0.31])
>>> round(r.mean, 4), round(r.low, 4), round(r.high, 4), r.n
(0.025, -0.0055, 0.0555, 4)
"""

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def plural(n, noun, nouns=None):
    """``n`` and the noun, singular for exactly one: "1 event", "20 events", "1,200 steps".

    >>> plural(1, "event"), plural(20, "event"), plural(2, "example pass", "example passes")
    ('1 event', '20 events', '2 example passes')
    """
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"


def wilson_interval(successes, n, confidence=0.95):
    """Wilson score interval ``(low, high)`` for a proportion: ``successes`` out of ``n``.

    With p = successes / n and z the standard normal quantile at (1 + confidence) / 2
    (1.959964 for 95 %)::

        centre     = (p + z²/(2n)) / (1 + z²/n)
        half-width = z / (1 + z²/n) · √( p(1−p)/n + z²/(4n²) )
        interval   = centre ± half-width

    It is the set of true proportions π for which |p − π| ≤ z·√(π(1−π)/n), solved for π (Wilson,
    1927). Its centre is pulled from p towards ½, it always lies inside [0, 1], and it is never
    zero-width, even at 0 or n successes.

    >>> [round(x, 4) for x in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if isinstance(successes, bool) or isinstance(n, bool) or not (
            float(successes).is_integer() and float(n).is_integer()):
        raise ValueError(f"successes and n must be whole numbers, got {successes!r} and {n!r}")
    k, n = int(successes), int(n)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}: an interval needs at least one example")
    if not 0 <= k <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {k}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p, z2 = k / n, z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # at k = 0 (k = n) the low (high) end is exactly 0 (1); say so rather than leave rounding dust
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def _t_density(x, df):
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return np.exp(log_c - (df + 1) / 2 * np.log1p(x * x / df))


def _t_cdf(x, df, points=4001):
    """P(T ≤ x) for x ≥ 0: ½ plus the density's integral from 0 to x (Simpson's rule)."""
    grid = np.linspace(0.0, x, points)
    f = _t_density(grid, df)
    h = x / (points - 1)
    return 0.5 + h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())


def t_quantile(p, df):
    """The ``p`` quantile of Student's *t* distribution with ``df`` degrees of freedom.

    >>> round(t_quantile(0.975, 9), 4), round(t_quantile(0.8, 19), 4)  # tables: 2.2622, 0.8610
    (2.2622, 0.861)
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be between 0 and 1, got {p!r}")
    if not df > 0:
        raise ValueError(f"df must be positive, got {df!r}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:  # the t tails are heavy at small df: widen until p is inside
        low, high = high, 2 * high
    for _ in range(60):  # bisection: 60 halvings pin the quantile far below 1e-9
        mid = (low + high) / 2
        low, high = (mid, high) if _t_cdf(mid, df) < p else (low, mid)
    return (low + high) / 2


# ----------------------------------------------------------------------------- paired seeds


@dataclass(frozen=True)
class PairedInterval:
    """Mean of paired differences ``a − b`` with its *t* interval and the detectable difference.

    ``sd``: standard deviation of the differences (n−1); ``se = sd/√n``; ``low``/``high``: the
    interval at ``confidence``; ``mde``: the smallest true difference detected with probability
    ``power`` (two-sided test at 1 − ``confidence``).
    """

    mean: float
    sd: float
    se: float
    low: float
    high: float
    mde: float
    n: int
    confidence: float
    power: float

    @property
    def excludes_zero(self):
        return self.low > 0 or self.high < 0


def paired_interval(a, b, *, confidence=0.95, power=0.8):
    """Paired comparison of scores ``a`` and ``b`` (same length, element ``s`` from seed ``s``)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1 or len(d) < 2:
        raise ValueError(f"need at least 2 paired scores, got {len(np.atleast_1d(d))}")
    n = len(d)
    sd = float(d.std(ddof=1))
    se = sd / math.sqrt(n)
    t_crit = t_quantile(0.5 + confidence / 2, n - 1)
    mean = float(d.mean())
    return PairedInterval(mean=mean, sd=sd, se=se, low=mean - t_crit * se, high=mean + t_crit * se,
                          mde=(t_crit + t_quantile(power, n - 1)) * se, n=n,
                          confidence=confidence, power=power)


def two_way_bootstrap(a, b=None, *, confidence=0.95, n_boot=4000, seed=0):
    """Percentile interval of ``mean(a − b)`` resampling seeds (rows) and test examples (columns).

    ``a``, ``b``: arrays of shape (seeds, test examples), e.g. 1 where a run got the example right;
    without ``b``, the interval of ``mean(a)`` itself. Each bootstrap draw picks seeds with
    replacement and, independently, test examples with replacement, and takes the mean over the
    picked cells. Returns ``(low, high)``.
    """
    d = np.asarray(a, dtype=float)
    if b is not None:
        d = d - np.asarray(b, dtype=float)
    if d.ndim != 2 or min(d.shape) < 2:
        raise ValueError(f"need a (seeds, examples) array with at least 2 of each, got shape {d.shape}")
    rng = np.random.default_rng(seed)
    n_seeds, n_examples = d.shape
    means = np.empty(n_boot)
    for k in range(n_boot):
        rows = rng.integers(0, n_seeds, n_seeds)
        cols = rng.integers(0, n_examples, n_examples)
        # mean over the picked cells = mean over picked rows of each row's mean over picked columns
        means[k] = d[rows][:, cols].mean()
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def accuracy_interval(correct, confidence=0.95, *, n_boot=4000, seed=0):
    """Interval of a mean accuracy from a (runs, test records) array of 0/1, e.g. one row per seed.

    With at least two runs and two records, :func:`two_way_bootstrap` over runs and records. When
    every run scored every record the same (a percentile bootstrap then has zero width), or there
    is one run, the Wilson interval of the records instead, which is never zero-width.

    >>> accuracy_interval([[0, 0, 0], [0, 0, 0]]) == wilson_interval(0, 3)
    True
    """
    bits = np.atleast_2d(np.asarray(correct, dtype=float))
    if bits.shape[0] >= 2 and bits.shape[1] >= 2 and bits.min() != bits.max():
        return two_way_bootstrap(bits, confidence=confidence, n_boot=n_boot, seed=seed)
    n = bits.shape[1]
    return wilson_interval(round(float(bits.mean()) * n), n, confidence)
