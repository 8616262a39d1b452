"""Prompt first, then fine-tune: how well does a model do with a few examples in its prompt?

OpenAI's fine-tuning guide asks for a zero- or few-shot prompt baseline before any fine-tuning:
if a good prompt already routes tickets well, fine-tuning must beat *that*, not the bare model.

:func:`few_shot_prompt` builds the prefix of such a prompt: a system instruction and ``k``
labelled training examples, balanced over the labels (``k // labels`` of each, the remainder to
labels drawn by ``seed``) and shuffled, so that neither the mix nor the order of labels hints at
an answer.

**The examples are prior user/assistant turns, not text in the system message.** Each example
then has exactly the form of the question that follows it (a user turn answered by an assistant
turn that is the label alone), so the model sees the reply it should give demonstrated in its own
role, in the format a fine-tuned model is later trained on. Listed inside the system message they
would be text *about* replies, which models tend to imitate in style ("Example 3: ... → billing")
rather than in form.

:func:`prompt_baseline` measures ``task_accuracy`` with such prompts and no training, for several
``k`` and several draws of the examples (``seeds``): which examples are drawn changes the result,
so one draw says little. The interval of each ``k`` resamples both the draws and the test
messages. It works for a tiny ftlab model, a hosted ``chat_model(client, name)`` or any function
``messages -> str``. A tiny model reads a limited context; when a prompt is longer, the result
says so (``over_context``, ``notes``) rather than quietly scoring a model that never saw the
examples.

>>> train = [{"messages": [{"role": "user", "content": m}, {"role": "assistant", "content": a}]}
...          for m, a in [("Charged twice", "billing"), ("Parcel lost", "shipping"),
...                       ("Refund please", "billing"), ("Courier late", "shipping")]]
>>> [m["content"] for m in few_shot_prompt(train, 2, instruction="Reply with a label.", seed=1)]
['Reply with a label.', 'Courier late', 'shipping', 'Charged twice', 'billing']
"""

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ftlab._report import accuracy_interval
from ftlab.chat.labels import labelled_examples, normalize_label
from ftlab.hosted.accuracy import task_accuracy

AUTO = "auto"  # instruction: the training data's own system message, else one naming the labels


# ----------------------------------------------------------------------------- the prompt


def _instruction(instruction, examples, labels):
    if instruction != AUTO:
        return instruction
    systems = {json.dumps([m.get("content") for m in prompt if m.get("role") == "system"])
               for prompt, _, _ in examples}
    if len(systems) == 1:  # every training example has the same system message: use it
        texts = json.loads(systems.pop())
        if texts and all(isinstance(t, str) for t in texts):
            return "\n".join(texts)
    return f"Reply with exactly one label: {', '.join(labels[:-1])} or {labels[-1]}." \
        if len(labels) > 1 else f"Reply with exactly one label: {labels[0]}."


def few_shot_prompt(train, k, *, instruction=AUTO, seed=0):
    """The messages that go before each test message: a system instruction, then ``k`` labelled
    examples from ``train`` as user/assistant turns, balanced over the labels and shuffled.

    ``instruction``: ``"auto"`` (the training records' own system message when they all share
    one, otherwise "Reply with exactly one label: ..."), a text, or None for no system message.
    ``seed`` decides which examples are drawn and their order. ``k=0`` gives the zero-shot prompt.
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
        raise ValueError(f"k must be a whole number of examples, 0 or more, got {k!r}")
    _, examples = labelled_examples(train, "few_shot_prompt")
    by_label = {}
    for i, (_, _, reference) in enumerate(examples):
        by_label.setdefault(normalize_label(reference), []).append(i)
    labels = sorted(by_label)
    rng = np.random.default_rng(seed)
    wanted = {label: k // len(labels) for label in labels}
    for label in rng.choice(labels, size=k % len(labels), replace=False):
        wanted[str(label)] += 1
    picked = []
    for label in labels:
        if wanted[label] > len(by_label[label]):
            raise ValueError(f"k={k} needs {wanted[label]} examples labelled {label!r}, the "
                             f"training records have {len(by_label[label])}; use a smaller k")
        picked += rng.choice(by_label[label], size=wanted[label], replace=False).tolist()
    picked = [picked[i] for i in rng.permutation(len(picked))]
    system = _instruction(instruction, examples, labels)
    messages = [{"role": "system", "content": system}] if system else []
    for i in picked:
        _, user, reference = examples[i]
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": reference}]
    return messages


def with_prompt(prefix, records):
    """``records`` with their system messages replaced by the prompt ``prefix``."""
    return [{**record, "messages": [*prefix, *(m for m in record["messages"]
                                               if m.get("role") != "system")]}
            for record in records]


def _prompt_lengths(model, records):
    """Tokens of each rendered prompt and the model's context, for a tiny model (else None)."""
    context = getattr(getattr(model, "config", None), "context_size", None)
    if context is None or not hasattr(model, "generate"):
        return None, None
    from ftlab.tinylm.text import render_prompt

    return [len(render_prompt(record)) for record in records], int(context)


# ----------------------------------------------------------------------------- the baseline


@dataclass
class PromptBaseline:
    """Accuracy with few-shot prompts and no training.

    ``table``: one row per ``k`` × draw (``seed``): accuracy with its Wilson interval, the
    correct records (``correct``: ``1``/``0`` per test record), the longest rendered prompt
    (``prompt_tokens``, tiny models only), the model's ``context_size`` and how many test prompts
    are longer than it (``over_context``). ``results``: each run's ``TaskAccuracy`` by
    ``(k, seed)``. ``notes``: what the numbers do not show by themselves (prompts cut off).
    """

    table: object
    results: dict = field(repr=False)
    notes: list
    confidence: float = 0.95

    def summary(self):
        """Per ``k``: mean accuracy over the draws with an interval over draws and test
        records (``ftlab._report.accuracy_interval``), the baselines, and whether every prompt
        fit the model's context."""
        import pandas as pd

        rows = []
        for k, runs in self.table.groupby("k", sort=True):
            bits = np.array([[c == "1" for c in s] for s in runs["correct"]], dtype=float)
            low, high = accuracy_interval(bits, self.confidence)
            first = self.results[(int(k), int(runs["seed"].iloc[0]))]
            over = runs["over_context"]
            rows.append({"k": int(k), "draws": len(runs), "accuracy": float(bits.mean()),
                         "low": low, "high": high, "sd_over_draws": float(runs["accuracy"].std())
                         if len(runs) > 1 else math.nan,
                         "majority": first.majority_baseline, "chance": first.chance_baseline,
                         "prompt_tokens": runs["prompt_tokens"].max(),
                         "fits_context": None if over.isna().all() else bool((over == 0).all())})
        return pd.DataFrame(rows).set_index("k")

    def __repr__(self):
        lines = [f"k={k}: accuracy {r.accuracy:.2f} ({self.confidence * 100:g}% CI {r.low:.2f}–"
                 f"{r.high:.2f}) over {r.draws} draw{'s' if r.draws != 1 else ''}; majority "
                 f"{r.majority:.2f}, chance {r.chance:.2f}" for k, r in self.summary().iterrows()]
        return "\n".join(["prompt baseline (no training)", *lines, *self.notes])


def _context_note(k, runs):
    """A sentence when some prompts of this ``k`` are longer than the model's context."""
    if runs["over_context"].isna().all() or not runs["over_context"].max():
        return None
    context = int(runs["context_size"].iloc[0])
    return (f"k={k}: up to {int(runs['over_context'].max())} of {int(runs['n'].iloc[0])} prompts "
            f"are longer than the model's context ({int(runs['prompt_tokens'].max())} tokens > "
            f"{context}): it reads only the last {context} tokens, so what comes before them "
            "(the instruction, the examples) never reaches it; this is not a fair few-shot test "
            "of this model")


def prompt_baseline(model_or_generate, train, test, k=(0, 4, 8), seeds=range(5), *,
                    instruction=AUTO, labels=None, confidence=0.95, max_tokens=32, workers=None,
                    progress=None, name=None):
    """Accuracy on ``test`` with ``few_shot_prompt(train, k, seed=s)`` before each test message
    and no training, for every ``k`` (one number or several) and draw ``s`` in ``seeds``.

    ``model_or_generate``: a tiny ftlab model, a hosted ``chat_model(client, name)`` or a function
    ``messages -> str`` (``task_accuracy`` asks it). The test records' own system messages are
    replaced by the prompt's. ``k=0`` draws nothing, so it is asked once and its result stands
    for every seed; likewise any prompt two seeds share. Returns a :class:`PromptBaseline`.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    ks = [k] if isinstance(k, (int, np.integer)) else list(k)
    seeds = [int(s) for s in seeds]
    if not ks or not seeds:
        raise ValueError("k and seeds must each hold at least one value, e.g. k=(0, 4), "
                         "seeds=range(5)")
    test, _ = labelled_examples(test, "prompt_baseline")  # a bad record fails before any request
    rows, results, asked = [], {}, {}
    bar = tqdm(total=len(ks) * len(seeds), desc="few-shot prompts",
               disable=not (progress if progress is not None else len(ks) * len(seeds) > 2))
    for k_ in ks:
        for seed in seeds:
            prefix = few_shot_prompt(train, k_, instruction=instruction, seed=seed)
            key = json.dumps(prefix, sort_keys=True)
            records = with_prompt(prefix, test)
            if key not in asked:  # the same prompt twice would cost twice and say nothing new
                asked[key] = task_accuracy(model_or_generate, records, labels=labels,
                                           confidence=confidence, workers=workers,
                                           progress=False, name=name, max_tokens=max_tokens)
            acc = results[(k_, seed)] = asked[key]
            lengths, context = _prompt_lengths(model_or_generate, records)
            rows.append({"k": k_, "seed": seed, "accuracy": acc.accuracy, "n": acc.n,
                         "low": acc.low, "high": acc.high,
                         "correct": "".join("1" if c else "0" for c in acc.table["correct"]),
                         "prompt_tokens": max(lengths) if lengths else math.nan,
                         "context_size": context if context else math.nan,
                         "over_context": sum(n > context for n in lengths) if lengths
                         else math.nan})
            bar.update(1)
    bar.close()
    table = pd.DataFrame(rows)
    notes = [n for n in (_context_note(k_, runs) for k_, runs in table.groupby("k", sort=False))
             if n]
    return PromptBaseline(table, results, notes, confidence)
