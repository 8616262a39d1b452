"""The loss explorers driven from Python, and the character bigram model."""

import math

import matplotlib
import numpy as np
import pytest

import ftlab
from ftlab.widgets import losses as loss_widgets
from ftlab.tinylm.ngram import CharBigram

matplotlib.use("Agg")


def test_correct_probability_explorer_redraws_point_and_bars():
    ex = loss_widgets.correct_probability_explorer(vocab_size=4)
    point = ex.figure.axes[0].lines[-1]
    ex.controls["p_correct"].value = 0.1
    assert ex.result["loss"] == pytest.approx(-math.log(0.1))
    assert point.get_ydata()[0] == pytest.approx(-math.log(0.1))
    heights = [bar.get_height() for bar in ex.figure.axes[1].patches]
    assert heights == pytest.approx([0.1, 0.3, 0.3, 0.3])
    assert "2.303" in ex.readout.value


def test_loss_perplexity_explorer_flags_worse_than_uniform():
    ex = loss_widgets.loss_perplexity_explorer(vocab_size=10)
    ex.controls["loss"].value = 3.0
    assert ex.result["perplexity"] == pytest.approx(math.exp(3.0))
    assert ex.result["worse_than_uniform"] and "worse than guessing" in ex.readout.value
    ex.controls["loss"].value = 1.0
    assert not ex.result["worse_than_uniform"]


def test_uniform_choice_explorer_perplexity_equals_k():
    ex = loss_widgets.uniform_choice_explorer(vocab_size=12)
    for k in (1, 3, 12):
        ex.controls["k"].value = k
        assert ex.result["perplexity"] == pytest.approx(k)
        assert sum(bar.get_height() for bar in ex.figure.axes[0].patches) == pytest.approx(1.0)


def test_explorer_shows_a_png_fallback_for_github():
    bundle = loss_widgets.uniform_choice_explorer(vocab_size=5)._repr_mimebundle_()
    assert set(bundle) == {"application/vnd.jupyter.widget-view+json", "image/png", "text/plain"}
    assert bundle["text/plain"].startswith("k = 4")


def test_distribution_rejects_impossible_probabilities():
    with pytest.raises(ValueError, match="p_correct"):
        loss_widgets.distribution_with_correct_probability(0.0, 5)


def test_bigram_probabilities_and_loss_match_counts():
    model = CharBigram.fit("aab", smoothing=1.0)  # vocab a, b, <unknown>
    # after "a": pairs a->a once, a->b once; add-1 over 3 symbols -> 2/5, 2/5, 1/5
    np.testing.assert_allclose(model.next_char_probs("a"), [0.4, 0.4, 0.2])
    assert model.loss("ab") == pytest.approx(-math.log(0.4))
    # a character never seen in training maps to the unknown symbol instead of failing
    assert np.isfinite(model.loss("az"))
    assert ftlab.perplexity(model.loss("aab")) > 1


def test_bigram_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least two characters"):
        CharBigram.fit("a")
    with pytest.raises(ValueError, match="smoothing must be > 0"):
        CharBigram.fit("abc", smoothing=0)
