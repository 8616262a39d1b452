"""Explorers for notebooks 01 and 02: what loss and perplexity mean for one prediction.

Each explorer is a pure ``*_numbers`` function (tested directly) plus drawing and wiring through
``ftlab.widgets.explorer.Explorer``. Figures are plain ``matplotlib.figure.Figure`` objects, outside
pyplot, so they are never shown twice or leaked.
"""

import math

import numpy as np

from ftlab.losses import cross_entropy_from_probs, perplexity
from ftlab.widgets.presenter import slider_layout


# ----------------------------------------------------------------------------- pure numbers


def distribution_with_correct_probability(p_correct, vocab_size, correct=0):
    """A next-token distribution giving ``p_correct`` to the right token, the rest shared evenly.

    >>> distribution_with_correct_probability(0.7, 4).round(2).tolist()
    [0.7, 0.1, 0.1, 0.1]
    """
    if not 0.0 < p_correct <= 1.0:
        raise ValueError(f"p_correct must be in (0, 1], got {p_correct}")
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be at least 2, got {vocab_size}")
    probs = np.full(vocab_size, (1.0 - p_correct) / (vocab_size - 1))
    probs[correct] = p_correct
    return probs


def correct_probability_numbers(p_correct, vocab_size):
    """Loss and perplexity when the model gives the right token probability ``p_correct``.

    >>> r = correct_probability_numbers(0.5, 10)
    >>> round(r["loss"], 4), round(r["perplexity"], 4), round(r["uniform_loss"], 4)
    (0.6931, 2.0, 2.3026)
    """
    probs = distribution_with_correct_probability(p_correct, vocab_size)
    loss = float(cross_entropy_from_probs(probs, 0))
    return {"p_correct": p_correct, "vocab_size": vocab_size, "probs": probs, "loss": loss,
            "perplexity": float(perplexity(loss)), "uniform_loss": math.log(vocab_size)}


def loss_perplexity_numbers(loss, vocab_size):
    """Perplexity of a loss, and where it sits between perfect (1) and a uniform guess (V).

    >>> round(loss_perplexity_numbers(math.log(8), 64)["perplexity"], 9)
    8.0
    """
    ppl = float(perplexity(loss))
    return {"loss": loss, "perplexity": ppl, "bits": loss / math.log(2), "vocab_size": vocab_size,
            "uniform_loss": math.log(vocab_size), "worse_than_uniform": ppl > vocab_size}


def uniform_choice_numbers(k, vocab_size):
    """A model that spreads its probability evenly over ``k`` of ``vocab_size`` tokens.

    When the right token is among the k, the loss is ln(k) and the perplexity exactly k.

    >>> r = uniform_choice_numbers(4, 20)
    >>> round(r["loss"], 4), round(r["perplexity"], 6)
    (1.3863, 4.0)
    """
    if not 1 <= k <= vocab_size:
        raise ValueError(f"k must be between 1 and vocab_size={vocab_size}, got {k}")
    probs = np.zeros(vocab_size)
    probs[:k] = 1.0 / k
    loss = float(cross_entropy_from_probs(probs, 0))
    return {"k": k, "vocab_size": vocab_size, "probs": probs, "loss": loss,
            "perplexity": float(perplexity(loss))}


# ----------------------------------------------------------------------------- drawing


def _figure(ncols, width=10.0, height=3.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(1, ncols)


def _bars(ax, vocab_size, highlight=0):
    from ftlab.curves.plots import integer_ticks

    bars = ax.bar(range(vocab_size), np.zeros(vocab_size), color="#9aa5b1")
    bars[highlight].set_color("#1f77b4")
    ax.set_ylim(0, 1.05)
    ax.set_xlim(-0.6, vocab_size - 0.4)  # only the tokens there are: no tick at -2 or 22.5
    integer_ticks(ax.xaxis)  # token numbers are whole: never "2.5"
    ax.set_xlabel("token number (blue: the correct one)")
    ax.set_ylabel("probability")
    return bars


def _set_heights(bars, probs):
    for bar, p in zip(bars, probs):
        bar.set_height(p)


def correct_probability_explorer(vocab_size=10):
    """Slider for the probability given to the correct token: the loss on the -log p curve, and
    the whole distribution.

    >>> ex = correct_probability_explorer(vocab_size=5)
    >>> ex.controls["p_correct"].value = 0.25
    >>> round(ex.result["loss"], 3)
    1.386
    """
    import ipywidgets as widgets

    fig, (ax_curve, ax_dist) = _figure(2)
    p = np.linspace(0.005, 1.0, 400)
    ax_curve.plot(p, -np.log(p), color="black", lw=1.5)
    ax_curve.axhline(math.log(vocab_size), color="gray", ls="--", lw=1)
    ax_curve.text(0.98, math.log(vocab_size), f" uniform guess: ln {vocab_size}",
                  ha="right", va="bottom", color="gray")
    (point,) = ax_curve.plot([], [], "o", color="#d62728", ms=10)
    ax_curve.set(xlabel="probability of the correct token p", ylabel="loss  -ln p (nats)",
                 xlim=(0, 1.02), ylim=(0, 5.5), title="cross-entropy of one prediction")
    bars = _bars(ax_dist, vocab_size)
    ax_dist.set_title(f"the model's next-token distribution (V = {vocab_size})")

    def draw(r):
        point.set_data([r["p_correct"]], [r["loss"]])
        _set_heights(bars, r["probs"])
        return (f"p = {r['p_correct']:.2f}  ->  loss = -ln p = {r['loss']:.3f} nats,  "
                f"perplexity e^L = {r['perplexity']:.2f}")

    slider = widgets.FloatSlider(value=0.5, min=0.01, max=1.0, step=0.01,
                                 description="p(correct)", **slider_layout())
    return _explorer({"p_correct": slider},
                     lambda p_correct: correct_probability_numbers(p_correct, vocab_size), draw, fig)


def loss_perplexity_explorer(vocab_size=50):
    """Slider for a loss; shows its perplexity on the e^L curve, with the uniform-guess line at V.

    >>> ex = loss_perplexity_explorer(vocab_size=50)
    >>> ex.controls["loss"].value = 2.0
    >>> round(ex.result["perplexity"], 3)
    7.389
    """
    import ipywidgets as widgets

    top = 1.4 * math.log(vocab_size)
    fig, ax = _figure(1, width=7.0)
    losses = np.linspace(0, top, 300)
    ax.plot(losses, perplexity(losses), color="black", lw=1.5)
    ax.axhline(vocab_size, color="gray", ls="--", lw=1)
    ax.text(0.02, vocab_size, f" uniform guess over V = {vocab_size}", va="bottom", color="gray")
    (point,) = ax.plot([], [], "o", color="#d62728", ms=10)
    ax.set(xlabel="loss L (nats)", ylabel="perplexity e^L (log scale)", xlim=(0, top), yscale="log",
           title="loss and perplexity are the same information")

    def draw(r):
        point.set_data([r["loss"]], [r["perplexity"]])
        note = "  (worse than guessing uniformly!)" if r["worse_than_uniform"] else ""
        return (f"L = {r['loss']:.2f} nats = {r['bits']:.2f} bits  ->  perplexity "
                f"{r['perplexity']:.2f}: like choosing among {r['perplexity']:.1f} equal options{note}")

    slider = widgets.FloatSlider(value=1.0, min=0.0, max=round(top, 1), step=0.05, description="loss L",
                                 **slider_layout())
    return _explorer({"loss": slider}, lambda loss: loss_perplexity_numbers(loss, vocab_size), draw, fig)


def uniform_choice_explorer(vocab_size=20):
    """Slider for k: a model unsure between k equally likely tokens has perplexity exactly k.

    >>> ex = uniform_choice_explorer(vocab_size=20)
    >>> ex.controls["k"].value = 5
    >>> round(ex.result["perplexity"], 6)
    5.0
    """
    import ipywidgets as widgets

    fig, ax = _figure(1, width=7.0)
    bars = _bars(ax, vocab_size)
    ax.set_title(f"probability spread evenly over k of V = {vocab_size} tokens")

    def draw(r):
        _set_heights(bars, r["probs"])
        return (f"k = {r['k']}: each gets 1/{r['k']} = {1 / r['k']:.3f}, loss = ln {r['k']} = "
                f"{r['loss']:.3f} nats, perplexity = {r['perplexity']:.3f}")

    slider = widgets.IntSlider(value=4, min=1, max=vocab_size, description="k", **slider_layout())
    return _explorer({"k": slider}, lambda k: uniform_choice_numbers(k, vocab_size), draw, fig)


def _explorer(controls, compute, draw, fig):
    from ftlab.widgets.explorer import Explorer

    return Explorer(controls, compute, draw, fig)

