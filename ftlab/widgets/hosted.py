"""Explorer for notebook 09: what a hosted fine-tuning job on your file would bill.

Training is billed per token: every training example's tokens, once per epoch. Validation
examples are scored but not billed. Move the epochs and the model to see the bill move.
"""

from ftlab.widgets.presenter import slider_layout

MAX_EPOCHS_SHOWN = 10


def cost_numbers(example_tokens, n_epochs, model, prices=None):
    """Billed tokens and cost for 1..MAX_EPOCHS_SHOWN epochs, and for the chosen ``n_epochs``.

    >>> r = cost_numbers([1000] * 50, 3, "gpt-4o-mini-2024-07-18")
    >>> r["billed_tokens"], round(r["cost_usd"], 2), [round(c, 2) for c in r["costs"][:3]]
    (150000, 0.45, [0.15, 0.3, 0.45])
    """
    from ftlab.chat.tokens import estimate_training

    chosen = estimate_training(example_tokens, model=model, n_epochs=n_epochs, prices=prices)
    per_epoch = [estimate_training(example_tokens, model=model, n_epochs=e, prices=prices)
                 for e in range(1, MAX_EPOCHS_SHOWN + 1)]
    return {"model": model, "n_epochs": int(n_epochs), "tokens_per_epoch": chosen.tokens_per_epoch,
            "billed_tokens": chosen.billed_tokens, "cost_usd": chosen.cost_usd,
            "price_per_1m": chosen.price_per_1m, "prices_date": chosen.prices_date,
            "costs": [e.cost_usd or 0.0 for e in per_epoch]}


def cost_explorer(report, *, models=None, n_epochs=3):
    """Sliders for epochs and a model menu over a ``validate_chat`` report's token counts."""
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ftlab.widgets.explorer import Explorer
    from ftlab.chat.tokens import TRAINING_PRICE_PER_1M

    models = list(models or TRAINING_PRICE_PER_1M)
    tokens = list(report.example_tokens)
    controls = {
        "n_epochs": widgets.IntSlider(value=n_epochs, min=1, max=MAX_EPOCHS_SHOWN, description="epochs",
                                      continuous_update=False, layout=slider_layout()),
        "model": widgets.Dropdown(options=models, value=report.model if report.model in models
                                  else models[0], description="model"),
    }
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    ax = figure.add_subplot()
    bars = ax.bar(range(1, MAX_EPOCHS_SHOWN + 1), [0.0] * MAX_EPOCHS_SHOWN, color="#9db4d3")
    ax.set_xlabel("epochs")
    ax.set_ylabel("training cost (US$)")
    ax.set_xticks(range(1, MAX_EPOCHS_SHOWN + 1))

    def compute(n_epochs, model):
        return cost_numbers(tokens, n_epochs, model)

    def draw(r):
        for epochs, (bar, cost) in enumerate(zip(bars, r["costs"]), 1):
            bar.set_height(cost)
            bar.set_color("#1f5fa8" if epochs == r["n_epochs"] else "#9db4d3")
        ax.set_ylim(0, max(r["costs"]) * 1.15 or 1)
        ax.set_title(f"{r['model']}: {r['tokens_per_epoch']:,} billed tokens per epoch")
        cost = "no price in the table" if r["cost_usd"] is None else f"${r['cost_usd']:,.2f}"
        return (f"{r['n_epochs']} epochs × {r['tokens_per_epoch']:,} tokens = {r['billed_tokens']:,} "
                f"billed tokens → {cost} (prices as of {r['prices_date']})")

    return Explorer(controls, compute, draw, figure)
