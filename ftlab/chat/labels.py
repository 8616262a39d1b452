"""Scoring a classifier's labels: the one rule every accuracy in ftlab follows.

For a classification task such as routing a bookshop's tickets (reply ``billing``, ``technical``,
``account`` or ``shipping``) a reply is right when it *is* the reference label:

- **Normalisation** (:func:`normalize_label`): both sides are stripped of surrounding spaces,
  lower-cased, and stripped of trailing punctuation, so ``" Billing."`` counts as ``billing``.
  Nothing else is forgiven: ``"billing team"`` or ``"It is billing"`` is not a label and is
  counted as ``other``; a classifier should answer with the label alone.
- **Uncertainty**: the share right on 80 test messages only estimates the accuracy; the Wilson
  interval (:func:`ftlab._report.wilson_interval`) says which true accuracies fit what was seen.
- **Baselines**: a model must beat always answering the most common label (the *majority*
  baseline) and guessing uniformly (the *chance* baseline, 1 / number of labels).

:func:`score_labels` does all of this for replies already in hand, so it serves every source of
replies: ``ftlab.task_accuracy`` (which asks a model first), the augmentation experiment and
``ftlab.tinylm.recipes``. :func:`labelled_examples` reads chat records into (prompt, message,
reference) with an error that names the record when one is not a labelled chat.

>>> acc = score_labels(["billing", "shipping"], ["Billing.", "billing"],
...                    messages=["I was charged twice.", "Where is my parcel?"])
>>> acc
accuracy 0.50 (95% CI 0.09–0.91) on 2 examples; majority 0.50, chance 0.50
>>> acc.mistakes.to_dict("records")
[{'message': 'Where is my parcel?', 'reference': 'shipping', 'reply': 'billing'}]
"""

import os
import unicodedata
from collections import Counter
from dataclasses import dataclass

from ftlab._report import wilson_interval
from ftlab.chat.messages import content_text

OTHER = "other"  # the predicted "label" of a reply that is none of the labels


def normalize_label(text):
    """A reply or reference as a label: spaces stripped, lower case, no trailing punctuation.

    >>> normalize_label("  Shipping!\\n"), normalize_label("billing team"), normalize_label("...")
    ('shipping', 'billing team', '')
    """
    text = str(text).strip().lower()
    end = len(text)
    while end and (unicodedata.category(text[end - 1]).startswith("P") or text[end - 1].isspace()):
        end -= 1
    return text[:end]


# ----------------------------------------------------------------------------- reading records


def _chat_records(records, caller):
    """(records as a list, a function naming record i) after reading a path strictly."""
    if isinstance(records, (str, bytes, os.PathLike)):
        from ftlab.chat.files import read_chat_jsonl

        records = read_chat_jsonl(records, strict=True)  # a skipped line would change n
    if isinstance(records, dict):
        raise ValueError(f"{caller} needs a list of chat records; got one record (a dict): "
                         "wrap it in a list, [record]")
    lines, source = getattr(records, "lines", None), getattr(records, "source", None)
    from_file = bool(lines) and source is not None and not str(source).startswith("<")
    records = list(records)
    if not records:
        raise ValueError(f"no records: {caller} needs at least one chat record; pass a non-empty "
                         "list of {'messages': [...]} records or a JSONL path such as "
                         "'data/chat/tickets_test.jsonl'")

    def where(i):
        return (f"record {i} (line {lines[i]} of {os.path.basename(str(source))})" if from_file
                else f"record {i}")
    return records, where


def _one_example(record, here):
    """(prompt messages, user message text, reference text) of one record, checked."""
    if not isinstance(record, dict):
        raise ValueError(f"{here}: a {type(record).__name__}, not a chat record; each record "
                         "must be an object {'messages': [...]}")
    if "messages" not in record:
        hint = (" (this is the legacy prompt/completion format: convert it with ftlab.to_chat)"
                if "prompt" in record else "")
        raise ValueError(f"{here}: field 'messages' is missing{hint}; each record must be "
                         "{'messages': [..., {'role': 'assistant', 'content': <label>}]}")
    messages = record["messages"]
    if not isinstance(messages, list) or not messages:
        raise ValueError(f"{here}: field 'messages' must be a non-empty list of "
                         "{'role': ..., 'content': ...} messages")
    for k, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise ValueError(f"{here}: messages[{k}] has no 'role'; every message must be "
                             "{'role': ..., 'content': ...}")
    last = max((k for k, m in enumerate(messages) if m["role"] == "assistant"), default=None)
    if last is None:
        raise ValueError(f"{here}: field 'messages' has no assistant reply; end the record with "
                         "the reference label, {'role': 'assistant', 'content': 'billing'}")
    reference = content_text(messages[last].get("content"))
    if not normalize_label(reference):
        raise ValueError(f"{here}: messages[{last}].content (the assistant reply) must be "
                         f"non-empty text, the reference, got {messages[last].get('content')!r}")
    user = next((content_text(m.get("content")) for m in reversed(messages[:last])
                 if m["role"] == "user"), "")
    return messages[:last], user, reference


def labelled_examples(records, caller="task_accuracy"):
    """The records as a list, and (prompt messages, user message text, reference reply text) of
    each: the prompt is everything before the record's last assistant message, the reference.

    ``records``: chat records or a JSONL path (read strictly: a bad line is an error, not a
    smaller test set). ``caller`` names the function in the error messages.
    """
    records, where = _chat_records(records, caller)
    return records, [_one_example(record, where(i)) for i, record in enumerate(records)]


def check_labels(references, labels=None):
    """The label set, in order: ``labels`` normalised, or every reference seen, sorted.

    Refuses a reference that is not among given ``labels`` (it could never be scored right).
    """
    normalised = [normalize_label(reference) for reference in references]
    if labels is None:
        return sorted(set(normalised))
    if isinstance(labels, str) or not hasattr(labels, "__iter__"):
        raise ValueError(f"labels must be a list of label strings, e.g. ['billing', 'shipping'],"
                         f" got {labels!r}")
    labels = list(dict.fromkeys(normalize_label(label) for label in labels))
    if not labels or "" in labels:
        raise ValueError(f"labels must be non-empty label strings, got {labels!r}")
    for i, reference in enumerate(normalised):
        if reference not in labels:
            raise ValueError(f"record {i}: the reference reply {references[i]!r} is not one of "
                             f"labels={labels}; add it to labels= or fix the record")
    return labels


# ----------------------------------------------------------------------------- the result


@dataclass(eq=False, repr=False)
class TaskAccuracy:
    """Task accuracy of one model on one set of labelled records.

    ``accuracy`` = ``correct`` / ``n``, with its Wilson interval (``low``, ``high``) at
    ``confidence``; ``majority_baseline`` (the share of ``majority_label`` among the references)
    and ``chance_baseline`` (1 / number of labels); ``confusion`` (rows: reference label,
    columns: predicted label and ``other`` for replies that are no label); ``recall`` per label
    (NaN for a label with no reference); ``mistakes`` (message, reference, reply; indexed by
    record number) and ``table`` (every record, with its ``predicted`` label and ``correct``).
    """

    accuracy: float
    n: int
    correct: int
    low: float
    high: float
    confidence: float
    majority_baseline: float
    majority_label: str
    chance_baseline: float
    labels: tuple
    confusion: object  # pandas DataFrame
    recall: object  # pandas Series
    mistakes: object  # pandas DataFrame
    table: object  # pandas DataFrame
    name: str = "model"

    def __repr__(self):
        examples = "example" if self.n == 1 else "examples"
        return (f"accuracy {self.accuracy:.2f} ({self.confidence * 100:g}% CI {self.low:.2f}–"
                f"{self.high:.2f}) on {self.n} {examples}; majority {self.majority_baseline:.2f}, "
                f"chance {self.chance_baseline:.2f}")

    def _repr_html_(self):
        import html

        return (f"<p><b>{html.escape(self.name)}</b>: {html.escape(repr(self))}</p>"
                + self.confusion.to_html())


def score_labels(references, replies, *, messages=None, labels=None, confidence=0.95,
                 name="model"):
    """Score reply texts against reference labels; returns a :class:`TaskAccuracy`.

    ``references`` and ``replies``: texts, one pair per test record, in order. ``messages``: the
    user messages, shown in the per-record tables (default: empty). ``labels``: the label set
    (default: every reference seen, sorted); a reply that is none of them counts as ``other``.
    """
    import pandas as pd

    references, replies = list(references), list(replies)
    messages = [""] * len(references) if messages is None else list(messages)
    if not references:
        raise ValueError("no references: score_labels needs at least one (reference, reply) pair")
    if not len(replies) == len(messages) == len(references):
        raise ValueError(f"references, replies and messages must be as long as each other, got "
                         f"{len(references)}, {len(replies)} and {len(messages)}")
    for i, reply in enumerate(replies):
        if not isinstance(reply, str):
            raise TypeError(f"reply {i} is a {type(reply).__name__}; replies must be texts")
    labels = check_labels(references, labels)
    other = OTHER if OTHER not in labels else "(no label)"
    rows = []
    for message, reference, reply in zip(messages, references, replies):
        predicted = normalize_label(reply)
        rows.append({"message": message, "reference": normalize_label(reference), "reply": reply,
                     "predicted": predicted if predicted in labels else other})
    table = pd.DataFrame(rows, columns=["message", "reference", "reply", "predicted"])
    table["correct"] = table["reference"] == table["predicted"]
    return _result(table, labels, other, confidence, name)


def _result(table, labels, other, confidence, name):
    import pandas as pd

    n, correct = len(table), int(table["correct"].sum())
    confusion = pd.DataFrame(0, index=pd.Index(labels, name="reference"),
                             columns=pd.Index([*labels, other], name="predicted"))
    for reference, predicted in zip(table["reference"], table["predicted"]):
        confusion.loc[reference, predicted] += 1
    support = confusion.sum(axis=1)
    hits = pd.Series([confusion.loc[label, label] for label in labels], index=confusion.index)
    recall = (hits / support.where(support > 0)).astype(float).rename("recall")
    counts = Counter(table["reference"])
    majority_label = max(labels, key=lambda label: counts[label])  # ties: the first in labels
    low, high = wilson_interval(correct, n, confidence)
    return TaskAccuracy(
        accuracy=correct / n, n=n, correct=correct, low=low, high=high, confidence=confidence,
        majority_baseline=counts[majority_label] / n, majority_label=majority_label,
        chance_baseline=1 / len(labels), labels=tuple(labels), confusion=confusion, recall=recall,
        mistakes=table.loc[~table["correct"], ["message", "reference", "reply"]], table=table,
        name=name)
