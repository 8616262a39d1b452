"""ftlab.sampling: temperature, top-k, top-p and drawing, by hand and by properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import ftlab
from ftlab import sampling

logit_vectors = arrays(np.float64, st.integers(1, 12), elements=st.floats(-20, 20, allow_nan=False))


def _entropy(p):
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


# ----------------------------------------------------------------------------- temperature


def test_temperature_one_is_softmax_and_exported():
    z = np.array([2.0, 1.0, 0.1])
    assert np.allclose(ftlab.apply_temperature(z, 1.0), np.exp(z) / np.exp(z).sum())
    assert ftlab.sample is sampling.sample


def test_temperature_zero_is_greedy_with_ties_to_the_lowest_index():
    assert sampling.apply_temperature([1.0, 3.0, 3.0], 0).tolist() == [0.0, 1.0, 0.0]
    batch = sampling.apply_temperature([[1.0, 0.0], [0.0, 2.0]], 0)
    assert batch.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_high_temperature_approaches_uniform_low_temperature_approaches_greedy():
    z = np.array([3.0, 1.0, 0.0, -2.0])
    assert np.allclose(sampling.apply_temperature(z, 1e6), 0.25, atol=1e-5)
    assert sampling.apply_temperature(z, 1e-3)[0] == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_bad_temperature_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="temperature"):
        sampling.apply_temperature([1.0, 2.0], bad)


@settings(max_examples=200, deadline=None)
@given(logit_vectors, st.floats(0.05, 5.0), st.floats(0.05, 5.0))
def test_temperature_keeps_order_and_raising_it_never_lowers_entropy(z, t1, t2):
    lo, hi = sorted((t1, t2))
    p_lo, p_hi = sampling.apply_temperature(z, lo), sampling.apply_temperature(z, hi)
    assert p_lo.sum() == pytest.approx(1.0) and p_hi.sum() == pytest.approx(1.0)
    assert p_lo[np.argmax(z)] >= p_lo.max() * (1 - 1e-9)  # the most likely token stays on top
    assert _entropy(p_lo) <= _entropy(p_hi) + 1e-9


# ----------------------------------------------------------------------------- top-k / top-p


def test_top_k_by_hand():
    p = np.array([0.1, 0.4, 0.2, 0.3])
    assert np.allclose(sampling.top_k_filter(p, 2), [0.0, 4 / 7, 0.0, 3 / 7])
    assert np.allclose(sampling.top_k_filter(p, None), p)
    assert np.allclose(sampling.top_k_filter(p, 10), p)
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="top_k"):
            sampling.top_k_filter(p, bad)


def test_top_p_by_hand():
    p = np.array([0.1, 0.4, 0.2, 0.3])
    # 0.4 < 0.6, 0.4 + 0.3 = 0.7 >= 0.6: the two most likely tokens
    assert np.allclose(sampling.top_p_filter(p, 0.6), [0.0, 4 / 7, 0.0, 3 / 7])
    assert np.allclose(sampling.top_p_filter(p, 0.69), [0.0, 4 / 7, 0.0, 3 / 7])
    assert sampling.top_p_filter(p, 0.0).tolist() == [0.0, 1.0, 0.0, 0.0]  # never empty
    assert np.allclose(sampling.top_p_filter(p, 1.0), p)
    with pytest.raises(ValueError, match="top_p"):
        sampling.top_p_filter(p, 1.5)


@settings(max_examples=300, deadline=None)
@given(logit_vectors, st.floats(0.0, 1.0))
def test_top_p_keeps_the_smallest_most_likely_set_reaching_p(z, top_p):
    p = sampling.apply_temperature(z, 1.0)
    kept = sampling.top_p_filter(p, top_p) > 0
    assert kept.any()
    order = np.argsort(-p, kind="stable")
    n_kept = int(kept.sum())
    assert kept[order[:n_kept]].all()  # the kept tokens are the most likely ones
    ranked = p[order]
    # enough mass (up to round-off), and one token fewer would not be
    assert ranked[:n_kept].sum() >= top_p - 1e-9 or n_kept == len(p)
    assert n_kept == 1 or top_p == 1.0 or ranked[: n_kept - 1].sum() < top_p  # p = 1 keeps all


@settings(max_examples=200, deadline=None)
@given(logit_vectors, st.integers(1, 15))
def test_top_k_keeps_k_most_likely(z, k):
    p = sampling.apply_temperature(z, 1.0)
    out = sampling.top_k_filter(p, k)
    assert out.sum() == pytest.approx(1.0)
    kept = out > 0
    assert kept.sum() <= min(k, len(p))
    if kept.sum() < len(p):
        assert p[kept].min() >= p[~kept].max()


# ----------------------------------------------------------------------------- sample


def test_sample_greedy_ignores_the_random_generator():
    z = [0.5, 2.0, 1.0]
    assert {sampling.sample(z, temperature=0, rng=seed) for seed in range(20)} == {1}
    assert sampling.sample(z, top_k=1, rng=3) == 1


def test_sample_is_reproducible_per_seed_and_follows_the_distribution():
    z = np.log([0.5, 0.3, 0.2])
    assert sampling.sample(z, rng=7) == sampling.sample(z, rng=7)
    rng = np.random.default_rng(0)
    draws = np.array([sampling.sample(z, rng=rng) for _ in range(20_000)])
    freq = np.bincount(draws, minlength=3) / len(draws)
    assert np.allclose(freq, [0.5, 0.3, 0.2], atol=0.015)


def test_sample_with_temperature_and_top_p_matches_the_filtered_distribution():
    z = np.log([0.5, 0.3, 0.15, 0.05])
    expected = sampling.filtered_distribution(z, temperature=2.0, top_p=0.8)
    rng = np.random.default_rng(1)
    draws = np.array([sampling.sample(z, 2.0, 0.8, rng=rng) for _ in range(20_000)])
    freq = np.bincount(draws, minlength=4) / len(draws)
    assert np.allclose(freq, expected, atol=0.015)
    assert freq[expected == 0].sum() == 0


@settings(max_examples=200, deadline=None)
@given(logit_vectors, st.floats(0.1, 3.0), st.floats(0.0, 1.0), st.one_of(st.none(), st.integers(1, 5)),
       st.integers(0, 2**32 - 1))
def test_sample_never_draws_a_filtered_token(z, temperature, top_p, top_k, seed):
    token = sampling.sample(z, temperature, top_p, top_k, rng=seed)
    assert sampling.filtered_distribution(z, temperature, top_p, top_k)[token] > 0


def test_sample_rejects_a_batch():
    with pytest.raises(ValueError, match="1-D"):
        sampling.sample([[1.0, 2.0]])
