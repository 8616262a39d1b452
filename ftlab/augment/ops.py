"""Text augmentation operations: EDA's four word edits and five kinds of typing noise.

Every operation has the same shape, ``op(text, rate, rng, lexicon) -> (new_text, edits)``, where
``rng`` is a ``numpy.random.Generator`` (so a seed fixes the result in any process) and ``edits``
lists what was changed. How many edits, from the rate ``α`` and the sentence length ``l``:

* synonym, insert, swap (Wei & Zou 2019, "EDA"): ``n = max(1, int(α·l))`` with ``l`` the number of
  words. Synonym replacement and insertion never pick stop words.
* delete (EDA): each word is deleted with probability ``α``; at least one, never all of them.
* typo, char, case, punct, space (noise): ``n = max(1, int(α·m))`` where ``m`` counts what the
  noise acts on: letters (typo, char), words (case), punctuation marks (punct), spaces (space).

>>> import numpy as np
>>> text, edits = random_swap("cats chase small mice", 0.25, np.random.default_rng(0))
>>> len(edits)  # max(1, int(0.25 * 4)) = 1 swap
1
"""

import re
from functools import lru_cache
from typing import NamedTuple

from ftlab.augment.lexicon import stop_words

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*")  # "don't", "light-year": one word
_SPLIT = re.compile(f"({_TOKEN.pattern})")  # split() keeps the words: [lead, w0, sep0, w1, ...]
_PUNCT = ".,!?;:"


class Edit(NamedTuple):
    """One change: which operation, at which word (or character) position, old → new text."""

    op: str
    position: int
    old: str
    new: str


def sample(rng, m, n):
    """``n`` distinct integers from ``range(m)``, uniformly, in increasing order.

    Floyd's algorithm: for j = m-n .. m-1 draw t from 0..j and take t, or j when t is taken
    already. The n draws are ``floor(u·(j+1))`` of n uniform floats fetched in one call (a float
    has 53 random bits, so the bias is below 2^-40 for any text), which is what makes it cheap.

    >>> import numpy as np
    >>> picked = sample(np.random.default_rng(0), 10, 4)
    >>> len(set(picked)) == 4 and all(0 <= k < 10 for k in picked)
    True
    """
    taken = set()
    for j, u in zip(range(m - n, m), rng.random(n).tolist()):
        t = int(u * (j + 1))
        taken.add(j if t in taken else t)
    return sorted(taken)


def n_edits(rate, length):
    """EDA's number of changes for a rate and a length: ``max(1, int(rate·length))`` (0 if empty).

    >>> n_edits(0.1, 9), n_edits(0.1, 25), n_edits(0.5, 0)
    (1, 2, 0)
    """
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be between 0 and 1, got {rate}")
    return max(1, int(rate * length)) if length else 0


# ----------------------------------------------------------------------------- words


class Words:
    """A text as words plus what surrounds them: ``lead + w0 + seps[0] + w1 + seps[1] + ...``.

    Word operations change ``words`` and ``seps``; punctuation and spacing stay where they were.
    """

    def __init__(self, text):
        parts = _SPLIT.split(text)
        self.lead, self.words, self.seps = parts[0], parts[1::2], parts[2::2]

    def text(self):
        return self.lead + "".join([w + s for w, s in zip(self.words, self.seps)])

    def delete(self, i):
        """Remove word i; its punctuation (not its space) joins the previous word's. The first
        word takes what follows it along ("Hi, how are you" → "how are you")."""
        sep = self.seps[i]
        if i > 0 and sep.strip():
            self.seps[i - 1] = self.seps[i - 1].rstrip() + sep
        del self.words[i], self.seps[i]

    def insert(self, i, word):
        """Insert ``word`` before word i (i == len: after the last word, before its punctuation)."""
        if i < len(self.words):
            self.words.insert(i, word)
            self.seps.insert(i, " ")
        else:
            tail = self.seps[-1]
            self.seps[-1] = " "
            self.words.append(word)
            self.seps.append(tail)


def _match_case(template, word):
    if len(template) > 1 and template.isupper():
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _restore_sentence_case(original_first, w):
    """After words moved, keep the capital at the start (and take it off a common word that left)."""
    if not w.words or not original_first[:1].isupper():
        return
    first = w.words[0]
    if first != original_first:
        w.words[0] = first[:1].upper() + first[1:]
        for i in range(1, len(w.words)):
            word = w.words[i]
            if word == original_first and word.lower() in _known_common_words():
                w.words[i] = word.lower() if word.lower() != "i" else "I"


@lru_cache(maxsize=None)
def _known_common_words():
    # Words safe to lowercase when they leave the start of a sentence (unlike "Paris").
    from ftlab.augment.lexicon import builtin_lexicon

    return frozenset(builtin_lexicon().table) | stop_words()


def guess_pos(previous):
    """The parts of speech a word can have after ``previous`` (None: no idea). Crude on purpose:
    it only has to tell "the light" (noun/adjective) from "to light" (verb)."""
    p = (previous or "").lower()
    if p in _DETERMINERS:
        return ("n", "a")
    if p in _BEFORE_VERB:
        return ("v",)
    if p in _BEFORE_ADJ:
        return ("a", "r")
    return None


_DETERMINERS = frozenset("the a an this that these those my your his her its our their some any "
                         "each every no another".split())
_BEFORE_VERB = frozenset("to can could will would should must might may please i you we they "
                         "don't didn't doesn't can't won't let's".split())
_BEFORE_ADJ = frozenset("is are was were be been very so too quite really more most".split())


def _candidates(w, lexicon):
    """Indices of words that may be replaced, with the part of speech to use (EDA: no stop words)."""
    stops, out = stop_words(), []
    for i, word in enumerate(w.words):
        low = word.lower()
        if low in stops or not word.isalpha():
            continue
        parts, with_synonyms = lexicon.senses(low)
        if len(parts) > 1:  # ambiguous: use the context, and skip the word when it does not decide
            guess = guess_pos(w.words[i - 1] if i else None)
            parts = tuple(p for p in parts if guess and p in guess)
        if len(parts) == 1 and parts[0] in with_synonyms:
            out.append((i, parts[0]))
    return out


def synonym_replacement(text, rate, rng, lexicon):
    """EDA SR: replace n non-stop words, chosen at random, each with a random synonym."""
    w = Words(text)
    n, edits = n_edits(rate, len(w.words)), []
    candidates = _candidates(w, lexicon)
    for k in sample(rng, len(candidates), min(n, len(candidates))):
        i, pos = candidates[k]
        options = lexicon.synonyms(w.words[i], pos)
        new = _match_case(w.words[i], options[int(rng.random() * len(options))])
        edits.append(Edit("synonym", i, w.words[i], new))
        w.words[i] = new
    return w.text(), edits


def random_insertion(text, rate, rng, lexicon):
    """EDA RI: n times, insert a synonym of a random non-stop word at a random position."""
    w = Words(text)
    n, edits = n_edits(rate, len(w.words)), []
    first = w.words[0] if w.words else ""
    for _ in range(n):
        candidates = _candidates(w, lexicon)
        if not candidates:
            break
        i, pos = candidates[rng.integers(len(candidates))]
        options = lexicon.synonyms(w.words[i], pos)
        new = options[rng.integers(len(options))]
        at = int(rng.integers(len(w.words) + 1))
        w.insert(at, new)
        edits.append(Edit("insert", at, "", new))
    _restore_sentence_case(first, w)
    return w.text(), edits


def random_swap(text, rate, rng, lexicon=None):
    """EDA RS: n times, swap two words chosen at random."""
    w = Words(text)
    n, edits = n_edits(rate, len(w.words)), []
    if len(w.words) < 2:
        return text, []
    first = w.words[0]
    for _ in range(n):
        i, j = (int(x) for x in rng.choice(len(w.words), size=2, replace=False))
        w.words[i], w.words[j] = w.words[j], w.words[i]
        edits.append(Edit("swap", min(i, j), w.words[j], w.words[i]))
    _restore_sentence_case(first, w)
    return w.text(), edits


def random_deletion(text, rate, rng, lexicon=None):
    """EDA RD: delete each word with probability ``rate``; at least one word, never every word."""
    w = Words(text)
    if len(w.words) < 2:
        return text, []
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be between 0 and 1, got {rate}")
    drop = [i for i in range(len(w.words)) if rng.random() < rate]
    if not drop:
        drop = [int(rng.integers(len(w.words)))]
    if len(drop) == len(w.words):
        drop.pop(int(rng.integers(len(drop))))
    first = w.words[0]
    edits = [Edit("delete", i, w.words[i], "") for i in drop]
    for i in sorted(drop, reverse=True):
        w.delete(i)
    _restore_sentence_case(first, w)
    return w.text(), edits
