"""Data augmentation (notebook 06): paraphrases, synonyms and noise on user turns, and an experiment.

``augment_text(text, ops=...)`` makes variants of one message; ``augment_chat(records, ...)`` of a
whole training set, keeping the assistant replies; ``ChatParaphraser`` asks a chat model for
paraphrases; ``augmentation_experiment`` measures with the tiny model whether augmenting helped.
"""

from ftlab._lazy import lazy_exports

_EXPORTS = {
    "augment_text": "text",
    "augment_chat": "chat",
    "ChatParaphraser": "llm",
    "augmentation_experiment": "experiment",
    "get_lexicon": "lexicon",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
