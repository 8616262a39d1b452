"""Where synonyms come from: WordNet (through nltk) when its data is installed, else ftlab's lexicon.

WordNet is the source Wei & Zou (2019) used for EDA. It needs ``nltk`` plus its data, which Colab
can fetch with ``nltk.download("wordnet")``; offline, ftlab falls back to its own lexicon
(``data/lexicon/en_synonyms.txt``: a few thousand everyday English words in synonym groups, with
the part of speech of each group). Every augmentation reports which source it used.

>>> lex = get_lexicon("builtin")
>>> lex.name, lex.synonyms("big")[:3]
('ftlab-lexicon', ['large', 'huge', 'great'])
>>> lex.synonyms("cars")[:2]  # plurals are looked up by their singular and re-inflected
['automobiles', 'vehicles']
"""

from functools import lru_cache

from ftlab._data import data_dir

POS_NAMES = {"n": "noun", "v": "verb", "a": "adjective", "r": "adverb"}


def _lexicon_path(name):
    return data_dir() / "lexicon" / name


def _data_lines(name):
    path = _lexicon_path(name)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            yield path, number, line


@lru_cache(maxsize=None)
def stop_words():
    """The stop words (a frozenset) that synonym replacement and insertion never pick.

    >>> "the" in stop_words(), "ocean" in stop_words()
    (True, False)
    """
    return frozenset(line.strip().lower() for _, _, line in _data_lines("en_stopwords.txt"))


# ----------------------------------------------------------------------------- inflection
# Only the regular plural / third-person "-s" is handled: it is safe for both nouns and verbs,
# while "-ed"/"-ing" would need an irregular-verb table to avoid "maked" and "runing".


def _plural(word):
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _singulars(word):
    """Possible base forms of a word ending in -s (most plausible first)."""
    out = []
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        out.append(word[:-1])
    return out


def _inflect(phrase, pos):
    """Put a base-form synonym in the -s form: the last word of a noun phrase, the first of a verb's."""
    parts = phrase.split(" ")
    i = 0 if pos == "v" else len(parts) - 1
    parts[i] = _plural(parts[i])
    return " ".join(parts)


# ----------------------------------------------------------------------------- lexicons


class Lexicon:
    """A synonym source: ``synonyms(word, pos)`` and ``parts_of_speech(word)``.

    Subclasses implement ``_lookup(base)`` → list of ``(pos, synonyms)`` for a base form, in a
    fixed order (so a seeded choice among them is reproducible).
    """

    name = "lexicon"
    description = ""

    def _lookup(self, base):
        raise NotImplementedError

    def _entries(self, word):
        """(pos, synonyms, inflected?) for a word as written, trying its base form for -s words."""
        word = word.lower()
        entries = [(pos, syns, False) for pos, syns in self._lookup(word)]
        if entries:
            return entries
        for base in _singulars(word):
            if base in stop_words():  # "bees" is not a form of "be"
                continue
            found = [(pos, syns, True) for pos, syns in self._lookup(base) if pos in ("n", "v")]
            if found:
                return found
        return []

    def parts_of_speech(self, word):
        """The parts of speech ('n', 'v', 'a', 'r') the word has here, in a fixed order."""
        return self._memo(("pos", word), self._parts_of_speech, word)

    def senses(self, word):
        """``(parts of speech, those with synonyms)`` of a word, looked up once: what a synonym
        operation asks about every word it considers, again and again over a data set."""
        memo = self.__dict__.setdefault("_senses", {})
        found = memo.get(word)
        if found is None:
            parts = self.parts_of_speech(word)
            found = memo[word] = (parts, frozenset(p for p in parts if self.synonyms(word, p)))
        return found

    def n_senses(self, word):
        """How many synonym groups (WordNet: synsets) hold the word: above 1, a synonym may
        belong to another sense than the one the sentence uses."""
        return len(self._entries(word))

    def synonyms(self, word, pos=None):
        """Synonyms of ``word`` (lowercase, in the source's order), optionally of one part of speech."""
        return list(self._memo(("syn", word, pos), self._synonyms, word, pos))

    def _memo(self, key, compute, *args):
        # augmenting a data set asks about the same words again and again
        memo = self.__dict__.setdefault("_cache", {})
        if key not in memo:
            memo[key] = compute(*args)
        return memo[key]

    def _parts_of_speech(self, word):
        seen = []
        for pos, _, _ in self._entries(word):
            if pos not in seen:
                seen.append(pos)
        return tuple(seen)

    def _synonyms(self, word, pos):
        out = []
        for p, syns, inflected in self._entries(word):
            if pos is not None and p != pos:
                continue
            for s in syns:
                s = _inflect(s, p) if inflected else s
                if s != word.lower() and s not in out:
                    out.append(s)
        return tuple(out)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}: {self.description}>"


class TableLexicon(Lexicon):
    """ftlab's own lexicon: synonym groups read from ``data/lexicon/en_synonyms.txt``."""

    name = "ftlab-lexicon"

    def __init__(self, filename="en_synonyms.txt"):
        self.table = {}  # word -> [(pos, [other words of the group]), ...] in file order
        groups = 0
        for path, number, line in _data_lines(filename):
            pos, sep, rest = line.partition("\t")
            words = [w.strip().lower() for w in rest.split(",") if w.strip()]
            if not sep or pos not in POS_NAMES or len(words) < 2:
                raise ValueError(f"{path}, line {number}: expected 'POS<TAB>word, word, ...' with "
                                 f"POS one of {', '.join(POS_NAMES)} and at least two words; "
                                 f"got {line!r}")
            groups += 1
            for w in words:
                self.table.setdefault(w, []).append((pos, [o for o in words if o != w]))
        self.n_groups = groups
        self.description = (f"{len(self.table)} words and phrases in {groups} synonym groups, "
                            f"written for ftlab (data/lexicon/{filename})")

    def _lookup(self, base):
        return self.table.get(base, [])

    def n_senses(self, word):
        """Groups holding the word, counting groups that share another member as one sense:
        "stand" (bear, tolerate / rise) has 2, "ocean" (sea / sea) has 1."""
        groups = [set(syns) for _, syns, _ in self._entries(word)]
        senses = []
        for g in groups:
            overlapping = [s for s in senses if s & g]
            merged = g.union(*overlapping)
            senses = [s for s in senses if not (s & g)] + [merged]
        return len(senses)


class WordNetLexicon(Lexicon):
    """WordNet through nltk: the synonyms are the lemma names of every synset of the word."""

    name = "wordnet"
    _POS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}  # 's' = satellite adjective

    def __init__(self, wordnet):
        self.wn = wordnet
        self.description = "WordNet (nltk.corpus.wordnet)"

    def _lookup(self, base):
        grouped = {}
        for synset in self.wn.synsets(base):
            pos = self._POS.get(synset.pos(), "n")
            names = grouped.setdefault(pos, [])
            for lemma in synset.lemma_names():
                name = lemma.replace("_", " ").lower()
                if name != base and name not in names:
                    names.append(name)
        return [(pos, names) for pos, names in grouped.items() if names]

    def n_senses(self, word):
        return len(self.wn.synsets(word.lower()))

    def _entries(self, word):
        # WordNet finds base forms itself (morphy), so "cars" already gives car's synsets; we
        # only re-inflect when the word is a plain -s form of what WordNet returned.
        word = word.lower()
        direct = [(p, s, False) for p, s in self._lookup(word)]
        for base in _singulars(word):
            if self.wn.synsets(base) and not any(word in s for _, s, _ in direct):
                return [(p, s, True) for p, s in self._lookup(base) if p in ("n", "v")] or direct
        return direct


def wordnet_lexicon():
    """WordNet through nltk, or ``None`` when nltk or its WordNet data is not installed."""
    try:
        from nltk.corpus import wordnet
        wordnet.synsets("dog")  # raises LookupError when the data has not been downloaded
    except (ImportError, LookupError, OSError):
        return None
    return WordNetLexicon(wordnet)


@lru_cache(maxsize=None)
def builtin_lexicon():
    """ftlab's own lexicon (read once)."""
    return TableLexicon()


def get_lexicon(source="auto"):
    """The synonym source: ``"auto"`` (WordNet if installed, else built-in), ``"wordnet"``,
    ``"builtin"``, or a :class:`Lexicon` passed through."""
    if isinstance(source, Lexicon):
        return source
    if source in ("auto", "wordnet"):
        wn = wordnet_lexicon()
        if wn is not None:
            return wn
        if source == "wordnet":
            raise ValueError("WordNet is not available: `pip install nltk` and run "
                             "`import nltk; nltk.download('wordnet')`, or use source='builtin'")
        return builtin_lexicon()
    if source == "builtin":
        return builtin_lexicon()
    raise ValueError(f"unknown synonym source {source!r}; use 'auto', 'wordnet' or 'builtin'")
