"""Corrections become training examples, checked before they join the training set.

A reviewer reads a fine-tuned model's replies to new messages, flags the wrong ones and types the
right reply. Each correction (message, right reply) becomes one example in the training file's
chat format (the same system prompt), but only after four checks, because a careless correction
does more harm than no correction:

1. **Valid**: ``validate_chat`` finds no error in the new example (an empty reply, say).
2. **A label**: for a classifier (``labels=...``), the reply is one of the labels; ``" Billing."``
   is taken as ``billing``, ``"biling"`` is refused.
3. **No leakage**: the message is not, nor nearly, a validation or test message. Training on a
   test message makes the test score measure memory instead of new messages.
4. **Not a duplicate**: the message is not, nor nearly, a training message (the same reply only
   weights it twice; a different reply contradicts the data) or an earlier correction.

"Nearly" is ftlab's duplicate finder (``find_duplicates``: character 5-grams, MinHash) at
``threshold`` (0.5 by default, the threshold the tickets test set was checked against).

>>> system = {"role": "system", "content": "Route the message: billing or shipping."}
>>> train = [{"messages": [system, {"role": "user", "content": text},
...                        {"role": "assistant", "content": label}]}
...          for text, label in [("I was charged twice.", "billing"), ("Where is my parcel?", "shipping")]]
>>> result = examples_from_corrections(
...     [("My card was debited but the order failed.", "Billing."), ("where is my parcel", "billing")],
...     train, labels=["billing", "shipping"])
>>> len(result.accepted), result.accepted[0]["messages"][0] == system, result.accepted[0]["messages"][-1]
(1, True, {'role': 'assistant', 'content': 'billing'})
>>> print(result.refused[0].reason)  # doctest: +NORMALIZE_WHITESPACE
conflict: the same message as training record 1, whose reply is 'shipping'; fix that example
instead of adding one that contradicts it
"""

import html
from dataclasses import dataclass, field

from ftlab._report import plural
from ftlab.chat.duplicates import find_duplicates, minhash_signatures
from ftlab.chat.labels import normalize_label
from ftlab.chat.messages import content_text

THRESHOLD = 0.5


# ----------------------------------------------------------------------------- labels


def training_labels(train):
    """The distinct last assistant replies of ``train``, normalised and sorted: a classifier's labels."""
    return sorted({normalize_label(reply) for reply in map(_reply_of, train) if reply})


def _reply_of(record):
    messages = record.get("messages") if isinstance(record, dict) else None
    replies = [m for m in messages or [] if isinstance(m, dict) and m.get("role") == "assistant"]
    return content_text(replies[-1].get("content")) if replies else ""


def training_system_prompt(train):
    """The training set's most common system prompt (None when it has none): corrections use it,
    so they look like every other example and like the prompts the model is asked at inference."""
    counts = {}
    for record in train:
        messages = record.get("messages") if isinstance(record, dict) else None
        first = messages[0] if messages else None
        if isinstance(first, dict) and first.get("role") == "system":
            text = content_text(first.get("content"))
            counts[text] = counts.get(text, 0) + 1
    return max(counts, key=counts.get) if counts else None  # ties: the first seen


# ----------------------------------------------------------------------------- the result


@dataclass
class Refusal:
    """A correction that did not join the training set: which one (``index``), and why."""

    index: int
    message: object
    reply: object
    code: str  # invalid, not_a_label, leakage, duplicate_of_training, conflicts_with_training, duplicate_in_batch
    reason: str

    def __str__(self):
        return f"correction {self.index} ({_short(self.message)!r} -> {_short(self.reply)!r}): {self.reason}"


@dataclass
class Corrections:
    """What ``examples_from_corrections`` decided: ``accepted`` examples (chat records ready to add
    to the training set, in the corrections' order), ``accepted_index`` (which correction each one
    came from) and ``refused`` (a :class:`Refusal` each, with its reason)."""

    accepted: list
    accepted_index: list
    refused: list
    system: str | None = None
    threshold: float = THRESHOLD
    labels: list | None = field(default=None)

    @property
    def n(self):
        return len(self.accepted) + len(self.refused)

    def to_frame(self):
        """One row per correction: index, message, reply, accepted, code, reason."""
        import pandas as pd

        rows = [{"index": i, "message": _user_of(r), "reply": _reply_of(r), "accepted": True,
                 "code": "", "reason": ""} for i, r in zip(self.accepted_index, self.accepted)]
        rows += [{"index": r.index, "message": r.message, "reply": r.reply, "accepted": False,
                  "code": r.code, "reason": r.reason} for r in self.refused]
        columns = ["index", "message", "reply", "accepted", "code", "reason"]
        return pd.DataFrame(rows, columns=columns).sort_values("index").reset_index(drop=True)

    def __repr__(self):
        lines = [f"<Corrections: {len(self.accepted)} accepted, {len(self.refused)} refused>"]
        return "\n  ".join(lines + [str(r) for r in self.refused])

    def _repr_html_(self):
        rows = "".join(f"<tr><td>{r.index}</td><td>{html.escape(str(r.message))}</td>"
                       f"<td>{html.escape(str(r.reply))}</td><td><code>{r.code}</code></td>"
                       f"<td>{html.escape(r.reason)}</td></tr>" for r in self.refused)
        table = ("<table><tr><th>#</th><th>message</th><th>reply</th><th>code</th><th>why refused</th>"
                 f"</tr>{rows}</table>") if rows else ""
        return (f"<p>{plural(len(self.accepted), 'correction')} accepted, "
                f"{len(self.refused)} refused</p>{table}")


def _short(text, width=60):
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + "…"


def _user_of(record):
    users = [m for m in record["messages"] if m.get("role") == "user"]
    return content_text(users[-1].get("content")) if users else ""


# ----------------------------------------------------------------------------- the checks


def _pairs(corrections):
    """(message, reply) of each correction: a dict {"message", "reply"} or a pair."""
    out = []
    for i, c in enumerate(corrections):
        if isinstance(c, dict):
            if "message" not in c or "reply" not in c:
                raise ValueError(f"correction {i} has keys {sorted(c)}; each correction needs "
                                 "'message' (what the customer wrote) and 'reply' (the right reply)")
            out.append((c["message"], c["reply"]))
        elif isinstance(c, (tuple, list)) and len(c) == 2:
            out.append(tuple(c))
        else:
            raise ValueError(f"correction {i} is {c!r}; give each correction as "
                             "{'message': ..., 'reply': ...} or a (message, reply) pair")
    return out


def _example(system, message, reply):
    messages = [{"role": "system", "content": system}] if system is not None else []
    clean = [text.strip() if isinstance(text, str) else text for text in (message, reply)]
    return {"messages": messages + [{"role": "user", "content": clean[0]},
                                    {"role": "assistant", "content": clean[1]}]}


def _invalid(examples):
    """{position: reason} for the examples ``validate_chat`` finds an error in."""
    from ftlab.chat.validate import validate_chat

    report = validate_chat(examples, min_examples=1)  # one correction alone is a fine batch
    reasons = {}
    for p in report.errors:
        if p.line == 0:
            continue  # a file-level verdict, not about one correction
        roles = [m.get("role") for m in examples[p.line - 1]["messages"]]
        part = ("the reply" if p.field.startswith(f"messages[{roles.index('assistant')}]")
                else "the message" if p.field.startswith(f"messages[{roles.index('user')}]")
                else "the example")
        reasons.setdefault(p.line - 1, []).append(f"{part}: {p.message} ({p.code}) {p.fix}")
    return {i: "; ".join(found) for i, found in reasons.items()}


def _where(records, i, name):
    """How to point at record ``i`` of a set: its line and file when it was read from one."""
    lines, source = getattr(records, "lines", None), getattr(records, "source", "<")
    if lines and not str(source).startswith("<"):
        from pathlib import PurePath

        return f"line {lines[i]} of {PurePath(str(source)).name}"
    return f"{name} record {i}"


class _Neighbours:
    """Which earlier messages each correction is the same as, or nearly (the duplicate finder's
    groups, each member kept only when its own similarity to the correction reaches the threshold:
    a group can chain A~B~C without A being near C)."""

    def __init__(self, sets, candidates, threshold):
        self.sets = sets  # [(name, records)] for train, valid and test
        self.pool = [(name, k) for name, records in sets for k in range(len(records))]
        self.pool += [("correction", k) for k in range(len(candidates))]
        records = [r for _, rs in sets for r in rs] + candidates
        self.found = find_duplicates(records, threshold=threshold, roles=("user",))
        self.threshold = threshold
        self.first_candidate = len(self.pool) - len(candidates)

    def of(self, k):
        """(name, index in its set, similarity, exact) of every message near correction ``k``,
        most similar first."""
        me = self.first_candidate + k
        group = self.found.group_of[me]
        if group < 0:
            return []
        others = [i for i in self.found.groups[group] if i != me]
        texts = self.found.texts
        sigs = minhash_signatures([texts[me]] + [texts[i] for i in others])
        out = []
        for i, sig in zip(others, sigs[1:]):
            exact = texts[i] == texts[me]
            similarity = 1.0 if exact else float((sig == sigs[0]).mean())
            if exact or similarity >= self.threshold:
                out.append((*self.pool[i], similarity, exact))
        return sorted(out, key=lambda hit: -hit[2])

    def records(self, name):
        return dict(self.sets)[name]


def _likeness(similarity, exact):
    return "the same message as" if exact else f"nearly the same message (similarity {similarity:.2f}) as"


def _judge(k, neighbours, accepted_positions, label):
    """(code, reason) refusing candidate ``k`` for leakage or duplication, or None to accept it."""
    hits = neighbours.of(k)
    for name, i, similarity, exact in hits:  # leakage first: it is the worst of the three
        if name in ("validation", "test"):
            where = _where(neighbours.records(name), i, name)
            return "leakage", (f"leakage: {_likeness(similarity, exact)} {where}; training on a "
                               f"message the model is {'scored' if name == 'test' else 'validated'} "
                               f"on makes that score measure memory, not new messages")
    for name, i, similarity, exact in hits:
        if name == "train":
            records = neighbours.records("train")
            theirs = _reply_of(records[i])
            where = _where(records, i, "training")
            if normalize_label(theirs) == normalize_label(label):
                return "duplicate_of_training", (f"duplicate: {_likeness(similarity, exact)} {where},"
                                                 f" with the same reply {theirs!r}; adding it only "
                                                 "weights that example twice")
            return "conflicts_with_training", (f"conflict: {_likeness(similarity, exact)} {where}, "
                                               f"whose reply is {theirs!r}; fix that example instead "
                                               "of adding one that contradicts it")
    for name, i, similarity, exact in hits:
        if name == "correction" and i in accepted_positions:
            index, message = accepted_positions[i]
            return "duplicate_in_batch", (f"duplicate: {_likeness(similarity, exact)} correction "
                                          f"{index} ({_short(message, 50)!r}), which is added already")
    return None


def examples_from_corrections(corrections, train, *, valid=None, test=None, labels=None,
                              threshold=THRESHOLD, system=None):
    """Turn corrections into training examples and refuse the ones that would do harm.

    ``corrections``: ``{"message": ..., "reply": ...}`` dicts or ``(message, reply)`` pairs (what
    the customer wrote, the right reply). ``train``: the training records (the examples get its
    most common system prompt, or ``system``); ``valid`` and ``test``: the records a correction
    must not leak into. ``labels``: the allowed replies of a classifier (each reply is matched
    ignoring case, spaces and trailing punctuation, and stored as the label); None accepts any
    non-empty reply. ``threshold``: the similarity (estimated Jaccard of character 5-grams) from
    which two messages count as nearly the same.

    Returns :class:`Corrections`: ``accepted`` examples to append to the training set and
    ``refused`` ones, each with its reason.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    train = train if isinstance(train, list) else list(train)
    pairs = _pairs(corrections)
    system = system if system is not None else training_system_prompt(train)
    allowed = None if labels is None else {normalize_label(label): label for label in labels}
    examples = [_example(system, message, reply) for message, reply in pairs]
    refused, candidates = {}, []  # candidates: (correction index, example) that passed 1 and 2
    invalid = _invalid(examples) if examples else {}
    for i, ((message, reply), example) in enumerate(zip(pairs, examples)):
        if i in invalid:
            refused[i] = Refusal(i, message, reply, "invalid", invalid[i])
        elif allowed is not None and normalize_label(reply) not in allowed:
            refused[i] = Refusal(i, message, reply, "not_a_label",
                                 f"{reply!r} is not a label; reply with one of "
                                 f"{', '.join(sorted(allowed))}")
        else:
            if allowed is not None:
                example["messages"][-1]["content"] = allowed[normalize_label(reply)]
            candidates.append((i, example))
    sets = [(name, records if isinstance(records, list) else list(records))
            for name, records in [("train", train), ("validation", valid or []), ("test", test or [])]]
    neighbours = _Neighbours(sets, [example for _, example in candidates], threshold)
    accepted, accepted_index, positions = [], [], {}
    for k, (i, example) in enumerate(candidates):
        verdict = _judge(k, neighbours, positions, example["messages"][-1]["content"])
        if verdict:
            refused[i] = Refusal(i, *pairs[i], *verdict)
        else:
            positions[k] = (i, pairs[i][0])
            accepted.append(example)
            accepted_index.append(i)
    return Corrections(accepted, accepted_index, [refused[i] for i in sorted(refused)], system,
                       threshold, None if labels is None else list(labels))
