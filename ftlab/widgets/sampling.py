"""Explorer for inference parameters: temperature and top-p over a real next-token distribution.

``sampling_numbers`` is the pure part (tested on its own); ``sampling_explorer`` wires two sliders
to it with ftlab's explorer pattern (one persistent figure, artists updated in place).
"""

import math

import numpy as np

from ftlab import sampling
from ftlab.tinylm.text import token_label


def distribution_entropy(probs):
    """Entropy H = -Σ p ln p of a distribution, in nats (0·ln 0 counts as 0).

    Its exponential e^H is the distribution's perplexity: the effective number of tokens the
    model is choosing between.

    >>> round(distribution_entropy([0.25, 0.25, 0.25, 0.25]), 4) == round(math.log(4), 4)
    True
    """
    p = np.asarray(probs, dtype=np.float64)
    p = p[p > 0]
    return max(0.0, float(-(p * np.log(p)).sum()))  # a certain choice is 0, not -0.0


def sampling_numbers(logits, temperature, top_p, top_k=None, n_show=20):
    """What temperature and top-p do to one next-token distribution.

    Returns the untouched distribution (``probs``), the one a token is drawn from (``filtered``),
    the ``n_show`` most likely token ids (``shown``), how many tokens can still be drawn
    (``n_kept``), and the entropy/perplexity of both distributions.

    >>> r = sampling_numbers([2.0, 1.0, 0.0, -1.0], temperature=1.0, top_p=0.7)
    >>> r["n_kept"], round(r["perplexity"], 3)
    (2, 1.79)
    """
    logits = np.asarray(logits, dtype=np.float64)
    probs = sampling.apply_temperature(logits, 1.0)
    filtered = sampling.filtered_distribution(logits, temperature, top_p, top_k)
    shown = np.argsort(-probs, kind="stable")[:n_show]
    h0, h = distribution_entropy(probs), distribution_entropy(filtered)
    return {"temperature": temperature, "top_p": top_p, "top_k": top_k, "probs": probs,
            "filtered": filtered, "shown": shown, "n_kept": int((filtered > 0).sum()),
            "entropy_original": h0, "perplexity_original": math.exp(h0),
            "entropy": h, "perplexity": math.exp(h)}


def sampling_explorer(model, prompt, *, n_show=20, n_samples=3, max_tokens=60):
    """Temperature and top-p sliders over ``model``'s next-token distribution after ``prompt``.

    Grey bars: the model's own distribution (temperature 1). Blue bars: the distribution a token
    is actually drawn from (zero for tokens top-p removed). Below, ``n_samples`` continuations
    sampled with the current settings (seeds 0, 1, 2, ... so moving a slider back gives the same
    text again).

    >>> from ftlab.tinylm.model import TinyLM, Config
    >>> ex = sampling_explorer(TinyLM(Config(4, 4, 8)), "Hello", n_samples=1, max_tokens=5)
    >>> ex.controls["temperature"].value = 0.0
    >>> ex.result["n_kept"]
    1
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ftlab.widgets.explorer import Explorer
    from ftlab.widgets.presenter import slider_layout

    logits = model.next_token_logits(prompt)
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    ax, ax_text = fig.subplots(2, 1, height_ratios=[3, 1])
    first = sampling_numbers(logits, 1.0, 1.0, n_show=n_show)
    x = np.arange(len(first["shown"]))
    ax.bar(x, first["probs"][first["shown"]], color="#c9ced6", width=0.8, label="model (T = 1)")
    bars = ax.bar(x, first["probs"][first["shown"]], color="#1f77b4", width=0.5,
                  label="sampled from")
    ax.set_xticks(x, [token_label(i) for i in first["shown"]], fontsize=9)
    for name in ax.get_xticklabels():
        if len(name.get_text()) > 3:  # "<|assistant|>" would run into its neighbours: slant it
            name.set(rotation=30, ha="right", rotation_mode="anchor")
    ax.set(ylim=(0, 1.02), ylabel="probability", xlabel=f"next character (the {len(x)} most likely)",
           title=f"next character after {_short(prompt)!r}")
    ax.legend(loc="upper right")
    ax_text.axis("off")
    samples_text = ax_text.text(0, 1, "", va="top", family="monospace", fontsize=9, wrap=True)

    def compute(temperature, top_p):
        r = sampling_numbers(logits, temperature, top_p, n_show=n_show)
        r["samples"] = [model.generate(prompt, max_tokens=max_tokens, temperature=temperature,
                                       top_p=top_p, seed=s) for s in range(n_samples)]
        return r

    def draw(r):
        for bar, p in zip(bars, r["filtered"][r["shown"]]):
            bar.set_height(p)
        samples_text.set_text("\n".join(f"seed {s}: {_one_line(t)}" for s, t in
                                        enumerate(r["samples"])))
        return (f"T = {r['temperature']:.2f}, top-p = {r['top_p']:.2f}: {r['n_kept']} of "
                f"{len(r['probs'])} tokens can be drawn; entropy {r['entropy']:.2f} nats, "
                f"perplexity {r['perplexity']:.2f} (model: {r['perplexity_original']:.2f})")

    controls = {
        "temperature": widgets.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.05,
                                           description="temperature", **slider_layout()),
        "top_p": widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05,
                                     description="top-p", **slider_layout()),
    }
    return Explorer(controls, compute, draw, fig)


def _short(prompt, n=40):
    if isinstance(prompt, str):
        return prompt if len(prompt) <= n else "…" + prompt[-n:]
    messages = prompt.get("messages", prompt) if isinstance(prompt, dict) else prompt
    return "chat ending: " + str(messages[-1].get("content", ""))[-n:]


def _one_line(text, n=70):
    text = text.replace("\n", "⏎")
    return text if len(text) <= n else text[:n] + "…"
