"""Which training set makes the better model? Fine-tune on each, with the same seeds, and compare.

A *recipe* here is a named training set: the original examples, the same with an instruction,
with a metadata field, with augmented variants... :func:`compare_training_sets` fine-tunes a
**fresh** model (``load_model()``) on every set with every seed and scores each run on held-out
records:

- **accuracy**: the greedy reply (``temperature=0``) read as a label by ``ftlab.chat.labels``'
  rule, the rule of ``ftlab.task_accuracy``; ``<test>_correct`` keeps one ``1``/``0`` per record;
- **label loss**: the mean cross-entropy over the reference reply's tokens (its characters and
  its end token), which moves before the accuracy does.

The same seed in two sets gives the same training order over the same number of examples, so
the runs form **pairs** and the seed-to-seed noise cancels in their difference.
:meth:`RecipeComparison.summary` gives, per set, the mean score with a 95 % interval and, against
a baseline set, the mean paired difference with its 95 % *t* interval and the smallest difference
these seeds could detect (``ftlab._report.paired_interval``).

Each set may come with its own test records, in its own format (a set that adds an instruction
is tested with that instruction), and ``extra_tests`` scores every run on more held-out data, for
example test messages whose metadata still follows the training data's pattern.

Any model works that has ``finetune``, ``generate`` and ``evaluate`` and a ``params`` dict (the
MLP and the transformer of ``ftlab.tinylm`` both do): the model is a parameter, never assumed.
"""

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ftlab._report import accuracy_interval, paired_interval, t_quantile
from ftlab.chat.labels import labelled_examples, score_labels
from ftlab.tinylm.files import weights_hash

MAX_TOKENS = 32  # longest reply read when scoring: a label is a word
METRIC_SUFFIXES = ("_accuracy", "_label_loss")
_INTEGERS = ("seed", "n_examples", "n_epochs", "batch_size", "steps")
_FLOAT_SUFFIXES = ("_accuracy", "_label_loss", "_seconds", "learning_rate_multiplier")


# ----------------------------------------------------------------------------- one run


def score_model(model, test, *, max_tokens=MAX_TOKENS, name=None):
    """``{"label_loss", "accuracy", "correct", "result"}`` of ``model`` on chat records ``test``.

    ``result`` is the :class:`~ftlab.chat.labels.TaskAccuracy` of the greedy replies (confusion
    table, mistakes, Wilson interval); ``correct`` one bool per record, in order.
    """
    records, examples = labelled_examples(test, "score_model")
    replies = [model.generate(prompt, temperature=0, max_tokens=max_tokens)
               for prompt, _, _ in examples]
    result = score_labels([reference for _, _, reference in examples], replies,
                          messages=[user for _, user, _ in examples],
                          name=name or _model_name(model))
    return {"label_loss": float(model.evaluate(records)["loss"]), "accuracy": result.accuracy,
            "correct": result.table["correct"].tolist(), "result": result}


def _model_name(model):
    return getattr(model, "info", {}).get("name", type(model).__name__)


def _epochs(n_epochs, n_examples):
    """``"auto"``: the hosted services' rule for this many examples; otherwise as given (None:
    the model's own default)."""
    if n_epochs == "auto":
        from ftlab.chat.tokens import default_epochs

        return default_epochs(n_examples)
    return n_epochs


def train_and_score(load_model, records, tests, *, seed, n_epochs=None, max_tokens=MAX_TOKENS,
                    **finetune_kwargs):
    """Fine-tune a fresh ``load_model()`` on ``records`` with ``seed``; score it on each of
    ``tests`` (``{name: records}``). Returns one row (a dict): the model's name and weights hash
    before fine-tuning, the hyperparameters used, steps, ``<name>_label_loss``,
    ``<name>_accuracy`` and ``<name>_correct`` per test, and the seconds spent."""
    model = load_model()
    name = _model_name(model)
    weights = weights_hash(model.params)[:16]
    records = list(records)
    start = time.perf_counter()
    run = model.finetune(records, None, n_epochs=_epochs(n_epochs, len(records)), seed=seed,
                         progress=False, **finetune_kwargs)
    trained = time.perf_counter()
    hyper = run.meta["hyperparameters"]
    row = {"model": name, "weights": weights, "n_examples": len(records),
           "n_epochs": int(hyper["n_epochs"]), "batch_size": int(hyper["batch_size"]),
           "learning_rate_multiplier": float(hyper["learning_rate_multiplier"]),
           "steps": int(run.meta["total_steps"])}
    for test_name, test in tests.items():
        scores = score_model(model, test, max_tokens=max_tokens)
        row[f"{test_name}_label_loss"] = scores["label_loss"]
        row[f"{test_name}_accuracy"] = scores["accuracy"]
        row[f"{test_name}_correct"] = "".join("1" if c else "0" for c in scores["correct"])
    row["finetune_seconds"] = round(trained - start, 3)
    row["score_seconds"] = round(time.perf_counter() - trained, 3)
    return row


# ----------------------------------------------------------------------------- the comparison


def _per_set(test, names, what):
    """``test`` as ``{set name: records}``: one records list shared by every set, or a dict that
    gives each set its own (the same messages, in that set's format)."""
    if isinstance(test, dict):
        missing = [n for n in names if n not in test]
        if missing:
            raise ValueError(f"{what} has no records for set(s) {missing}: give every training set "
                             "its test records, or one list of records for all of them")
        return {n: test[n] for n in names}
    return {n: test for n in names}


def compare_training_sets(sets, test, *, load_model, seeds=range(10), extra_tests=None,
                          max_tokens=MAX_TOKENS, progress=True, **finetune_kwargs):
    """Fine-tune a fresh model on every named training set with every seed; score each run.

    ``sets``: ``{name: training records}``; a value may also be a function ``seed -> records``
    when the set itself depends on the seed (augmented variants). ``test``: held-out chat records
    for every set, or ``{set name: records}`` when each set has its own format. ``extra_tests``:
    ``{test name: records or {set name: records}}``, scored the same way (columns
    ``<test name>_accuracy`` ...). ``load_model``: a function returning a fresh model.
    ``finetune_kwargs`` go to ``model.finetune`` (``n_epochs="auto"`` applies the services' rule
    to each set's size). Runs go seed by seed, each set in turn; the same seed in two sets is a
    pair. Returns a :class:`RecipeComparison` with one row per set × seed.
    """
    import pandas as pd

    if not isinstance(sets, dict) or not sets:
        raise ValueError("sets must be a dict {name: training records}, e.g. "
                         "{'original': train, 'with instruction': train_with_instruction}")
    if not callable(load_model):
        raise TypeError(f"load_model must be a function that returns a fresh model, such as "
                        f"ftlab.tinylm.load_pretrained; got a {type(load_model).__name__}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed, e.g. range(10)")
    names = list(sets)
    tests = {"test": _per_set(test, names, "test")}
    for test_name, records in (extra_tests or {}).items():
        if test_name in tests:
            raise ValueError(f"extra_tests may not be called {test_name!r}: that is the main test")
        tests[test_name] = _per_set(records, names, f"extra_tests[{test_name!r}]")
    for per_set in tests.values():  # every test set checked before the first minute of training
        for records in per_set.values():
            labelled_examples(records, "compare_training_sets")
    rows = []
    bar = _bar(len(seeds) * len(names), progress)
    for seed in seeds:
        for name in names:
            records = sets[name](seed) if callable(sets[name]) else sets[name]
            row = train_and_score(load_model, records,
                                  {t: per_set[name] for t, per_set in tests.items()}, seed=seed,
                                  max_tokens=max_tokens, **finetune_kwargs)
            rows.append({"set": name, "seed": seed, **row})
            bar.update(1)
    bar.close()
    return RecipeComparison(pd.DataFrame(rows))


def _bar(total, progress):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="fine-tuning runs", disable=not progress)


def _lower_is_better(metric):
    return metric.endswith("_loss")


@dataclass
class RecipeComparison:
    """The runs (``table``: one row per set × seed) and what they show."""

    table: object

    def __repr__(self):
        tests = [c[:-len("_accuracy")] for c in self.table.columns if c.endswith("_accuracy")]
        return (f"RecipeComparison: {len(self.set_names)} sets × {len(self.seeds)} seeds, "
                f"scored on {', '.join(tests)}")

    @property
    def set_names(self):
        return list(dict.fromkeys(self.table["set"]))

    @property
    def seeds(self):
        return sorted(set(int(s) for s in self.table["seed"]))

    def by_seed(self, metric="test_accuracy"):
        """One column per set, one row per seed: the paired scores."""
        return self.table.pivot(index="seed", columns="set", values=metric)[self.set_names]

    def correct(self, name, test="test"):
        """(seeds, test records) array of one set: 1 where that seed's run got the record right."""
        rows = self.table[self.table["set"] == name].sort_values("seed")
        return np.array([[c == "1" for c in bits] for bits in rows[f"{test}_correct"]], dtype=float)

    def _interval(self, name, metric, scores, confidence):
        """A set's mean with its interval: for an accuracy, over seeds *and* test records
        (another test set would move it too: ``ftlab._report.accuracy_interval``); otherwise a
        *t* interval over seeds."""
        test = metric[:-len("_accuracy")] if metric.endswith("_accuracy") else None
        if test is not None and f"{test}_correct" in self.table:
            return accuracy_interval(self.correct(name, test), confidence)
        if len(scores) < 2:
            return math.nan, math.nan
        half = t_quantile(0.5 + confidence / 2, len(scores) - 1) * scores.std(ddof=1) / math.sqrt(
            len(scores))
        return float(scores.mean() - half), float(scores.mean() + half)

    def summary(self, baseline=None, metric="test_accuracy", *, confidence=0.95, power=0.8):
        """Per set: mean ``metric`` over seeds with its interval (``low``, ``high``), and the
        paired difference from ``baseline`` (default: the first set) with its *t* interval
        (``diff_low``, ``diff_high``), ``mde`` (the true difference these seeds would detect with
        probability ``power``) and a ``verdict``: "better"/"worse" when the interval excludes 0
        (for a loss, lower is better), "not detected" otherwise, "identical" when every pair
        scored the same (the sets cannot differ for this model)."""
        import pandas as pd

        names = self.set_names
        baseline = names[0] if baseline is None else baseline
        if baseline not in names:
            raise ValueError(f"baseline {baseline!r} is not one of the sets {names}")
        scores = self.by_seed(metric)
        sign = -1 if _lower_is_better(metric) else 1
        rows = []
        for name in names:
            column = scores[name].dropna()
            low, high = self._interval(name, metric, column.to_numpy(dtype=float), confidence)
            row = {"set": name, "seeds": len(column), "mean": float(column.mean()), "low": low,
                   "high": high}
            pair = scores[[name, baseline]].dropna()
            if name == baseline:
                row.update(difference=0.0, diff_low=math.nan, diff_high=math.nan, mde=math.nan,
                           verdict="baseline")
            elif len(pair) < 2:
                row.update(difference=float((pair[name] - pair[baseline]).mean()),
                           diff_low=math.nan, diff_high=math.nan, mde=math.nan,
                           verdict="needs 2 seeds")
            else:
                r = paired_interval(pair[name], pair[baseline], confidence=confidence, power=power)
                verdict = ("identical" if r.sd == 0 and r.mean == 0 else "not detected"
                           if not r.excludes_zero else "better" if sign * r.mean > 0 else "worse")
                row.update(difference=r.mean, diff_low=r.low, diff_high=r.high, mde=r.mde,
                           verdict=verdict)
            rows.append(row)
        out = pd.DataFrame(rows).set_index("set")
        out.attrs.update(metric=metric, baseline=baseline, confidence=confidence)
        return out

    def to_csv(self, path, *, overwrite=False):
        """Write the table atomically; an existing file only with ``overwrite=True``."""
        from ftlab._files import write_all

        write_all([(Path(path), lambda f: self.table.to_csv(f, index=False), {"newline": ""})],
                  overwrite=overwrite)
        return Path(path)


def read_comparison(path):
    """A :class:`RecipeComparison` from a CSV written by ``RecipeComparison.to_csv``.

    Every value is read as text; counts become ``int`` and scores and times ``float`` (which
    give back exactly the numbers written); ``*_correct`` and any other column stay text.
    """
    import pandas as pd

    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("set", "seed", "test_accuracy") if c not in table]
    if missing:
        raise ValueError(f"{path}: not a recipe comparison (no column {', '.join(missing)}); "
                         "write one with RecipeComparison.to_csv")
    for column in table:
        if column in _INTEGERS:
            table[column] = table[column].map(int)
        elif column.endswith(_FLOAT_SUFFIXES):
            table[column] = table[column].map(float)
    return RecipeComparison(table)
