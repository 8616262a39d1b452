"""A character bigram language model made of counts: the smallest real model whose loss we can compute.

It predicts each character from the one before it, with probabilities
p(b | a) = (count(a b) + k) / (count(a ·) + k·V), add-k smoothed so no character gets probability 0.
Its ``logits`` are log-probabilities, so ``ftlab.cross_entropy`` scores it like any neural model.

>>> model = CharBigram.fit("abababab")
>>> logits, targets = model.logits_and_targets("abab")
>>> round(float(model.loss("abab")), 3)
0.359
"""

from dataclasses import dataclass

import numpy as np

from ftlab.losses import cross_entropy

UNKNOWN = "\N{REPLACEMENT CHARACTER}"  # stands for every character the training text never had


def default_corpus():
    """General English prose that ships with every Python: the reference docs in ``pydoc_data``.

    Returns ``(train_text, valid_text)``: different documentation topics, so validation text is
    genuinely unseen.
    """
    from pydoc_data.topics import topics

    names = sorted(topics)
    valid_names = names[::5]  # every fifth topic, chosen by name so it is the same everywhere
    train = "\n".join(topics[n] for n in names if n not in valid_names)
    valid = "\n".join(topics[n] for n in valid_names)
    return train, valid


@dataclass
class CharBigram:
    """Counts of character pairs turned into next-character log-probabilities."""

    vocab: list
    log_probs: np.ndarray  # (V, V): row = previous character, column = next character

    @classmethod
    def fit(cls, text, smoothing=1.0):
        """Count every adjacent pair in ``text``; ``smoothing`` is the k of add-k smoothing."""
        if len(text) < 2:
            raise ValueError("text must have at least two characters to count a pair")
        if smoothing <= 0:
            raise ValueError(f"smoothing must be > 0 (it keeps unseen pairs possible), got {smoothing}")
        vocab = sorted(set(text)) + [UNKNOWN]
        model = cls(vocab, np.zeros((len(vocab), len(vocab))))
        ids = model.encode(text)
        counts = np.zeros_like(model.log_probs)
        np.add.at(counts, (ids[:-1], ids[1:]), 1)
        counts += smoothing
        model.log_probs = np.log(counts / counts.sum(axis=1, keepdims=True))
        return model

    @property
    def vocab_size(self):
        return len(self.vocab)

    def __post_init__(self):
        self._index = {c: i for i, c in enumerate(self.vocab)}

    def encode(self, text):
        unknown = len(self.vocab) - 1
        return np.array([self._index.get(c, unknown) for c in text])

    def logits_and_targets(self, text):
        """For every position after the first: the model's logits and the character that came."""
        ids = self.encode(text)
        return self.log_probs[ids[:-1]], ids[1:]

    def token_losses(self, text):
        """-log p of each actual next character (one value per character after the first)."""
        logits, targets = self.logits_and_targets(text)
        return cross_entropy(logits, targets, reduction="none")

    def loss(self, text):
        """Mean cross-entropy per character over ``text``, in nats."""
        logits, targets = self.logits_and_targets(text)
        return cross_entropy(logits, targets)

    def next_char_probs(self, previous):
        """Probability of each vocabulary character following ``previous``."""
        return np.exp(self.log_probs[self.encode(previous[-1])[0]])
