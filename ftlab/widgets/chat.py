"""Explorer for notebook 05: how dataset size sets the epochs, billed tokens and cost of a job.

Pure numbers in ``training_cost_numbers`` (tested directly); drawing and wiring through
``ftlab.widgets.explorer.Explorer``, like every ftlab explorer.
"""

import numpy as np

from ftlab.widgets.explorer import plural
from ftlab.widgets.presenter import slider_layout
from ftlab.chat.tokens import DEFAULT_MODEL, TRAINING_PRICE_PER_1M, default_epochs, estimate_training

EPOCH_CHOICES = ("auto", 1, 2, 3, 4, 6, 10)


def training_cost_numbers(n_examples, tokens_per_example, model=DEFAULT_MODEL, n_epochs="auto"):
    """Epochs, billed tokens and cost for ``n_examples`` of ``tokens_per_example`` tokens each.

    >>> r = training_cost_numbers(20, 100)
    >>> r["n_epochs"], r["billed_tokens"], r["example_passes"]
    (5, 10000, 100)
    """
    n_examples = int(n_examples)
    est = estimate_training([int(tokens_per_example)] * n_examples, model=model, n_epochs=n_epochs)
    auto = n_epochs in ("auto", None)
    rule = f"the cookbook's estimate of 'auto' for {plural(n_examples, 'example')}" if auto else est.epochs_rule
    return {"n_examples": n_examples, "tokens_per_example": int(tokens_per_example), "model": model,
            "n_epochs": est.n_epochs, "rule": rule, "billed_tokens": est.billed_tokens,
            "cost_usd": est.cost_usd, "example_passes": n_examples * est.n_epochs,
            "prices_date": est.prices_date}


def example_counts(start=128, largest=100_000):
    """Dataset sizes the examples slider stops at: every size from 1 to 34 (where the default-epochs
    rule changes at almost every step), then round numbers (40, 50, 60, 70, 80, 100, 120, 150, ...)
    up to ``largest``, and ``start``.

    >>> sizes = example_counts()
    >>> sizes[33:42], 128 in sizes, sizes[-1]
    ([34, 40, 50, 60, 70, 80, 100, 120, 128], True, 100000)
    """
    sizes = set(range(1, 35)) | {int(start)}
    scale = 10
    while scale <= largest:
        sizes |= {round(m * scale) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8)
                  if m * scale <= largest}
        scale *= 10
    return sorted(sizes)


def cost_explorer(tokens_per_example=85, model=DEFAULT_MODEL, n_examples=128):
    """Sliders for the number of examples and the epochs: the service's default-epochs rule, and
    what the job bills. The examples slider stops at :func:`example_counts` and shows the number of
    examples itself.

    >>> ex = cost_explorer(tokens_per_example=100)
    >>> ex.controls["n_examples"].value = 10
    >>> ex.result["n_epochs"], ex.result["example_passes"]
    (10, 100)
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ftlab.curves.plots import integer_ticks
    from ftlab.widgets.explorer import Explorer

    fig = Figure(figsize=(10.5, 3.8), layout="constrained")
    ax_epochs, ax_tokens = fig.subplots(1, 2)
    ns = np.unique(np.logspace(0, 5, 400).astype(int))
    ax_epochs.step(ns, [default_epochs(n) for n in ns], where="post", color="black", lw=1.5,
                   label="auto (the service's rule)")
    ax_epochs.set(xscale="log", xlabel="training examples (log scale)", ylabel="epochs",
                  ylim=(0, 26), title="epochs chosen for you")
    integer_ticks(ax_epochs.yaxis)
    ax_epochs.legend(loc="upper right")
    (epoch_point,) = ax_epochs.plot([], [], "o", color="#d62728", ms=10)
    auto_tokens = [n * default_epochs(n) * tokens_per_example for n in ns]
    ax_tokens.plot(ns, auto_tokens, color="black", lw=1.5, label="auto epochs")
    ax_tokens.axhline(25_000 * tokens_per_example, color="gray", ls="--", lw=1)
    ax_tokens.text(1.5, 25_000 * tokens_per_example, " 25,000 example passes", va="bottom", color="gray")
    ax_tokens.axhline(100 * tokens_per_example, color="gray", ls="--", lw=1)
    ax_tokens.text(1.5, 100 * tokens_per_example, " 100 example passes", va="bottom", color="gray")
    (token_point,) = ax_tokens.plot([], [], "o", color="#d62728", ms=10)
    ax_tokens.set(xscale="log", yscale="log", xlabel="training examples (log scale)",
                  ylabel="billed tokens (log scale)",
                  title=f"billed tokens ({plural(tokens_per_example, 'token')} per example)")
    ax_tokens.legend(loc="lower right")

    def compute(n_examples, n_epochs):
        return training_cost_numbers(n_examples, tokens_per_example, model, n_epochs)

    def draw(r):
        epoch_point.set_data([r["n_examples"]], [r["n_epochs"]])
        token_point.set_data([r["n_examples"]], [r["billed_tokens"]])
        price = TRAINING_PRICE_PER_1M.get(model)
        cost = (f"${r['cost_usd']:,.2f} on {model} (${price:.2f}/1M, prices as of {r['prices_date']})"
                if r["cost_usd"] is not None else "no price for this model")
        return (f"{plural(r['n_examples'], 'example')} × {plural(r['n_epochs'], 'epoch')} "
                f"({r['rule']}) = {plural(r['example_passes'], 'example pass', 'example passes')} → "
                f"{plural(r['billed_tokens'], 'billed token')}, {cost}")

    # the real number of examples under the slider (a log10 slider showed "2.10" for 126)
    sizes = example_counts(n_examples)
    controls = {
        "n_examples": widgets.SelectionSlider(options=[(f"{n:,}", n) for n in sizes],
                                              value=int(n_examples), description="examples",
                                              **slider_layout()),
        "n_epochs": widgets.Dropdown(options=list(EPOCH_CHOICES), value="auto", description="epochs"),
    }
    return Explorer(controls, compute, draw, fig)


# ----------------------------------------------------------------------------- duplicates threshold


def pair_similarities(records, *, roles=("user", "assistant"), seed=0):
    """Estimated Jaccard similarity of every pair of examples, from their MinHash signatures.

    All pairs: fine for the few hundred examples of a lesson, not for a big file (that is what
    ``find_duplicates``' LSH avoids). Returns ``(i, j, similarity)`` arrays with i < j.

    >>> recs = [{"messages": [{"role": "user", "content": t}]} for t in ["same text", "same text!", "other"]]
    >>> [round(float(s), 2) for s in pair_similarities(recs)[2]]
    [1.0, 0.0, 0.0]
    """
    from ftlab.chat.duplicates import example_text, minhash_signatures

    sigs = minhash_signatures([example_text(r, roles) for r in records], seed=seed)
    i, j = np.triu_indices(len(sigs), k=1)
    sims = np.array([(sigs[a] == sigs[b]).mean() for a, b in zip(i, j)]) if len(i) else np.zeros(0)
    return i, j, sims


def duplicate_threshold_numbers(records, threshold, similarities=None):
    """Duplicate groups found at ``threshold``, and the most similar pair left ungrouped."""
    from ftlab.chat.duplicates import find_duplicates

    dups = find_duplicates(records, threshold=threshold)
    i, j, sims = similarities if similarities is not None else pair_similarities(records)
    apart = dups.group_of[i] != dups.group_of[j]
    apart |= dups.group_of[i] < 0
    closest = None
    if apart.any():
        k = int(np.argmax(np.where(apart, sims, -1)))
        closest = (int(i[k]), int(j[k]), float(sims[k]))
    return {"threshold": threshold, "groups": len(dups.groups), "redundant": dups.n_redundant,
            "near": sum(kind == "near" for kind in dups.kinds), "closest_apart": closest,
            "texts": dups.texts, "pairs_above": int((sims >= threshold).sum())}


def duplicate_threshold_explorer(records):
    """Slider for the similarity threshold of ``find_duplicates``: how many groups it forms, and
    the most similar pair it still keeps apart.

    >>> recs = [{"messages": [{"role": "user", "content": t}]} for t in
    ...         ["What is the capital of France?", "Quick question: what is the capital of France?",
    ...          "What is the capital of Spain?", "Name a prime number."]]
    >>> ex = duplicate_threshold_explorer(recs)
    >>> ex.controls["threshold"].value = 0.6
    >>> ex.result["groups"] >= 1
    True
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ftlab.widgets.explorer import Explorer

    similarities = pair_similarities(records)
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax = fig.subplots()
    ax.hist(similarities[2], bins=np.linspace(0, 1, 41), color="#9aa5b1", log=True)
    ax.set(xlabel="estimated similarity of a pair (Jaccard of character 5-grams)",
           ylabel="pairs of examples (log scale)",
           title=f"all {plural(len(similarities[2]), 'pair')} of {plural(len(records), 'example')}")
    line = ax.axvline(0.8, color="#d62728", lw=2)

    def draw(r):
        line.set_xdata([r["threshold"], r["threshold"]])
        text = (f"threshold {r['threshold']:.2f}: {plural(r['groups'], 'group')} ({r['near']} near), "
                f"{plural(r['redundant'], 'redundant example')}")
        if r["closest_apart"]:
            a, b, sim = r["closest_apart"]
            text += (f" | most similar pair kept apart ({sim:.2f}): '{r['texts'][a][:40]}' / "
                     f"'{r['texts'][b][:40]}'")
        return text

    # from 0.6 up, LSH (16 bands of 4) makes a candidate of nearly every pair above the threshold
    slider = widgets.FloatSlider(value=0.8, min=0.6, max=1.0, step=0.02, description="threshold",
                                 **slider_layout())
    return Explorer({"threshold": slider},
                    lambda threshold: duplicate_threshold_numbers(records, threshold, similarities), draw, fig)
