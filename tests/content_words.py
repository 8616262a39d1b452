"""Content words of a text, for tests that check two data files do not say the same thing twice."""

import re


def content_words(text):
    """Words that carry the meaning: no stop words, common endings dropped (books = book)."""
    from ftlab.augment.lexicon import stop_words

    stops = stop_words()
    words = (w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in stops)
    return {re.sub(r"(?<=...)(ing|ed|es|s)$", "", w) for w in words}
