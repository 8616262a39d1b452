"""Does augmentation help? A paired experiment that separates augmentation from extra training steps.

The task must be one where the **user message decides the answer**, or varying the user message
cannot matter: the course uses ticket routing (``data/chat/tickets_*.jsonl``: a bookshop's
customer message → ``billing``, ``technical``, ``account`` or ``shipping``). Three arms are
fine-tuned with every seed, each from a fresh model made by ``load_model()``:

    original               the training examples
    original + copies      the same plus ``n_per_example`` exact copies of each
    original + augmented   the same plus ``n_per_example`` augmented variants of each

Adding examples also adds optimizer steps (``n_epochs="auto"`` keeps 3 epochs for 72 or 216
examples, so the two larger arms take 3× the steps). The copies arm is the control for that: it
has exactly as many examples and steps as the augmented arm, and with the same seed its examples
come from the same sources **in the same order and the same batches** — copy ``k`` sits where
variant ``k`` sits. The only difference between the two is the wording of the extra user turns, so

    augmented − copies     is the effect of augmentation itself,
    copies − original      the effect of more steps on repeated examples,
    augmented − original   (what you see without the control) the two together.

Each run is scored on held-out ``test`` records: **label loss** (mean cross-entropy over the
reply's tokens, here the label's characters and its end token) and **accuracy** (the greedy reply,
stripped, lower-cased and without trailing punctuation, equals the label: the rule of
``ftlab.chat.labels``, which ``ftlab.task_accuracy`` also follows). The runs are made by
``ftlab.tinylm.recipes.compare_training_sets``. A seed fixes the augmentation's draws and the
training order; the same seed in two arms gives a *pair*, and ``ftlab._report.paired_interval``
turns the pairs into a mean difference, a 95 % interval and the smallest difference the
experiment could detect.

``tools/run_augment_experiment.py`` runs it and writes one CSV row per seed × arm (with its
settings and versions); :func:`read_results` reads that file back and :func:`rerun_row` re-runs
one row, which must reproduce it exactly.
"""

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RESULTS_NAME = "augment_tickets.csv"  # the shipped results, in data/experiments/
EXPERIMENT = "augment-vs-copies-v1"  # change when the protocol changes: old result files then say so
ARMS = ("original", "original + copies", "original + augmented")
# (arm, baseline, what the difference measures)
COMPARISONS = (("original + augmented", "original + copies", "augmentation itself"),
               ("original + copies", "original", "more steps on repeated examples"),
               ("original + augmented", "original", "both together, without a control"))
# metric -> (name, +1 when higher is better, -1 when lower is better)
METRICS = {"test_accuracy": ("test accuracy", +1), "test_label_loss": ("test label loss", -1)}
SETTINGS = ("experiment", "model", "weights", "train_file", "test_file", "ops", "n_per_example",
            "rate", "batch_size", "learning_rate_multiplier", "ftlab_version", "numpy_version")
RESULTS = ("arm", "seed", "n_examples", "n_reworded", "n_epochs", "steps", "test_label_loss",
           "test_accuracy", "test_correct")
TIMES = ("finetune_seconds", "score_seconds")  # measured, so never part of a reproduction check


# ----------------------------------------------------------------------------- one run


def training_sets(train, ops=("synonym", "typo"), *, n_per_example=2, rate=0.1, seed=0,
                  held_out=()):
    """The three arms' training records for one seed: ``{arm: list of records}``.

    Variants whose user turn equals a ``held_out`` example's (after lower-casing and collapsing
    spaces) are left out, and so are their copies: both larger arms always have the same sources.
    """
    from ftlab.augment.chat import augment_chat
    from ftlab.augment.text import user_key

    originals = list(train)
    result = augment_chat(originals, ops, n_per_example=n_per_example, seed=seed, rate=rate)
    held = {user_key(record) for record in held_out}
    variants = list(result.records)[result.n_original:]
    keep = [k for k, record in enumerate(variants) if user_key(record) not in held]
    sources = result.provenance["source_index"].to_numpy()[keep]
    return {"original": originals,
            "original + copies": originals + [originals[int(i)] for i in sources],
            "original + augmented": originals + [variants[k] for k in keep]}


def score(model, test, *, max_tokens=32):
    """``(label loss, accuracy, correct)`` of ``model`` on chat records ``test``.

    Label loss: mean cross-entropy over the tokens of each record's assistant reply. Accuracy: the
    share of records whose greedy reply (``temperature=0``) is their reply, read as a label;
    ``correct`` holds one bool per record. (``ftlab.tinylm.recipes.score_model`` does the work.)
    """
    from ftlab.tinylm.recipes import score_model

    scores = score_model(model, test, max_tokens=max_tokens)
    return scores["label_loss"], scores["accuracy"], scores["correct"]


# ----------------------------------------------------------------------------- the experiment


def augmentation_experiment(train, test, *, load_model=None, ops=("synonym", "typo"),
                            n_per_example=2, rate=0.1, seeds=range(30), n_epochs="auto",
                            batch_size=4, learning_rate_multiplier=1.0, arms=ARMS, progress=True):
    """Run every arm with every seed; returns an :class:`AugmentationExperiment`.

    ``train``/``test``: chat records (``read_chat_jsonl`` results or lists). ``load_model``: a
    function returning a fresh model to fine-tune (default ``ftlab.tinylm.load_pretrained``);
    anything with ``finetune``, ``evaluate``, ``generate`` and ``params`` works, so the same
    experiment runs on any of the tiny models. ``n_epochs="auto"``: the service's rule for each
    arm's size. See the module's documentation for the arms and the scores.
    """
    from ftlab import __version__
    from ftlab.augment.text import _check_ops
    from ftlab.tinylm.model import load_pretrained
    from ftlab.tinylm.recipes import compare_training_sets

    load_model = load_model or load_pretrained
    ops = _check_ops(ops)
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; choose from {list(ARMS)}")
    setting = {"experiment": EXPERIMENT, "train_file": _file_name(train),
               "test_file": _file_name(test), "ops": "+".join(ops),
               "n_per_example": n_per_example, "rate": rate, "batch_size": batch_size,
               "learning_rate_multiplier": learning_rate_multiplier,
               "ftlab_version": __version__, "numpy_version": np.__version__}
    test = list(test)

    @functools.lru_cache(maxsize=1)  # the runs go seed by seed: augment once per seed, not per arm
    def sets_of(seed):
        return training_sets(train, ops, n_per_example=n_per_example, rate=rate, seed=seed,
                             held_out=test)

    def arm_set(arm):
        return lambda seed: sets_of(seed)[arm]

    runs = compare_training_sets({arm: arm_set(arm) for arm in arms}, test, load_model=load_model,
                                 seeds=seeds, n_epochs=n_epochs, batch_size=batch_size,
                                 learning_rate_multiplier=learning_rate_multiplier,
                                 progress=progress).table
    n_original = len(list(train))
    table = runs.rename(columns={"set": "arm"}).assign(**setting)
    table["n_reworded"] = np.where(table["arm"] == "original + augmented",
                                   table["n_examples"] - n_original, 0)
    return AugmentationExperiment(table[[*SETTINGS, *RESULTS, *TIMES]])


def _file_name(records):
    source = getattr(records, "source", None)
    return Path(str(source)).name if source and not str(source).startswith("<") else "<records>"


def read_results(path):
    """An :class:`AugmentationExperiment` from a CSV written by ``AugmentationExperiment.to_csv``.

    Every value is read as text and numbers are converted by Python's ``float``/``int``, which
    give back exactly the numbers written (``test_correct`` stays text).
    """
    import pandas as pd

    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in (*SETTINGS, *RESULTS) if c not in table]
    if missing:
        raise ValueError(f"{path}: not an augmentation-experiment results file (no column "
                         f"{', '.join(missing)}); write one with tools/run_augment_experiment.py")
    for column in table:
        if column in _INTEGERS:
            table[column] = table[column].map(int)
        elif column in _FLOATS:
            table[column] = table[column].map(float)
    return AugmentationExperiment(table)


_INTEGERS = ("n_per_example", "batch_size", "seed", "n_examples", "n_reworded", "n_epochs", "steps")
_FLOATS = ("rate", "learning_rate_multiplier", "test_label_loss", "test_accuracy", *TIMES)


def shipped_results():
    """The results that ship with ftlab (``data/experiments/augment_tickets.csv``), which
    notebook 06 reads; ``tools/run_augment_experiment.py`` writes them."""
    from ftlab._data import data_dir

    return read_results(data_dir() / "experiments" / RESULTS_NAME)


def rerun_row(row, *, load_model=None, train=None, test=None):
    """Re-run one row (seed × arm) of a results table; returns the new row as a dict.

    By default the model is ``load_pretrained(row["model"])`` and the data are the row's files
    in ftlab's ``data/chat/``. Every column but the timings must come out the same.
    """
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl
    from ftlab.tinylm.model import load_pretrained

    if load_model is None:
        def load_model():
            return load_pretrained(row["model"])
    chat = data_dir() / "chat"
    train = train if train is not None else read_chat_jsonl(chat / row["train_file"])
    test = test if test is not None else read_chat_jsonl(chat / row["test_file"])
    exp = augmentation_experiment(train, test, load_model=load_model, ops=row["ops"].split("+"),
                                  n_per_example=int(row["n_per_example"]), rate=float(row["rate"]),
                                  seeds=[int(row["seed"])], n_epochs=int(row["n_epochs"]),
                                  batch_size=int(row["batch_size"]),
                                  learning_rate_multiplier=float(row["learning_rate_multiplier"]),
                                  arms=[row["arm"]], progress=False)
    return exp.table.iloc[0].to_dict()


@dataclass
class AugmentationExperiment:
    """The runs (``table``: one row per seed × arm, settings included) and what they show."""

    table: object

    @property
    def settings(self):
        """The settings every row shares (model, data, augmentation, versions)."""
        first = self.table.iloc[0]
        return {c: first[c] for c in SETTINGS if c in self.table}

    @property
    def seeds(self):
        return sorted(set(int(s) for s in self.table["seed"]))

    def to_csv(self, path, *, overwrite=False):
        """Write the table atomically; an existing file only with ``overwrite=True``."""
        from ftlab._files import write_all

        write_all([(Path(path), lambda f: self.table.to_csv(f, index=False), {"newline": ""})],
                  overwrite=overwrite)
        return Path(path)

    def by_seed(self, metric):
        """One column per arm, one row per seed: the paired scores."""
        t = self.table.pivot(index="seed", columns="arm", values=metric)
        return t[[a for a in ARMS if a in t.columns]]

    def arms(self):
        """Per arm: examples, reworded examples, epochs, steps, mean scores and their spread."""
        g = self.table.groupby("arm", sort=False)
        out = g.agg(n_examples=("n_examples", "mean"), n_reworded=("n_reworded", "mean"),
                    n_epochs=("n_epochs", "mean"), steps=("steps", "mean"),
                    accuracy=("test_accuracy", "mean"), accuracy_sd=("test_accuracy", "std"),
                    label_loss=("test_label_loss", "mean"),
                    label_loss_sd=("test_label_loss", "std"), seeds=("seed", "count"))
        return out.loc[[a for a in ARMS if a in out.index]]

    def correct(self, arm):
        """(seeds, test examples) array: 1 where that seed's run of ``arm`` got the example right."""
        rows = self.table[self.table["arm"] == arm].sort_values("seed")
        return np.array([[c == "1" for c in bits] for bits in rows["test_correct"]], dtype=float)

    def comparisons(self, metric="test_accuracy", *, confidence=0.95, power=0.8):
        """Each comparison, paired by seed: mean difference, interval, detectable difference.

        ``difference`` = mean over seeds of (arm − baseline). ``low``/``high``: its *t* interval;
        ``mde``: the true difference this many seeds would detect with probability ``power``;
        ``verdict``: "better"/"worse" when the interval excludes 0 (for the loss, lower is
        better), otherwise "not detected".
        """
        import pandas as pd

        from ftlab._report import paired_interval

        scores, sign = self.by_seed(metric), METRICS[metric][1]
        rows = []
        for arm, baseline, meaning in COMPARISONS:
            if arm not in scores or baseline not in scores:
                continue
            r = paired_interval(scores[arm], scores[baseline], confidence=confidence, power=power)
            verdict = ("not detected" if not r.excludes_zero
                       else "better" if sign * r.mean > 0 else "worse")
            rows.append({"metric": metric, "arm": arm, "baseline": baseline, "measures": meaning,
                         "difference": r.mean, "low": r.low, "high": r.high, "sd": r.sd,
                         "mde": r.mde, "seeds": r.n, "verdict": verdict})
        return pd.DataFrame(rows)

    def bootstrap(self, *, confidence=0.95, n_boot=4000, seed=0):
        """Accuracy differences with intervals that also resample the test examples
        (:func:`~ftlab._report.two_way_bootstrap`): how far another test set could move them."""
        import pandas as pd

        from ftlab._report import two_way_bootstrap

        rows = []
        for arm, baseline, meaning in COMPARISONS:
            a, b = self.correct(arm), self.correct(baseline)
            low, high = two_way_bootstrap(a, b, confidence=confidence, n_boot=n_boot, seed=seed)
            rows.append({"arm": arm, "baseline": baseline, "measures": meaning,
                         "difference": float((a - b).mean()), "low": low, "high": high})
        return pd.DataFrame(rows)

    def conclusion(self, metric="test_accuracy"):
        """One sentence per comparison, written from the numbers."""
        name = METRICS[metric][0]
        lines = []
        for r in self.comparisons(metric).itertuples():
            head = (f"({r.arm}) − ({r.baseline}), {r.measures}: {name} {r.difference:+.4f} "
                    f"(95% CI {r.low:+.4f} to {r.high:+.4f}, {r.seeds} seeds)")
            if r.verdict == "not detected":
                lines.append(f"{head}: no difference detected. The interval includes 0; a true "
                             f"difference of ±{r.mde:.4f} would be detected 80% of the time, a "
                             "smaller one may be missed.")
            else:
                lines.append(f"{head}: {r.arm} is {r.verdict} — the interval excludes 0.")
        return "\n".join(lines)

    def plot(self, metric="test_accuracy"):
        """Left: each seed's score in every arm, a line joining one seed's runs. Right: the paired
        differences with their 95 % intervals, and the band ±mde that the experiment cannot see."""
        from matplotlib.figure import Figure

        name = METRICS[metric][0]
        scores = self.by_seed(metric)
        fig = Figure(figsize=(12, 3.8))
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
        x = np.arange(len(scores.columns))
        for _, row in scores.iterrows():
            left.plot(x, row.to_numpy(), "-", color="0.75", lw=0.8, zorder=1)
        left.plot(x, scores.mean().to_numpy(), "s", color="C3", ms=8, zorder=3, label="mean")
        left.set_xticks(x, [a.replace(" + ", "\n+ ") for a in scores.columns])
        left.set_ylabel(name)
        left.set_title(f"{name}, one grey line per seed ({len(scores)} seeds)")
        left.legend(loc="best")
        c = self.comparisons(metric)
        y = np.arange(len(c))[::-1]
        for yi, r in zip(y, c.itertuples()):
            right.barh(yi, 2 * r.mde, left=-r.mde, height=0.5, color="0.9", zorder=1)
            right.errorbar(r.difference, yi, xerr=[[r.difference - r.low], [r.high - r.difference]],
                           fmt="o", color="C0", capsize=5, zorder=3)
        right.axvline(0, color="0.3", lw=1)
        right.set_yticks(y, [f"({r.arm}) − ({r.baseline})\n{r.measures}" for r in c.itertuples()],
                         fontsize=8)
        right.set_xlabel(f"paired difference in {name} (95% interval; grey: ±detectable difference)")
        right.set_title("differences, paired by seed")
        fig.tight_layout()
        return fig

