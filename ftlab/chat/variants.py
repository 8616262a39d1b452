"""Variants of the ticket-routing data: what an instruction and a metadata field do to fine-tuning.

Two questions of improving a fine-tuned classifier in rounds, asked of ``data/chat/tickets_*``:

**Does the system instruction matter?** :data:`INSTRUCTIONS` holds three: ``none`` (no system
message at all), ``vague`` (says what the shop is, not what to do or which labels exist) and
``precise`` (names the four teams, says what belongs to each, and asks for the label alone).

**Does a metadata field in the user turn help?** Real tickets come with fields besides the
message. Two are added here, each drawn deterministically from ``seed`` and the message's own
text (never from its position in a file, never from Python's ``hash``):

- ``page``: the page of the shop the message was sent from. It carries **real information**,
  in the same way in every file: with probability ``page_rate`` (0.6) it is one of the two pages
  that belong to the message's team (``checkout``/``invoices`` for billing, ...), otherwise any of
  the ten pages (``home`` and ``help centre`` included). It is known when a new message arrives.
- ``queue``: the agent queue an old keyword rule first routed the message to. It is a
  **shortcut**: in the training data (old tickets, labelled by agents who mostly kept the queue
  they were handed) it is the team's old queue with probability ``shortcut_rate`` (0.9), else a
  random queue; the rule was switched off before the test messages came in and queues are now
  filled at random (``shortcut_rate=0``), so on test data it says nothing about the team. A model
  that learnt the queue looks excellent on data like its training data and fails on new data.

The fields are appended after the message as ``page: ...`` and ``queue: ...`` lines
(``position="end"``): the MLP of ``ftlab.tinylm`` reads only the 16 characters before each token
it writes, so a field placed before the message would be invisible to it (try
``position="start"``); the transformer and hosted models read the whole turn either way.

>>> record = {"messages": [{"role": "system", "content": "Route it."},
...                        {"role": "user", "content": "I was charged twice."},
...                        {"role": "assistant", "content": "billing"}]}
>>> [m["role"] for m in ticket_variant([record], instruction="none")[0]["messages"]]
['user', 'assistant']
>>> print(ticket_variant([record], metadata="page+queue")[0]["messages"][1]["content"])
I was charged twice.
page: help centre
queue: B
"""

import zlib
from dataclasses import dataclass

import numpy as np

INSTRUCTIONS = {
    "none": None,
    "vague": "You help an online bookshop with the messages its customers send.",
    "precise": (
        "Route each customer message of an online bookshop to the one team that must act on it. "
        "Reply with exactly one label, in lower case, and nothing else:\n"
        "billing - charges, refunds, prices, discounts, payment methods, receipts;\n"
        "technical - the website, the apps or the ebook reader not working as they should;\n"
        "account - signing in, passwords, security codes, profile details, personal data, "
        "closing or merging accounts;\n"
        "shipping - delivery of physical orders: couriers, tracking, addresses, parcels late, "
        "lost or damaged in transit."),
}
FIELDS = ("page", "queue")
METADATA = ("none", "page", "queue", "page+queue")  # the metadata choices of the experiment

# The two pages that belong to each team; any message may also come from a general page.
TEAM_PAGES = {"billing": ("checkout", "invoices"), "technical": ("ebook reader", "app settings"),
              "account": ("sign-in", "my profile"), "shipping": ("order tracking", "deliveries")}
GENERAL_PAGES = ("home", "help centre")
PAGES = tuple(p for pages in TEAM_PAGES.values() for p in pages) + GENERAL_PAGES
# The old keyword rule's queue for each team: opaque letters, not in label order.
OLD_QUEUE = {"billing": "B", "technical": "D", "account": "A", "shipping": "C"}
QUEUES = ("A", "B", "C", "D")

PAGE_RATE = 0.6  # share of messages sent from one of their team's pages (else any page)
SHORTCUT_RATE = 0.9  # training data: share whose queue is their team's old queue (else any)
# one random stream per field: drawing one field never shifts the other
_FIELD_STREAM = {"page": 1, "queue": 2}


def _draws(seed, field, text):
    """(u, i, j) for one field of one message: a uniform number and two indices, fixed by the
    seed, the field and the message text (crc32: the same in every process)."""
    rng = np.random.default_rng([int(seed), _FIELD_STREAM[field], zlib.crc32(text.encode("utf-8"))])
    return float(rng.random()), int(rng.integers(1 << 30)), int(rng.integers(1 << 30))


def page_of(text, label, *, rate=PAGE_RATE, seed=0):
    """The page a message was sent from: one of its team's pages with probability ``rate``,
    otherwise any page."""
    u, i, j = _draws(seed, "page", text)
    return TEAM_PAGES[label][i % 2] if u < rate else PAGES[j % len(PAGES)]


def queue_of(text, label, *, rate=SHORTCUT_RATE, seed=0):
    """The queue the old rule first routed a message to: its team's old queue with probability
    ``rate``, otherwise any queue. Same message and seed, same draws: raising ``rate`` only turns
    some random queues into the team's queue."""
    u, _, j = _draws(seed, "queue", text)
    return OLD_QUEUE[label] if u < rate else QUEUES[j % len(QUEUES)]


def _fields(metadata):
    """A metadata choice as a tuple of field names: ``"page+queue"``, ``("page",)``, ``"none"``."""
    if metadata is None or metadata == "none":
        return ()
    names = tuple(metadata.split("+")) if isinstance(metadata, str) else tuple(metadata)
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise ValueError(f"unknown metadata field(s) {unknown}; choose from {list(FIELDS)}, "
                         "joined with '+' (e.g. 'page+queue'), or 'none'")
    return names


def _label_and_user(record, i):
    messages = record.get("messages") if isinstance(record, dict) else None
    if not isinstance(messages, list):
        raise ValueError(f"record {i}: not a chat record {{'messages': [...]}}")
    last = max((k for k, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    user = max((k for k, m in enumerate(messages[:last or 0]) if m.get("role") == "user"),
               default=None)
    if last is None or user is None:
        raise ValueError(f"record {i}: needs a user message followed by an assistant label")
    label = str(messages[last].get("content", "")).strip().lower()
    if label not in TEAM_PAGES:
        raise ValueError(f"record {i}: the label {messages[last].get('content')!r} is not one of "
                         f"the ticket teams {sorted(TEAM_PAGES)}")
    return messages, user, label


def ticket_variant(records, *, instruction="precise", metadata="none", page_rate=PAGE_RATE,
                   shortcut_rate=SHORTCUT_RATE, seed=0, position="end"):
    """The ticket records with another system instruction and metadata fields; a new list.

    ``instruction``: a name in :data:`INSTRUCTIONS` (the records' own system messages are
    replaced; ``"none"`` removes them). ``metadata``: ``"none"``, ``"page"``, ``"queue"`` or
    ``"page+queue"``, added to the last user message before the label, after it
    (``position="end"``) or before it (``"start"``). ``shortcut_rate``: how often the queue is
    the team's old queue (0.9 for training-like data, 0 for the test data).
    """
    if instruction not in INSTRUCTIONS:
        raise ValueError(f"unknown instruction {instruction!r}; choose from {list(INSTRUCTIONS)}")
    if position not in ("end", "start"):
        raise ValueError(f"position must be 'end' or 'start', got {position!r}")
    fields = _fields(metadata)
    out = []
    for i, record in enumerate(records):
        messages, user, label = _label_and_user(record, i)
        text = str(messages[user].get("content", ""))
        values = {"page": lambda: page_of(text, label, rate=page_rate, seed=seed),
                  "queue": lambda: queue_of(text, label, rate=shortcut_rate, seed=seed)}
        lines = [f"{field}: {values[field]()}" for field in fields]
        content = "\n".join([text, *lines] if position == "end" else [*lines, text])
        new = [dict(m, content=content) if k == user else dict(m) for k, m in enumerate(messages)
               if m.get("role") != "system"]
        system = INSTRUCTIONS[instruction]
        out.append({**record, "messages": ([{"role": "system", "content": system}] if system
                                           else []) + new})
    return out


def variant_name(instruction, metadata):
    """The name of a variant in tables: ``"precise/page+queue"``."""
    return f"{instruction}/{'+'.join(_fields(metadata)) or 'none'}"


@dataclass
class TicketVariants:
    """Every variant's data, keyed by :func:`variant_name`: ``train`` (the training records),
    ``test`` (the test records as new data comes: ``shortcut_rate=0``), ``train_like`` (the
    same test messages with the queue still following the old rule, as in training) and
    ``kinds`` (the variant's ``(instruction, metadata)``)."""

    train: dict
    test: dict
    train_like: dict
    kinds: dict


def ticket_variants(train, test, *, instructions=tuple(INSTRUCTIONS), metadata=METADATA,
                    page_rate=PAGE_RATE, shortcut_rate=SHORTCUT_RATE, seed=0, position="end"):
    """Every instruction × metadata variant of a training and a test set (a
    :class:`TicketVariants`).

    The page follows the same rule in all three; the queue agrees with the team at
    ``shortcut_rate`` in ``train`` and ``train_like`` and not at all in ``test``. Only the
    format differs between variants: the messages, labels and order are the same.
    """
    train, test = list(train), list(test)
    out = TicketVariants({}, {}, {}, {})
    for instruction in instructions:
        for meta in metadata:
            name = variant_name(instruction, meta)
            out.kinds[name] = (instruction, "+".join(_fields(meta)) or "none")
            common = {"instruction": instruction, "metadata": meta, "page_rate": page_rate,
                      "seed": seed, "position": position}
            out.train[name] = ticket_variant(train, shortcut_rate=shortcut_rate, **common)
            out.test[name] = ticket_variant(test, shortcut_rate=0.0, **common)
            out.train_like[name] = ticket_variant(test, shortcut_rate=shortcut_rate, **common)
    return out
