"""Data augmentation for chat fine-tuning data: more training examples from the ones you have.

Three techniques, as the course names them — **synonym replacement** (and the rest of EDA: random
insertion, swap, deletion; Wei & Zou 2019), **noise** (typos, character slips, casing,
punctuation, spacing) and **paraphrasing** (offline rules, or any chat model). Operations are
named by short words:

    synonym insert swap delete          EDA, ``ftlab.augment.ops``
    typo char case punct space          noise, ``ftlab.augment.noise``
    paraphrase                          ``ftlab.augment.paraphrase`` / ``ftlab.augment.llm``

Only user turns change by default: the assistant turns are what the model learns to write, so they
must stay exactly as they are. Every result is seeded: the same seed gives the same variants in any
process (numpy's generator seeded from integers; no iteration over sets, no ``hash()``).

>>> augment_text("Why is the sky blue?", ["swap"], rate=0.2, seed=3).text
'Sky is the why blue?'
"""

import difflib
import html
import re
from dataclasses import dataclass, field

import numpy as np

from ftlab.augment.lexicon import get_lexicon
from ftlab.augment.noise import (case_noise, char_noise, keyboard_typo, punctuation_noise,
                                 whitespace_noise)
from ftlab.augment.ops import random_deletion, random_insertion, random_swap, synonym_replacement
from ftlab.augment.paraphrase import paraphrase_rules

OPS = {
    "synonym": synonym_replacement,
    "insert": random_insertion,
    "swap": random_swap,
    "delete": random_deletion,
    "typo": keyboard_typo,
    "char": char_noise,
    "case": case_noise,
    "punct": punctuation_noise,
    "space": whitespace_noise,
    "paraphrase": paraphrase_rules,
}
# Operations that need synonyms (the others never read the lexicon).
_USES_LEXICON = ("synonym", "insert")


def _check_rate(rate):
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be between 0 and 1 (EDA's α: the share of words changed), got {rate}")


def _check_ops(ops):
    if isinstance(ops, str):
        ops = [o.strip() for o in ops.split(",") if o.strip()]
    ops = list(ops)
    unknown = [o for o in ops if o not in OPS]
    if not ops or unknown:
        raise ValueError(f"unknown augmentation operation(s) {unknown or ops!r}; "
                         f"choose from {', '.join(OPS)}")
    return ops


def _rng(seed, *path):
    """A generator that depends only on integers: the same in every process and platform."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *map(int, path)]))


class ExampleStreams:
    """One random stream per (example, attempt) of a data set, all from one seed, cheap to switch.

    Seeding a fresh generator for each of 10,000 examples costs more than augmenting them. Philox
    is a counter-based generator instead: the stream of (example ``i``, attempt ``a``) starts at
    counter (0, 0, a, i) under a key drawn from the seed, so its draws depend only on the seed, ``i``
    and ``a`` -- the same in any process, whatever the other examples hold -- and switching streams
    only sets a counter. ``streams(i, a)`` returns the one shared generator, pointed at that
    stream: use it before asking for the next.

    >>> streams = ExampleStreams(seed=0)
    >>> first = streams(3, 0).integers(1000, size=3).tolist()
    >>> _ = streams(4, 0).random()
    >>> streams(3, 0).integers(1000, size=3).tolist() == first
    True
    """

    def __init__(self, seed):
        self._key = np.random.SeedSequence(int(seed)).generate_state(2, np.uint64)
        self._bits = np.random.Philox(key=self._key)
        self._rng = np.random.Generator(self._bits)
        self._empty = np.zeros(4, np.uint64)

    def __call__(self, example, attempt=0):
        counter = np.array([0, 0, attempt, example], dtype=np.uint64)
        self._bits.state = {"bit_generator": "Philox", "state": {"counter": counter, "key": self._key},
                            "buffer": self._empty, "buffer_pos": 4, "has_uint32": 0, "uinteger": 0}
        return self._rng


@dataclass
class TextVariant:
    """One augmented text: ``text``, the operations applied and the :class:`Edit` list."""

    text: str
    ops: list
    edits: list = field(default_factory=list)

    def __str__(self):
        return self.text


def apply_ops(text, ops, rate, rng, lexicon=None, paraphraser=None):
    """Apply ``ops`` in order to one text with one generator; returns a :class:`TextVariant`."""
    edits = []
    for name in ops:
        op = paraphraser if (name == "paraphrase" and paraphraser is not None) else OPS[name]
        text, new = op(text, rate, rng, lexicon)
        edits.extend(new)
    return TextVariant(text, list(ops), edits)


def augment_text(text, ops, *, rate=0.1, seed=0, n=1, lexicon="auto", paraphraser=None):
    """Augment one text: one :class:`TextVariant` (``n=1``) or a list of ``n`` of them.

    ``rate`` is EDA's α (see ``ftlab.augment.ops``). ``lexicon``: ``"auto"``, ``"wordnet"``,
    ``"builtin"`` or a Lexicon.
    """
    ops = _check_ops(ops)
    _check_rate(rate)
    lex = get_lexicon(lexicon) if any(o in _USES_LEXICON for o in ops) else None
    out = [apply_ops(text, ops, rate, _rng(seed, k), lex, paraphraser) for k in range(n)]
    return out[0] if n == 1 else out


# ----------------------------------------------------------------------------- showing changes


_DIFF_TOKEN = r"\w+(?:['’-]\w+)*|[^\w\s]+|\s+"  # words, punctuation runs and spaces apart


def diff_words(before, after):
    """The words of ``after`` against ``before``: ``[(tag, text)]`` with tag ``"same"``,
    ``"new"`` (inserted or changed) or ``"gone"`` (deleted), in reading order.

    >>> diff_words("the sky is blue", "the sky is azure")
    [('same', 'the sky is '), ('gone', 'blue'), ('new', 'azure')]
    """
    a, b = re.findall(_DIFF_TOKEN, before), re.findall(_DIFF_TOKEN, after)
    out = []

    def add(tag, text):
        if text:
            if out and out[-1][0] == tag:
                out[-1] = (tag, out[-1][1] + text)
            else:
                out.append((tag, text))

    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            add("same", "".join(b[j1:j2]))
        else:
            add("gone", "".join(a[i1:i2]))
            add("new", "".join(b[j1:j2]))
    return out


def changed_word_count(before, after):
    """How many words differ: each replaced, inserted or deleted word counts once.

    >>> changed_word_count("why is the sky blue", "why the sky is azure")
    3
    """
    a, b = before.split(), after.split()
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in ops if op != "equal")


def highlight_html(before, after):
    """HTML of ``after`` with new words marked and deleted words struck through."""
    style = {"same": "{}", "new": "<mark style='background:#ffe08a'>{}</mark>",
             "gone": "<del style='color:#b3261e'>{}</del>"}
    out, previous = [], None
    for tag, text in diff_words(before, after):
        # spaces stay outside the marks, so "a <del>b</del> c" reads as three words
        lead, core, trail = re.match(r"(\s*)(.*?)(\s*)$", text, re.S).groups()
        if previous == "gone" and tag == "new" and not lead and not out[-1][-1:].isspace():
            out.append(" ")  # "<del>old</del> <mark>new</mark>", not glued together
        previous = tag
        out.append(html.escape(lead) + (style[tag].format(html.escape(core)) if core else "")
                   + html.escape(trail))
    return "".join(out)


# ----------------------------------------------------------------------------- chat records


def _augmentable(message, roles):
    """Whether a message's text may change: its role is asked for and it carries no tool call."""
    return (isinstance(message, dict) and message.get("role") in roles
            and not message.get("tool_calls") and not message.get("function_call"))


def _texts(record, roles):
    """[(message index, part index or None, text)] of the texts that may change."""
    out = []
    for i, m in enumerate(record.get("messages") or []):
        if not _augmentable(m, roles):
            continue
        content = m.get("content")
        if isinstance(content, str) and content.strip():
            out.append((i, None, content))
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    out.append((i, j, part["text"]))
    return out


def user_key(record):
    """What identifies an example for leakage: its user turns, lower-cased, spacing collapsed."""
    texts = [t for _, _, t in _texts(record, ("user",))]
    return " | ".join(" ".join(t.lower().split()) for t in texts)
