"""Paraphrasing: rewrite a question in other words, by rules offline or with any chat model.

Offline, :func:`paraphrase_rules` knows the common shapes of a question ("What is X?", "Why do
X?", "Can you X?", "How many X?") and rewrites each shape a few ways; a seeded draw picks one.
With a model, :class:`ChatParaphraser` asks any OpenAI-compatible chat endpoint (OpenAI, Azure
OpenAI, a local server through ``base_url``) for paraphrases, caches every answer on disk so a
re-run costs nothing, and has a ``dry_run`` that shows the prompts and their token counts first.

>>> paraphrase_candidates("What is the capital of Canada?")[:2]
['Tell me the capital of Canada.', 'Do you know what the capital of Canada is?']
>>> paraphrase_candidates("Why do we yawn?")[0]
'What makes us yawn?'
"""

import re

from ftlab.augment.ops import Edit

_OBJECT_PRONOUN = {"i": "me", "we": "us", "they": "them", "he": "him", "she": "her"}
_PREDICATE_END = ("ed", "en", "y", "ous", "ful", "ive", "al", "ic", "ing", "ble")


def _lower_first(text):
    # lowercase the first word unless it looks like a name or an acronym ("NASA", "Paris")
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower() and first.lower() in _COMMON_STARTS:
        return text[:1].lower() + text[1:]
    return text


_COMMON_STARTS = frozenset("the a an this that these those my your our their his her its some any "
                           "i we you they he she it there".split())


def _split_predicate(x):
    """'the sky blue' → ('the sky', 'blue'); None when the last word does not look like one."""
    words = x.split(" ")
    last = words[-1]
    if len(words) < 2 or not last.islower() or not last.isalpha():
        return None
    if last.endswith(_PREDICATE_END) or last in ("blue", "red", "green", "old", "big", "cold", "hot",
                                                 "dark", "wet", "dry", "round", "flat", "high", "low"):
        return " ".join(words[:-1]), last
    return None


_DO_MODAL = frozenset("do does did can could should would will".split())
_CLAUSE_WORDS = frozenset("when that who which where while because if".split())
_TRAILING = frozenset("of for from with about to in on at by made used".split())


def _embeddable(x):
    """Can 'X' go inside 'Do you know what X is?' (no clause inside, no dangling preposition)?"""
    words = x.lower().split(" ")
    return not (_CLAUSE_WORDS.intersection(words) or words[-1] in _TRAILING)


def _direct(q):
    """Rewrites that keep the question as it is (right for any question)."""
    yield f"Quick question: {q}"
    yield f"Can you tell me: {_lower_first_word(q)}"


def _lower_first_word(q):
    first = q.split(" ", 1)[0]
    return q[:1].lower() + q[1:] if first[1:].islower() or len(first) == 1 else q


def _rules(q):
    """Yield the rewrites of one question (stripped, ending in '?')."""
    m = re.match(r"(?i)^what(?:'s| is) the difference between (.+) and (.+)\?$", q)
    if m:
        a, b = m.groups()
        yield f"How is {a} different from {b}?"
        yield f"How does {a} differ from {b}?"
        yield f"Compare {a} and {b}."
        return
    m = re.match(r"(?i)^(what|who)(?:'s| is) (.+)\?$", q)
    if m and _embeddable(m.group(2)):
        wh, x = m.group(1).lower(), m.group(2)
        if wh == "what" and x.startswith("the "):
            yield f"Tell me {x}."
        yield f"Do you know {wh} {x} is?"
        yield f"I'd like to know {wh} {x} is."
        yield f"Can you tell me {wh} {x} is?"
        return
    if m:
        yield from _direct(q)
        return
    m = re.match(r"(?i)^(what|who) (are|was|were) (.+)\?$", q)
    if m and _embeddable(m.group(3)):
        wh, aux, x = m.group(1).lower(), m.group(2).lower(), m.group(3)
        yield f"Do you know {wh} {x} {aux}?"
        yield f"Tell me {wh} {x} {aux}."
        yield f"Can you tell me {wh} {x} {aux}?"
        return
    m = re.match(r"(?i)^(why|when|where) (is|are|was|were) (.+)\?$", q)
    if m:
        wh, aux, x = m.group(1).lower(), m.group(2).lower(), m.group(3)
        split = _split_predicate(x) if " " in x else (x, "")
        if split:
            subject, predicate = split
            statement = f"{_lower_first(subject)} {aux} {predicate}".rstrip()
            yield f"Tell me {wh} {statement}."
            yield f"Do you know {wh} {statement}?"
            if wh == "why" and predicate:
                yield f"What makes {_lower_first(subject)} {predicate}?"
        yield f"{wh.capitalize()} exactly {aux} {x}?"
        return
    m = re.match(r"(?i)^why (do|does|did) (\S+)(.*)\?$", q)
    if m:
        aux, subject, rest = m.group(1).lower(), m.group(2), m.group(3)
        obj = _OBJECT_PRONOUN.get(subject.lower(), _lower_first(subject))
        if aux != "did":
            yield f"What makes {obj}{rest}?"
        yield from _direct(q)
        if aux == "do":
            yield f"How come {_lower_first(subject)}{rest}?"
            yield f"Tell me why {_lower_first(subject)}{rest}."
        return
    m = re.match(r"(?i)^how do (?:i|you) (.+)\?$", q)
    if m:
        x = m.group(1)
        yield f"How can I {x}?"
        yield f"What is the best way to {x}?"
        yield f"Explain how to {x}."
        yield f"What's the right way to {x}?"
        return
    m = re.match(r"(?i)^how do (.+) work\?$", q)
    if m:
        x = _lower_first(m.group(1))
        yield f"Explain how {x} work."
        yield f"How exactly do {x} work?"
        yield f"What is the principle behind {x}?"
        return
    m = re.match(r"(?i)^how (many|much|long|old|big|far|tall|deep|fast|often) (.+)\?$", q)
    if m:
        yield f"Roughly how {m.group(1).lower()} {m.group(2)}?"
        yield f"Any idea: how {m.group(1).lower()} {m.group(2)}?"
        yield from _direct(q)
        return
    m = re.match(r"(?i)^can i (.+)\?$", q)
    if m:
        yield f"Is it possible to {m.group(1)}?"
        yield f"Am I able to {m.group(1)}?"
        yield f"Could I {m.group(1)}?"
        return
    m = re.match(r"(?i)^(?:can|could|would|will) you (?:please )?(.+)\?$", q)
    if m:
        x = m.group(1)
        yield f"Could you {x}?"
        yield f"Please {x}."
        yield f"I need you to {x}."
        yield f"Would you {x}, please?"
        return
    m = re.match(r"(?i)^(who|what|which|when|where|how) (.+)\?$", q)
    if m:
        wh, rest = m.group(1).lower(), m.group(2)
        if not _DO_MODAL.intersection(rest.lower().split(" ")[:3]):  # "who wrote X" embeds as is
            yield f"Do you know {wh} {rest}?"
            yield f"I'd like to know {wh} {rest}."
        yield from _direct(q)
        return
    m = re.match(r"(?i)^i (?:want|would like|'d like) to (.+?)([.!]?)$", q)
    if m:
        yield f"I need to {m.group(1)}{m.group(2) or '.'}"
        yield f"Can you help me {m.group(1)}?"
        return
    m = re.match(r"(?i)^(?:please )?(explain|describe|list|convert|calculate|recommend|suggest|"
                 r"give me|tell me|show me|write) (.+?)[.!]?$", q)
    if m:
        verb, x = m.group(1).lower(), m.group(2)
        yield f"Can you {verb} {x}?"
        yield f"Could you {verb} {x}, please?"
        yield f"I'd like you to {verb} {x}."


def paraphrase_candidates(text):
    """Every rule-based rewrite of ``text`` (a fixed, ordered list; empty if no rule fits).

    Only the last sentence is rewritten when a message has several; what comes before stays.
    """
    stripped = text.strip()
    head, _, last = stripped.rpartition("\n")
    sentences = re.split(r"(?<=[.!?])\s+", last)
    lead, question = " ".join(sentences[:-1]), sentences[-1]
    out = []
    for rewrite in _rules(question):
        rewrite = rewrite[:1].upper() + rewrite[1:]
        full = (head + "\n" if head else "") + (lead + " " if lead else "") + rewrite
        if full != stripped and full not in out:
            out.append(full)
    return out


def paraphrase_rules(text, rate, rng, lexicon=None):
    """The ``"paraphrase"`` operation offline: one rule-based rewrite chosen by ``rng``.

    ``rate`` is not used (a rewrite is one edit of the whole message).
    """
    options = paraphrase_candidates(text)
    if not options:
        return text, []
    new = options[int(rng.integers(len(options)))]
    return new, [Edit("paraphrase", 0, text, new)]
