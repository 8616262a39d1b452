"""Augmentation operations: edit counts follow the rate, stop words stay, noise spares digits."""

import numpy as np
import pytest

from ftlab.augment.text import OPS, augment_text, diff_words, highlight_html
from ftlab.augment.lexicon import (TableLexicon, WordNetLexicon, builtin_lexicon, get_lexicon,
                                   stop_words)
from ftlab.augment.noise import NEIGHBOURS
from ftlab.augment.ops import Words, n_edits, sample
from ftlab.augment.paraphrase import paraphrase_candidates

LEX = builtin_lexicon()
# Every word here has synonyms of one part of speech in the built-in lexicon and is no stop word,
# so synonym replacement and insertion can always make the full number of edits.
CONTENT = ("happy dog quickly eat fresh bread huge ocean ancient village clever student enormous "
           "difficult holiday beautiful garden").split()


def sentence(length):
    return " ".join(CONTENT[i % len(CONTENT)] for i in range(length)) + "."


def rng(seed=0):
    return np.random.default_rng(seed)


def test_the_content_words_really_are_unambiguous_candidates():
    for word in CONTENT:
        assert word not in stop_words()
        assert len(LEX.parts_of_speech(word)) == 1 and LEX.synonyms(word), word


@pytest.mark.parametrize("op", ["synonym", "insert", "swap"])
@pytest.mark.parametrize("length", [3, 9, 10, 16, 31])
@pytest.mark.parametrize("rate", [0.05, 0.1, 0.2, 0.5])
def test_eda_word_ops_make_max_1_int_rate_times_length_edits(op, length, rate):
    text = sentence(length)
    for seed in range(3):
        new, edits = OPS[op](text, rate, rng(seed), LEX)
        assert len(edits) == max(1, int(rate * length))
        assert all(e.op == op for e in edits)


def test_synonym_replacement_changes_exactly_the_counted_words_into_synonyms():
    text = sentence(20)
    new, edits = OPS["synonym"](text, 0.2, rng(1), LEX)
    before, after = Words(text).words, Words(new).words
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(before) == len(after) and len(changed) == len(edits) == 4
    for i in changed:
        assert after[i].lower() in LEX.synonyms(before[i])


def test_synonym_replacement_never_touches_stop_words():
    text = "What is the capital of the country where you and I were born?"
    for seed in range(30):
        new, edits = OPS["synonym"](text, 0.5, rng(seed), LEX)
        assert all(e.old.lower() not in stop_words() for e in edits)


def test_random_insertion_inserts_synonyms_of_words_in_the_sentence():
    text = sentence(10)
    new, edits = OPS["insert"](text, 0.3, rng(2), LEX)
    assert len(Words(new).words) == 10 + len(edits) == 13
    pool = {s for w in Words(text).words for s in LEX.synonyms(w)}
    assert all(e.new in pool for e in edits)


def test_random_swap_keeps_the_words_and_the_punctuation():
    text = "Why do cats purr, and why do dogs bark?"
    new, _ = OPS["swap"](text, 0.3, rng(0), LEX)
    assert sorted(w.lower() for w in Words(new).words) == sorted(w.lower() for w in Words(text).words)
    assert new.endswith("?") and "," in new and new[0].isupper()


def test_random_deletion_deletes_each_word_with_probability_rate():
    # E[deleted] = l·p + P(none deleted)·1, because EDA deletes one word when chance deleted none
    length, p, trials = 20, 0.2, 1500
    text = sentence(length)
    counts = np.array([len(OPS["delete"](text, p, rng(s), LEX)[1]) for s in range(trials)])
    expected = length * p + (1 - p) ** length
    assert abs(counts.mean() - expected) < 4 * counts.std() / np.sqrt(trials)
    assert counts.min() >= 1


def test_random_deletion_never_deletes_every_word():
    for seed in range(50):
        new, edits = OPS["delete"]("cats purr loudly", 1.0, rng(seed), LEX)
        assert len(edits) == 2 and len(Words(new).words) == 1


def test_deleting_keeps_punctuation_tidy():
    new, _ = OPS["delete"]("Is the ocean salty?", 0.0, np.random.default_rng(5), LEX)
    assert new.endswith("?") and "  " not in new and " ?" not in new


@pytest.mark.parametrize("op,count", [
    ("typo", lambda t: sum(c.isascii() and c.isalpha() for c in t)),
    ("char", lambda t: sum(c.isascii() and c.isalpha() for c in t)),
    ("case", lambda t: len(Words(t).words)),
    ("punct", lambda t: sum(c in ".,!?;:" for c in t)),
    ("space", lambda t: t.count(" ")),
])
@pytest.mark.parametrize("rate", [0.01, 0.05, 0.1, 0.3])
def test_noise_ops_make_max_1_int_rate_times_units_edits(op, count, rate):
    text = "Well, why is the ocean salty? Rivers carry minerals; the sea keeps them. Fine!"
    for seed in range(3):
        new, edits = OPS[op](text, rate, rng(seed))
        assert len(edits) == n_edits(rate, count(text))
        assert new != text


def test_typos_hit_a_neighbouring_key_and_spare_digits():
    text = "Convert 5 miles to kilometres, 1609 metres each"
    new, edits = OPS["typo"](text, 0.3, rng(0))
    assert [c for c in new if c.isdigit()] == [c for c in text if c.isdigit()]
    for e in edits:
        assert e.new.lower() in NEIGHBOURS[e.old.lower()]
        assert e.new.isupper() == e.old.isupper()


def test_keyboard_neighbours_are_symmetric_and_local():
    assert set(NEIGHBOURS["g"]) == set("tyfhvb")
    assert all(a in NEIGHBOURS[b] for a, near in NEIGHBOURS.items() for b in near)


def test_punctuation_noise_adds_a_mark_when_there_is_none():
    new, edits = OPS["punct"]("hello there", 0.1, rng(0))
    assert len(edits) == 1 and new[-1] in ".?!"


def test_rate_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="rate"):
        OPS["synonym"]("big dog", 1.5, rng(0), LEX)


def test_unknown_op_is_a_clear_error():
    with pytest.raises(ValueError, match="choose from synonym"):
        augment_text("hi", ["synonyms"])


def test_sample_draws_distinct_positions_uniformly():
    rng = np.random.default_rng(0)
    counts = np.zeros(10)
    for _ in range(20_000):
        picked = sample(rng, 10, 3)
        assert len(set(picked)) == 3 and picked == sorted(picked)
        counts[picked] += 1
    # each position is in a 3-subset of 10 with probability 0.3: 6000 of 20,000 draws, sd ~65
    assert np.abs(counts - 6000).max() < 300
    assert sample(rng, 5, 5) == [0, 1, 2, 3, 4] and sample(rng, 5, 0) == []


def test_augment_text_is_seeded():
    a = augment_text("What's the biggest animal that has ever lived?", "synonym,typo", seed=4, n=3)
    b = augment_text("What's the biggest animal that has ever lived?", "synonym,typo", seed=4, n=3)
    assert [v.text for v in a] == [v.text for v in b]
    assert len({v.text for v in a}) > 1


def test_paraphrase_rules_rewrite_question_forms():
    assert "Tell me the capital of Canada." in paraphrase_candidates("What is the capital of Canada?")
    assert "Tell me why the sky is blue." in paraphrase_candidates("Why is the sky blue?")
    assert "How can I boil an egg?" in paraphrase_candidates("How do I boil an egg?")
    assert "Could you convert 5 miles to km?" in paraphrase_candidates("Can you convert 5 miles to km?")
    assert paraphrase_candidates("The refund never came.") == []
    # a message with context before the question keeps the context
    out = paraphrase_candidates("My order came back. Can you send it again?")
    assert out and all(o.startswith("My order came back. ") for o in out)


def test_paraphrase_op_is_one_edit():
    new, edits = OPS["paraphrase"]("Why do cats purr?", 0.1, rng(0))
    assert new != "Why do cats purr?" and len(edits) == 1


def test_diff_words_and_highlight():
    assert diff_words("a b c", "a x c") == [("same", "a "), ("gone", "b"), ("new", "x"), ("same", " c")]
    html = highlight_html("why <b> is", "why <b> was")
    assert "<mark" in html and "&lt;b&gt;" in html and "<del" in html


# ----------------------------------------------------------------------------- lexicon


def test_builtin_lexicon_has_a_few_thousand_words_with_parts_of_speech():
    lex = TableLexicon()
    assert len(lex.table) >= 3000 and lex.n_groups >= 1000
    pos = {p for entries in lex.table.values() for p, _ in entries}
    assert pos == {"n", "v", "a", "r"}
    assert set(lex.parts_of_speech("light")) >= {"a", "n"}


def test_lexicon_inflects_plurals():
    assert "automobiles" in LEX.synonyms("cars")
    assert "nations" in LEX.synonyms("countries")
    assert LEX.synonyms("bees") == []  # not a form of the stop word "be"


def test_auto_falls_back_to_the_builtin_lexicon_without_wordnet(monkeypatch):
    import ftlab.augment.lexicon as al

    monkeypatch.setattr(al, "wordnet_lexicon", lambda: None)
    assert get_lexicon("auto").name == "ftlab-lexicon"
    with pytest.raises(ValueError, match="nltk.download"):
        get_lexicon("wordnet")


class _Synset:
    def __init__(self, pos, names):
        self._pos, self._names = pos, names

    def pos(self):
        return self._pos

    def lemma_names(self):
        return self._names


class _FakeWordNet:
    """The two calls ftlab makes on nltk.corpus.wordnet, answering from a tiny table."""

    data = {"car": [_Synset("n", ["car", "auto", "automobile"]), _Synset("n", ["car", "railcar"])],
            "quick": [_Synset("s", ["quick", "speedy"]), _Synset("v", ["quicken"])]}

    def synsets(self, word):
        return self.data.get(word, [])


def test_wordnet_lexicon_reads_lemma_names_per_part_of_speech():
    lex = WordNetLexicon(_FakeWordNet())
    assert lex.synonyms("car") == ["auto", "automobile", "railcar"]
    assert lex.synonyms("cars") == ["autos", "automobiles", "railcars"]
    assert lex.parts_of_speech("quick") == ("a", "v")
    assert lex.synonyms("quick", "a") == ["speedy"]
    new, edits = OPS["synonym"]("a car", 1.0, rng(0), lex)
    assert new in ("a auto", "a automobile", "a railcar") and len(edits) == 1


def test_senses_count_groups_that_share_no_other_word():
    assert LEX.n_senses("stand") == 2  # bear/tolerate vs rise
    assert LEX.n_senses("ocean") == 1  # two groups, both "sea": one sense
    assert LEX.n_senses("zzzz") == 0


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=80), op=st.sampled_from(sorted(OPS)), rate=st.floats(0, 1),
       seed=st.integers(0, 2**32 - 1))
def test_every_op_takes_any_text_and_is_seeded(text, op, rate, seed):
    a = augment_text(text, [op], rate=rate, seed=seed, lexicon="builtin")
    b = augment_text(text, [op], rate=rate, seed=seed, lexicon="builtin")
    assert isinstance(a.text, str) and a.text == b.text and a.edits == b.edits
    if not a.edits:
        assert a.text == text  # no edit, no change


def test_highlight_keeps_words_apart():
    import re

    def plain(html):
        return re.sub(r"<[^>]+>", "", html)

    assert plain(highlight_html("What is the Fibonacci sequence?", "What sequence?")) == \
        "What is the Fibonacci sequence?"
    assert plain(highlight_html("What is the Fibonacci sequence?", "What is the Fibonacci?")) == \
        "What is the Fibonacci sequence?"
    assert plain(highlight_html("the sky is blue", "the sky is azure")) == "the sky is blue azure"
