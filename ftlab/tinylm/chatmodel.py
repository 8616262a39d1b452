"""What both tiny models share once they can score a sequence: copying, a readable next-token
distribution, perplexity and fine-tuning.

``TinyLM`` (the MLP) and ``TinyTransformer`` differ in how they read the tokens (``forward``,
``next_token_logits``, ``evaluate``); everything built on those lives here, once.
"""

import copy as _copy

import numpy as np

from ftlab import sampling
from ftlab.tinylm.text import decode, token_label


class ChatModel:
    """The part of a tiny model that does not depend on its architecture."""

    @property
    def n_params(self):
        return sum(p.size for p in self.params.values())

    def copy(self):
        """An independent copy: fine-tune it without touching this model's weights."""
        twin = _copy.copy(self)
        twin.params = {k: v.copy() for k, v in self.params.items()}
        twin.checkpoints = list(self.checkpoints)
        twin.info = _copy.deepcopy(self.info)
        return twin

    def next_token_distribution(self, prompt, reply_so_far="", *, temperature=1.0, top_p=1.0,
                                top_k=None):
        """Probability of each next token as a pandas Series, most likely first.

        The index holds readable labels ('␣' for space, '⏎' for newline, '<|end|>').
        """
        import pandas as pd

        probs = sampling.filtered_distribution(self.next_token_logits(prompt, reply_so_far),
                                               temperature, top_p, top_k)
        order = np.argsort(-probs, kind="stable")
        return pd.Series(probs[order], index=[token_label(i) for i in order], name="probability")

    def perplexity(self, data):
        """e^(mean cross-entropy) on text (every character) or chat records (assistant tokens)."""
        return self.evaluate(data)["perplexity"]

    def generate(self, prompt, *, max_tokens=200, temperature=1.0, top_p=1.0, top_k=None,
                 seed=0, details=False):
        """Continue ``prompt`` (text) or answer a chat (messages list or record).

        A chat reply stops at ``<|end|>`` (``finish_reason="stop"``) or after ``max_tokens``
        characters (``"length"``). Same seed, same text; ``temperature=0`` is greedy. With
        ``details=True`` returns a dict with ``text``, ``finish_reason`` and ``n_tokens``.
        """
        tokens, is_chat = self._tokens_of(prompt)
        rng = np.random.default_rng(seed)
        out, finish = self._generate_tokens(
            tokens, int(max_tokens), is_chat,
            lambda logits: sampling.sample(logits, temperature, top_p, top_k, rng=rng))
        text = decode(out)
        return {"text": text, "finish_reason": finish, "n_tokens": len(out)} if details else text

    @classmethod
    def default_hyperparameters(cls, n_examples):
        """What ``finetune`` uses for the hyperparameters a call leaves out, for ``n_examples``
        training examples: ``ftlab.tinylm.training.DEFAULTS`` whatever the size (the MLP's)."""
        from ftlab.tinylm.training import DEFAULTS

        return dict(DEFAULTS)

    def finetune(self, train, valid=None, **kwargs):
        """Fine-tune on chat records; returns a ``Run``. See ``ftlab.tinylm.training.finetune``.

        Hyperparameters left out take this model's ``default_hyperparameters(len(train))``.
        """
        from ftlab.tinylm.training import finetune

        return finetune(self, train, valid, **kwargs)
