"""Does augmentation help? Fine-tune the tiny model with and without it and compare validation loss.

Four training sets, one validation set, several seeds:

    original              the training examples
    original + augmented  the same plus ``n_per_example`` augmented copies of each
    small original        a fixed subset of ``small`` examples
    small + augmented     that subset plus its augmented copies

A fair comparison gives every condition the same number of optimizer steps per original example:
the original sets train for ``1 + n_per_example`` epochs, the augmented ones for one, so every
assistant reply is learned from the same number of times — only whether its user turn varies
differs. Seeds change both the augmentation and the training order, so the spread across seeds is
the noise any difference has to beat.
"""

from dataclasses import dataclass

import numpy as np

CONDITIONS = ("original", "original + augmented", "small original", "small + augmented")
COMPARISONS = (("original + augmented", "original"), ("small + augmented", "small original"))


def _subset(records, k, seed=12345):
    order = np.random.default_rng(seed).permutation(len(records))[:k]
    return records.subset(sorted(int(i) for i in order))


def noisy_copy(valid, ops=("typo", "case"), rate=0.1, seed=999):
    """The validation examples with noise in their user turns (one fixed copy): how the model does
    on messily typed questions. Examples the noise cannot change are kept as they are."""
    from ftlab.augment.chat import augment_chat

    result = augment_chat(valid, ops, n_per_example=1, seed=seed, rate=rate)
    by_source = dict(zip(result.provenance.source_index, result.variants))
    return [by_source.get(i, record) for i, record in enumerate(result.records[:result.n_original])]


def augmentation_experiment(train, valid, *, ops=("synonym", "typo"), n_per_example=2, rate=0.1,
                            small=32, seeds=(0, 1, 2), batch_size=4, model=None,
                            noisy_valid_ops=("typo", "case"), progress=True):
    """Run the four conditions for each seed; returns an :class:`AugmentationExperiment`.

    ``train``/``valid``: chat records (``read_chat_jsonl`` results). ``model``: a tinylm model to
    start every run from (default ``ftlab.tinylm.load_pretrained()``); it is copied, never changed.
    Every run is scored on ``valid`` (``valid_loss``) and, when ``noisy_valid_ops`` is given, on a
    copy of it with noisy user turns (``noisy_valid_loss``): same answers, messier questions.
    """
    import pandas as pd

    from ftlab.augment.chat import augment_chat
    from ftlab.chat.files import ChatRecords
    from ftlab.tinylm.model import load_pretrained

    train = train if isinstance(train, ChatRecords) else ChatRecords(list(train))
    if not 0 < small < len(train):
        raise ValueError(f"small={small} must be between 1 and the {len(train)} training examples")
    base = model if model is not None else load_pretrained()
    small_set = _subset(train, small)
    epochs = 1 + n_per_example
    noisy_valid = noisy_copy(valid, noisy_valid_ops) if noisy_valid_ops else None
    rows = []
    bar = _bar(len(seeds) * len(CONDITIONS), progress)
    for seed in seeds:
        kwargs = dict(n_per_example=n_per_example, seed=seed, rate=rate, valid=valid)
        sets = {"original": (train, epochs),
                "original + augmented": (augment_chat(train, ops, **kwargs).records, 1),
                "small original": (small_set, epochs),
                "small + augmented": (augment_chat(small_set, ops, **kwargs).records, 1)}
        for condition in CONDITIONS:
            data, n_epochs = sets[condition]
            tuned = base.copy()
            run = tuned.finetune(data, valid, n_epochs=n_epochs, batch_size=batch_size,
                                 seed=seed, eval_every=10**9, progress=False)
            full = run.metrics["full_valid_loss"].dropna()
            row = {"condition": condition, "seed": seed, "n_examples": len(data),
                   "n_epochs": n_epochs, "steps": int(run.metrics.index.max()),
                   "valid_loss": float(full.iloc[-1]),
                   "train_loss": float(run.metrics["train_loss"].dropna().iloc[-1])}
            if noisy_valid is not None:
                row["noisy_valid_loss"] = float(tuned.evaluate(noisy_valid)["loss"])
            rows.append(row)
            bar.update(1)
    bar.close()
    table = pd.DataFrame(rows)
    return AugmentationExperiment(table, {"ops": list(ops), "n_per_example": n_per_example,
                                          "rate": rate, "small": small, "seeds": list(seeds),
                                          "batch_size": batch_size, "n_valid": len(valid),
                                          "noisy_valid_ops": list(noisy_valid_ops or [])})


@dataclass
class AugmentationExperiment:
    """The runs (``table``: one row per condition and seed) and what they show."""

    table: object
    settings: dict

    def metrics(self):
        """The validation losses measured: ``valid_loss``, and ``noisy_valid_loss`` if scored."""
        return [m for m in ("valid_loss", "noisy_valid_loss") if m in self.table]

    def summary(self, metric="valid_loss"):
        """Mean, standard deviation, min and max of a validation loss per condition (over seeds)."""
        g = self.table.groupby("condition", sort=False)[metric]
        out = g.agg(["mean", "std", "min", "max", "count"])
        out.insert(0, "n_examples", self.table.groupby("condition", sort=False)["n_examples"].mean())
        out.insert(1, "steps", self.table.groupby("condition", sort=False)["steps"].mean())
        return out.loc[[c for c in CONDITIONS if c in out.index]]

    def comparisons(self, metric="valid_loss"):
        """Each augmented condition against its baseline, paired by seed.

        ``difference`` = mean of (augmented − baseline) validation loss (negative: augmentation
        helped); ``se`` = standard error of that mean; ``better_seeds`` = seeds where it helped.
        Verdict: "helps"/"hurts" when every seed agrees and the mean difference is more than
        twice its standard error; otherwise "no clear difference".
        """
        import pandas as pd

        t = self.table.pivot(index="seed", columns="condition", values=metric)
        rows = []
        for treated, baseline in COMPARISONS:
            d = (t[treated] - t[baseline]).to_numpy()
            se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
            mean = float(d.mean())
            if len(d) > 1 and (d < 0).all() and abs(mean) > 2 * se:
                verdict = "helps"
            elif len(d) > 1 and (d > 0).all() and abs(mean) > 2 * se:
                verdict = "hurts"
            else:
                verdict = "no clear difference"
            rows.append({"metric": metric, "augmented": treated, "baseline": baseline,
                         "difference": mean, "se": se,
                         "better_seeds": int((d < 0).sum()), "seeds": len(d), "verdict": verdict})
        return pd.DataFrame(rows)

    def conclusion(self):
        """One sentence per comparison and validation set, written from the numbers."""
        names = {"valid_loss": "validation loss", "noisy_valid_loss": "noisy-validation loss"}
        lines = []
        for metric in self.metrics():
            for r in self.comparisons(metric).itertuples():
                change = "lower" if r.difference < 0 else "higher"
                lines.append(
                    f"{r.augmented} vs {r.baseline}: {names[metric]} {abs(r.difference):.4f} "
                    f"{change} on average (± {r.se:.4f} standard error), better in "
                    f"{r.better_seeds} of {r.seeds} seeds → {r.verdict}.")
        return "\n".join(lines)

    def plot(self, ax=None, metric="valid_loss"):
        """Each seed's validation loss per condition (dots) with mean ± standard deviation."""
        from matplotlib.figure import Figure

        if ax is None:
            fig = Figure(figsize=(8, 3.6))
            ax = fig.subplots()
        s = self.summary(metric)
        for x, condition in enumerate(s.index):
            losses = self.table.loc[self.table.condition == condition, metric].to_numpy()
            jitter = np.linspace(-0.08, 0.08, len(losses)) if len(losses) > 1 else [0.0]
            ax.plot(x + np.asarray(jitter), losses, "o", color="0.55", ms=5, zorder=2)
            ax.errorbar(x + 0.22, s.loc[condition, "mean"], yerr=s.loc[condition, "std"], fmt="s",
                        color="C0" if "augmented" in condition else "C1", capsize=5, ms=7, zorder=3)
        ax.set_xticks(range(len(s.index)), [f"{c}\n({int(n)} ex)" for c, n in
                                            zip(s.index, s["n_examples"])])
        label = "noisy-validation" if metric == "noisy_valid_loss" else "validation"
        ax.set_ylabel(f"{label} loss (nats / token)")
        ax.set_title(f"tinylm with and without augmentation: {label} loss "
                     f"({len(self.settings['seeds'])} seeds)")
        ax.grid(axis="y", alpha=0.3)
        return ax.figure


def _bar(total, progress):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="fine-tuning runs", disable=not progress)
