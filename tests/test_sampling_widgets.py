"""The temperature/top-p explorer, driven from Python as a learner's slider would."""

import io
import math

import numpy as np
import pytest

from ftlab import sampling
from ftlab.widgets.sampling import distribution_entropy, sampling_explorer, sampling_numbers
from ftlab.tinylm.model import load_pretrained


def test_sampling_numbers_entropy_and_kept_tokens():
    logits = np.log([0.5, 0.25, 0.125, 0.125])
    r = sampling_numbers(logits, temperature=1.0, top_p=1.0)
    assert r["entropy"] == pytest.approx(distribution_entropy([0.5, 0.25, 0.125, 0.125]))
    assert r["perplexity"] == pytest.approx(math.exp(r["entropy"]))
    assert r["n_kept"] == 4
    assert sampling_numbers(logits, 1.0, top_p=0.6)["n_kept"] == 2
    greedy = sampling_numbers(logits, 0.0, 1.0)
    assert greedy["n_kept"] == 1 and greedy["perplexity"] == pytest.approx(1.0)
    hot = sampling_numbers(logits, 5.0, 1.0)
    assert hot["perplexity"] > r["perplexity"]  # flatter: more effective choices


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_explorer_redraws_when_sliders_move():
    model = load_pretrained()
    ex = sampling_explorer(model, "The value of ", n_samples=2, max_tokens=20)
    before_png, before_text = _png(ex.figure), ex.readout.value
    expected = sampling.filtered_distribution(model.next_token_logits("The value of "), 0.5, 0.9)
    ex.controls["temperature"].value = 0.5
    ex.controls["top_p"].value = 0.9
    assert ex.result["temperature"] == 0.5 and ex.result["top_p"] == 0.9
    np.testing.assert_allclose(ex.result["filtered"], expected)
    assert ex.readout.value != before_text and _png(ex.figure) != before_png
    ex.controls["temperature"].value = 0.0  # greedy: every seed writes the same continuation
    assert ex.result["n_kept"] == 1 and len(set(ex.result["samples"])) == 1
