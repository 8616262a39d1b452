"""Explorer for notebook 09: what a hosted fine-tuning job on your file would bill.

Training is billed per token: every training example's tokens, once per epoch. Validation
examples are scored but not billed. Move the epochs and the model to see the bill move. Each model
counts the file with its own encoding (o200k_base for the gpt-4o and gpt-4.1 families,
cl100k_base for gpt-3.5 and gpt-4), so changing the model recounts the tokens.
"""

from pathlib import Path

from ftlab.widgets.explorer import plural
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
    return {"model": model, "encoding": chosen.encoding, "n_epochs": int(n_epochs),
            "tokens_per_epoch": chosen.tokens_per_epoch,
            "billed_tokens": chosen.billed_tokens, "cost_usd": chosen.cost_usd,
            "price_per_1m": chosen.price_per_1m, "prices_date": chosen.prices_date,
            "costs": [e.cost_usd or 0.0 for e in per_epoch]}


class TokenCounts:
    """Each example's tokens in the encoding of a model, counted once per encoding.

    Starts from a ``validate_chat`` report's counts; another encoding is counted again from
    ``train`` (the training file's path, or its records), with ``validate_chat``, so the examples
    counted and the way they are counted are the report's own. Without ``train`` (and without a
    ``path`` on the report) only the report's encoding is known.
    """

    def __init__(self, report, train=None):
        if train is None:  # a report read from a file knows its full path: count that file again
            found = getattr(report, "path", None)
            train = found if found is not None and Path(str(found)).is_file() else None
        self.train = train
        self.by_encoding = {report.encoding: list(report.example_tokens)}

    def can_count(self, model):
        from ftlab.chat.tokens import encoding_name_for_model

        return self.train is not None or encoding_name_for_model(model) in self.by_encoding

    def for_model(self, model):
        """(encoding name, tokens of each example) for ``model``."""
        from ftlab.chat.tokens import encoding_name_for_model
        from ftlab.chat.validate import validate_chat

        name = encoding_name_for_model(model)
        if name not in self.by_encoding:
            if self.train is None:
                raise ValueError(f"{model} counts tokens with {name}; pass train= (the training "
                                 "file or its records) to count the examples again")
            self.by_encoding[name] = list(validate_chat(self.train, model=model,
                                                        progress=False).example_tokens)
        return name, self.by_encoding[name]


def cost_explorer(report, *, models=None, n_epochs=3, train=None):
    """Sliders for epochs and a model menu over a ``validate_chat`` report's examples.

    The report's token counts are in its model's encoding; choosing a model with another encoding
    counts the examples again in that one, from ``train`` (the training file's path or its
    records). Without it the menu offers only the models of the report's encoding, and the readout
    says why::

        cost_explorer(plan.report, n_epochs=3, train=train_path)
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ftlab.chat.tokens import TRAINING_PRICE_PER_1M
    from ftlab.widgets.explorer import Explorer

    counts = TokenCounts(report, train)
    offered = list(models or TRAINING_PRICE_PER_1M)
    models = [m for m in offered if counts.can_count(m)]
    if not models:
        raise ValueError(f"none of {offered} counts tokens with {report.encoding}, the report's "
                         "encoding; pass train= (the training file or its records) to count them")
    left_out = [m for m in offered if m not in models]
    missing = "" if not left_out else (f" | not offered: {', '.join(left_out)} (another encoding; "
                                       "pass train=, the training file, to count it)")
    controls = {
        "n_epochs": widgets.IntSlider(value=n_epochs, min=1, max=MAX_EPOCHS_SHOWN, description="epochs",
                                      continuous_update=False, **slider_layout()),
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
        encoding, tokens = counts.for_model(model)
        r = cost_numbers(tokens, n_epochs, model)
        r["encoding"] = encoding
        return r

    def draw(r):
        for epochs, (bar, cost) in enumerate(zip(bars, r["costs"]), 1):
            bar.set_height(cost)
            bar.set_color("#1f5fa8" if epochs == r["n_epochs"] else "#9db4d3")
        ax.set_ylim(0, max(r["costs"]) * 1.15 or 1)
        ax.set_title(f"{r['model']}: {plural(r['tokens_per_epoch'], 'billed token')} per epoch "
                     f"({r['encoding']})")
        cost = "no price in the table" if r["cost_usd"] is None else f"${r['cost_usd']:,.2f}"
        return (f"{plural(r['n_epochs'], 'epoch')} × {plural(r['tokens_per_epoch'], 'token')} = "
                f"{plural(r['billed_tokens'], 'billed token')} → {cost} (tokens counted with "
                f"{r['encoding']}; prices as of {r['prices_date']}){missing}")

    return Explorer(controls, compute, draw, figure)
