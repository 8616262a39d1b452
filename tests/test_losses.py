"""ftlab.losses against values computed by hand, against PyTorch when installed, and by properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import ftlab
from ftlab import losses

finite_logits = arrays(
    np.float64,
    st.tuples(st.integers(1, 5), st.integers(2, 7)),
    elements=st.floats(-50, 50, allow_nan=False),
)


# ----------------------------------------------------------------------------- by hand


def test_cross_entropy_by_hand():
    # softmax([2, 1, 0.1]) = [0.659, 0.242, 0.099]; -ln 0.659 = 0.417
    z = math.exp(2) + math.exp(1) + math.exp(0.1)
    assert ftlab.cross_entropy([[2.0, 1.0, 0.1]], [0]) == pytest.approx(-math.log(math.exp(2) / z))
    assert ftlab.cross_entropy([[2.0, 1.0, 0.1]], [2]) == pytest.approx(-math.log(math.exp(0.1) / z))


def test_uniform_logits_cost_ln_vocab():
    for v in (2, 10, 50_000):
        assert ftlab.cross_entropy(np.zeros((3, v)), [0, 1, 1]) == pytest.approx(math.log(v))


def test_reductions_and_ignore_index():
    logits = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    per_item = ftlab.cross_entropy(logits, [1, -100, 1], reduction="none")
    assert per_item[1] == 0.0
    assert per_item[0] == pytest.approx(math.log(2))
    assert ftlab.cross_entropy(logits, [1, -100, 1], reduction="sum") == pytest.approx(per_item.sum())
    assert ftlab.cross_entropy(logits, [1, -100, 1]) == pytest.approx(per_item.sum() / 2)


def test_custom_ignore_index_and_all_ignored():
    logits = np.zeros((2, 3))
    assert ftlab.cross_entropy(logits, [7, 0], ignore_index=7) == pytest.approx(math.log(3))
    assert math.isnan(ftlab.cross_entropy(logits, [-100, -100]))
    assert ftlab.cross_entropy(logits, [-100, -100], reduction="sum") == 0.0


def test_class_weights_divide_by_weight_sum():
    logits = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 0.0]])
    w = np.array([0.5, 2.0, 1.0])
    nll = -ftlab.log_softmax(logits)[[0, 1], [1, 0]]
    expected = (2.0 * nll[0] + 0.5 * nll[1]) / (2.0 + 0.5)
    assert ftlab.cross_entropy(logits, [1, 0], weights=w) == pytest.approx(expected)


def test_label_smoothing_formula():
    logits = np.array([[1.0, 2.0, 3.0, 0.5]])
    eps = 0.2
    logp = ftlab.log_softmax(logits)[0]
    expected = (1 - eps) * -logp[1] + eps / 4 * -logp.sum()
    assert ftlab.cross_entropy(logits, [1], label_smoothing=eps) == pytest.approx(expected)


def test_leading_batch_shape_and_float32():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 5)).astype(np.float32)
    targets = rng.integers(0, 5, size=(2, 3))
    per_item = ftlab.cross_entropy(logits, targets, reduction="none")
    assert per_item.shape == (2, 3)
    flat = ftlab.cross_entropy(logits.reshape(6, 5).astype(np.float64), targets.reshape(6))
    assert ftlab.cross_entropy(logits, targets) == pytest.approx(flat, rel=1e-6)


def test_chunking_gives_the_same_answer(monkeypatch):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(37, 11))
    targets = rng.integers(0, 11, size=37)
    whole = ftlab.cross_entropy(logits, targets, label_smoothing=0.1, weights=np.arange(1, 12))
    monkeypatch.setattr(losses, "_CHUNK_BYTES", 30 * 8)  # two or three rows per chunk
    chunked = ftlab.cross_entropy(logits, targets, label_smoothing=0.1, weights=np.arange(1, 12))
    assert chunked == pytest.approx(whole)


def test_float32_logits_stay_within_the_documented_bound_of_float64():
    """float32 rows are summed in float32 (_logsumexp_rows): at most ~4e-6 nats off, here on
    rows as long as a real vocabulary and with spread-out logits."""
    rng = np.random.default_rng(7)
    logits = (rng.standard_normal((48, 100_000)) * rng.uniform(0.5, 8, size=(48, 1))).astype(np.float32)
    targets = rng.integers(0, 100_000, size=48)
    ours = ftlab.cross_entropy(logits, targets, reduction="none")
    exact = ftlab.cross_entropy(logits.astype(np.float64), targets, reduction="none")
    assert np.abs(ours - exact).max() < 4e-6


def test_ignored_rows_count_nothing_whatever_their_logits():
    logits = np.array([[0.0, 1.0], [-np.inf, 0.0], [-np.inf, -np.inf]])
    per_item = ftlab.cross_entropy(logits, [1, -100, -100], reduction="none")
    assert per_item[1:].tolist() == [0.0, 0.0]
    assert ftlab.cross_entropy(logits, [1, -100, -100]) == pytest.approx(per_item[0])
    # a counted target whose logit is masked to -inf costs infinity, as in PyTorch
    assert ftlab.cross_entropy(logits[1:2], [0]) == math.inf


def test_log_softmax_is_stable_where_naive_fails():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    with np.errstate(all="ignore"):
        naive = np.log(np.exp(logits) / np.exp(logits).sum(-1, keepdims=True))
    assert not np.isfinite(naive).all()
    stable = ftlab.log_softmax(logits)
    assert np.isfinite(stable).all()
    assert stable[0, 0] == 0.0 and stable[0, 1] == pytest.approx(-2e4)
    assert ftlab.cross_entropy(logits, [1, 0]) == pytest.approx((2e4 + math.log(3)) / 2)


def test_cross_entropy_from_probs_course_formula():
    p = [0.7, 0.2, 0.1]
    assert ftlab.cross_entropy_from_probs(p, [0, 1, 0]) == pytest.approx(-math.log(0.2))
    assert ftlab.cross_entropy_from_probs([p], [1]) == pytest.approx(-math.log(0.2))
    soft = [0.5, 0.5, 0.0]
    expected = -(0.5 * math.log(0.7) + 0.5 * math.log(0.2))
    assert ftlab.cross_entropy_from_probs(p, soft) == pytest.approx(expected)
    # the right answer given probability 0 costs infinity; a 0 target on p = 0 costs nothing
    assert ftlab.cross_entropy_from_probs([1.0, 0.0], 1) == math.inf
    assert ftlab.cross_entropy_from_probs([1.0, 0.0], [1.0, 0.0]) == 0.0


def test_token_accuracy():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    assert ftlab.token_accuracy(logits, [0, 0, -100, 1]) == pytest.approx(2 / 3)
    assert math.isnan(ftlab.token_accuracy(logits, [-100] * 4))


def test_perplexity_and_conversions():
    assert ftlab.perplexity(math.log(7)) == pytest.approx(7)
    assert ftlab.perplexity(3, base=2) == 8
    np.testing.assert_allclose(ftlab.perplexity([0.0, 1.0]), [1.0, math.e])
    assert math.isnan(ftlab.perplexity(float("nan")))
    assert ftlab.perplexity(1000.0) == math.inf
    assert ftlab.loss_from_perplexity(8, base=2) == pytest.approx(3)
    assert ftlab.nats_to_bits(math.log(8)) == pytest.approx(3)
    assert ftlab.bits_to_nats(3) == pytest.approx(math.log(8))
    # same perplexity whichever unit the loss is in
    assert ftlab.perplexity(ftlab.nats_to_bits(1.3), base=2) == pytest.approx(ftlab.perplexity(1.3))


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "logits, targets, match",
    [
        (np.zeros((3, 4)), [0, 1], r"targets shape \(2,\) does not match logits shape \(3, 4\)"),
        (np.zeros((2, 4)), [0, 4], r"targets contain 4, outside the 4 classes"),
        (np.zeros((2, 4)), [0, -1], r"targets contain -1"),
        (np.array([[0.0, np.nan], [0.0, 0.0]]), [0, 1], r"logits contain NaN"),
        (np.zeros((0, 4)), np.zeros(0, dtype=int), r"logits is empty"),
        (np.zeros((2, 4)), [0.0, 1.0], r"targets must be integer class indices"),
    ],
)
def test_bad_input_names_argument_and_shapes(logits, targets, match):
    with pytest.raises(ValueError, match=match):
        ftlab.cross_entropy(logits, targets)


def test_text_and_nan_inputs_are_refused_not_guessed():
    for fn in (ftlab.perplexity, ftlab.loss_from_perplexity, ftlab.nats_to_bits, ftlab.bits_to_nats):
        with pytest.raises(ValueError, match="must be a number"):
            fn("2")
    with pytest.raises(ValueError, match=r"logits contain NaN \(first in row 1"):
        ftlab.token_accuracy([[1.0, 0.0], [np.nan, 1.0]], [0, 1])


def test_float16_probabilities_are_read_at_float16_precision():
    logits = np.random.default_rng(0).normal(size=(4, 50))
    p16 = ftlab.softmax(logits).astype(np.float16)  # rows sum to 1 only within ~1e-3
    ours = ftlab.cross_entropy_from_probs(p16, [1, 0, 3, 4])
    assert ours == pytest.approx(ftlab.cross_entropy(logits, [1, 0, 3, 4]), abs=2e-3)


def test_bad_options():
    with pytest.raises(ValueError, match="reduction"):
        ftlab.cross_entropy(np.zeros((1, 2)), [0], reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        ftlab.cross_entropy(np.zeros((1, 2)), [0], label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\)"):
        ftlab.cross_entropy(np.zeros((1, 2)), [0], weights=[1.0])


def test_probs_must_be_distributions():
    with pytest.raises(ValueError, match="sum to 1.*Did you pass logits"):
        ftlab.cross_entropy_from_probs([2.0, 1.0], 0)
    with pytest.raises(ValueError, match="negative"):
        ftlab.cross_entropy_from_probs([1.5, -0.5], 0)
    with pytest.raises(ValueError, match="targets must sum to 1"):
        ftlab.cross_entropy_from_probs([0.5, 0.5], [1.0, 1.0])
    with pytest.raises(ValueError, match="loss must be >= 0"):
        ftlab.perplexity(-0.1)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(finite_logits, st.floats(-1e3, 1e3), st.data())
def test_adding_a_constant_to_logits_changes_nothing(logits, shift, data):
    targets = np.array(data.draw(st.lists(st.integers(0, logits.shape[1] - 1),
                                          min_size=len(logits), max_size=len(logits))))
    a = ftlab.cross_entropy(logits, targets, reduction="none")
    b = ftlab.cross_entropy(logits + shift, targets, reduction="none")
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * max(1.0, abs(shift)))


@settings(max_examples=60, deadline=None)
@given(finite_logits, st.data())
def test_logits_and_probability_forms_agree(logits, data):
    targets = np.array(data.draw(st.lists(st.integers(0, logits.shape[1] - 1),
                                          min_size=len(logits), max_size=len(logits))))
    probs = ftlab.softmax(logits)
    via_probs = ftlab.cross_entropy_from_probs(probs, targets, reduction="none")
    via_logits = ftlab.cross_entropy(logits, targets, reduction="none")
    finite = np.isfinite(via_probs)  # p can underflow to 0 where the logits form stays exact
    np.testing.assert_allclose(via_probs[finite], via_logits[finite], rtol=1e-7, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5000))
def test_uniform_perplexity_is_vocabulary_size(v):
    loss = ftlab.cross_entropy(np.zeros((1, v)), [v - 1])
    assert ftlab.perplexity(loss) == pytest.approx(v)


@settings(max_examples=40, deadline=None)
@given(finite_logits)
def test_loss_bounds(logits):
    """0 <= L, and the loss of the most likely class is at most ln(C)."""
    best = np.argmax(logits, axis=-1)
    per_item = ftlab.cross_entropy(logits, best, reduction="none")
    assert (per_item >= 0).all()
    assert (per_item <= math.log(logits.shape[1]) + 1e-9).all()


# ----------------------------------------------------------------------------- PyTorch, when there


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    logits = rng.normal(scale=3, size=(40, 9))
    targets = rng.integers(0, 9, size=40)
    targets[::7] = -100
    w = rng.uniform(0.1, 2.0, size=9)
    for kwargs in ({}, {"label_smoothing": 0.15}):
        for use_w in (False, True):
            for reduction in ("mean", "sum", "none"):
                ours = ftlab.cross_entropy(logits, targets, weights=w if use_w else None,
                                           reduction=reduction, **kwargs)
                theirs = F.cross_entropy(torch.tensor(logits), torch.tensor(targets),
                                         weight=torch.tensor(w) if use_w else None,
                                         reduction=reduction, **kwargs).numpy()
                np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
