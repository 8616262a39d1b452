"""Typing noise: what real users' messages look like, so a model stops expecting tidy input.

Each operation picks ``n = max(1, int(rate·m))`` places at random among the ``m`` things it acts
on and changes each once (see ``ftlab.augment.ops``). Digits are never touched: "5 miles" → "6
miles" is not noise, it is a different question.

>>> import numpy as np
>>> keyboard_typo("hello world", 0.1, np.random.default_rng(0))[0]  # max(1, int(0.1·10)) = 1 typo
'hello wprld'
"""

import string

from ftlab.augment.ops import Edit, Words, n_edits, sample

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_ROW_OFFSET = (0.0, 0.25, 0.75)  # how far each row sits to the right on a real keyboard


def _keyboard_neighbours():
    pos = {ch: (r, c + _ROW_OFFSET[r]) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}
    out = {}
    for ch, (r, x) in pos.items():
        out[ch] = "".join(o for o, (r2, x2) in pos.items()
                          if o != ch and ((r2 == r and abs(x2 - x) == 1)
                                          or (abs(r2 - r) == 1 and abs(x2 - x) <= 0.75)))
    return out


NEIGHBOURS = _keyboard_neighbours()


_ASCII_LETTERS = frozenset(string.ascii_letters)


def _letters(text):
    return [i for i, ch in enumerate(text) if ch in _ASCII_LETTERS]


def _pick(rng, items, rate):
    """n_edits(rate, len(items)) distinct items, in text order."""
    return [items[k] for k in sample(rng, len(items), n_edits(rate, len(items)))]


def keyboard_typo(text, rate, rng, lexicon=None):
    """Hit a neighbouring key instead of the right one: 'world' → 'wirld'."""
    chars, edits = list(text), []
    picked = _pick(rng, _letters(text), rate)
    keys = [NEIGHBOURS[chars[i].lower()] for i in picked]
    for i, options, u in zip(picked, keys, rng.random(len(picked)).tolist()):  # one draw for all
        new = options[int(u * len(options))]
        new = new.upper() if chars[i].isupper() else new
        edits.append(Edit("typo", i, chars[i], new))
        chars[i] = new
    return "".join(chars), edits


def char_noise(text, rate, rng, lexicon=None):
    """Swap a letter with the next one, drop it, or type it twice: 'the' → 'teh', 'th', 'thhe'."""
    chars = list(text)
    picked = _pick(rng, _letters(text), rate)
    kinds = [("swap", "drop", "double")[int(k)] for k in rng.integers(3, size=len(picked))]
    edits = []
    for i, kind in sorted(zip(picked, kinds), reverse=True):  # right to left: indices stay valid
        if kind == "swap" and i + 1 < len(chars) and chars[i + 1].isalpha() and chars[i + 1] != chars[i]:
            edits.append(Edit("char", i, chars[i] + chars[i + 1], chars[i + 1] + chars[i]))
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif kind == "double" or kind == "swap":  # nothing to swap with: type it twice instead
            edits.append(Edit("char", i, chars[i], chars[i] * 2))
            chars.insert(i, chars[i])
        else:
            edits.append(Edit("char", i, chars[i], ""))
            del chars[i]
    return "".join(chars), edits[::-1]


def case_noise(text, rate, rng, lexicon=None):
    """Change a word's case: 'Paris' → 'paris', 'what' → 'What' or 'WHAT'."""
    w = Words(text)
    words = [i for i, word in enumerate(w.words) if any(ch.isalpha() for ch in word)]
    edits = []
    for i in _pick(rng, words, rate):
        old = w.words[i]
        if old.islower():
            new = old.upper() if rng.random() < 0.5 else old[:1].upper() + old[1:]
        else:
            new = old.lower()
        if new == old:  # "a" capitalised is "A" either way; "I" lowered is new anyway
            new = old.swapcase()
        edits.append(Edit("case", i, old, new))
        w.words[i] = new
    return w.text(), edits


def punctuation_noise(text, rate, rng, lexicon=None):
    """Drop a punctuation mark or type it twice ('?' → '' or '??'); with none, add one at the end."""
    marks = [i for i, ch in enumerate(text) if ch in ".,!?;:"]
    if not marks:
        new = ".?!"[int(rng.integers(3))]
        return text.rstrip() + new + text[len(text.rstrip()):], [Edit("punct", len(text), "", new)]
    chars, edits = list(text), []
    for i in sorted(_pick(rng, marks, rate), reverse=True):
        if rng.random() < 2 / 3:
            edits.append(Edit("punct", i, chars[i], ""))
            del chars[i]
        else:
            edits.append(Edit("punct", i, chars[i], chars[i] * 2))
            chars.insert(i, chars[i])
    return "".join(chars), edits[::-1]


def whitespace_noise(text, rate, rng, lexicon=None):
    """Drop a space between two words ('the sky' → 'thesky') or type two."""
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    chars, edits = list(text), []
    for i in sorted(_pick(rng, spaces, rate), reverse=True):
        if rng.random() < 0.5:
            edits.append(Edit("space", i, " ", ""))
            del chars[i]
        else:
            edits.append(Edit("space", i, " ", "  "))
            chars.insert(i, " ")
    return "".join(chars), edits[::-1]
