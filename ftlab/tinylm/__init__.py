"""The tiny language models (notebooks 01-10): counted, trained and fine-tuned on a CPU.

``load_pretrained()`` returns the shipped tiny transformer, which reads a whole chat example
(``load_pretrained_transformer()`` too); ``load_pretrained("tinylm-char-v1")`` the character-level
MLP, which sees the last 16 characters. ``model.finetune(train, valid)`` fine-tunes either on chat
records with a hosted service's knobs and returns a ``Run``; ``model.generate(prompt)`` talks to
it. ``CharBigram`` is the counting model of notebooks 01-02.
"""

from ftlab._lazy import lazy_exports

_EXPORTS = {
    "TinyLM": "model",
    "Config": "model",
    "load": "model",
    "load_pretrained": "model",
    "load_pretrained_transformer": "model",
    "TinyTransformer": "transformer",
    "TransformerConfig": "transformer",
    "pretrained_path": "model",
    "weights_hash": "model",
    "finetune": "training",
    "EarlyStopping": "training",
    "TrainingState": "training",
    "render_chat": "text",
    "render_prompt": "text",
    "CharBigram": "ngram",
    "default_corpus": "ngram",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
