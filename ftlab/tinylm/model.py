"""A tiny character-level language model in numpy that you can really fine-tune on a CPU.

The model is the neural language model of Bengio et al. (2003): to predict the next character it
looks up a vector for each of the previous ``context_size`` characters, concatenates them, and
feeds them through one hidden layer::

    x      = [E[c_1], ..., E[c_C]]          (C·d numbers: the context, embedded)
    h      = tanh(x W1 + b1)                (hidden layer)
    logits = h W2 + b2                      (one score per vocabulary entry)
    loss   = cross_entropy(logits, target)  (ftlab.cross_entropy, assistant tokens only)

The backward pass is written out by hand below, and Adam with gradient clipping
(``ftlab.tinylm.optim``) updates the weights. Everything is float32 (float64 for the gradient check in the tests).

>>> model = TinyLM(Config(context_size=4, embedding_size=8, hidden_size=16), seed=0)
>>> round(model.perplexity("hello world"))  # untrained: about the vocabulary size
102

Use ``load_pretrained("tinylm-char-v1")`` for this model pretrained on English text,
``model.finetune(...)`` (see ``ftlab.tinylm.training``) to teach it a chat task, and
``model.generate(...)`` to talk to it.
"""

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ftlab.losses import cross_entropy
from ftlab.tinylm.chatmodel import ChatModel
from ftlab.tinylm.files import (FORMAT_VERSION, architecture_of, check_shapes,  # noqa: F401
                                read_model, save_model, weights_hash)
from ftlab.tinylm.optim import one_blas_thread
from ftlab.tinylm.text import (END, IGNORE_INDEX, VOCAB_SIZE, contexts, encode, render_chat,
                               render_prompt)

PRETRAINED_NAME = "tinylm-char-v1"  # the MLP's shipped weights
TRANSFORMER_NAME = "tinylm-attn-v1"  # the transformer's shipped weights
ROUTER_NAME = "tinylm-attn-tickets-v1"  # the transformer fine-tuned on the 1,300 tickets
# What load_pretrained() returns when no name is given: the transformer, which reads a whole chat
# example; the MLP stays for what it teaches (a 16-character window, fine-tunes in about a second).
DEFAULT_PRETRAINED = TRANSFORMER_NAME


@dataclass(frozen=True)
class Config:
    """Sizes of the model. The defaults are the shipped pretrained model's."""

    context_size: int = 16
    embedding_size: int = 24
    hidden_size: int = 256
    vocab_size: int = VOCAB_SIZE


# ----------------------------------------------------------------------------- model


class TinyLM(ChatModel):
    """A Bengio-style MLP language model over characters. ``params`` maps names to arrays."""

    def __init__(self, config=None, *, seed=0, dtype=np.float32):
        self.config = config or Config()
        self.dtype = np.dtype(dtype)
        c = self.config
        if c.vocab_size != VOCAB_SIZE:
            raise ValueError(f"vocab_size must be {VOCAB_SIZE} (the character vocabulary)")
        rng = np.random.default_rng(seed)
        fan_in = c.context_size * c.embedding_size
        self.params = {
            "embedding": rng.standard_normal((c.vocab_size, c.embedding_size)),
            # tanh's gain 5/3 keeps the hidden activations in its responsive range
            "W1": rng.standard_normal((fan_in, c.hidden_size)) * (5 / 3) / math.sqrt(fan_in),
            "b1": np.zeros(c.hidden_size),
            # small output weights: every token starts equally likely, loss ≈ ln(vocab_size)
            "W2": rng.standard_normal((c.hidden_size, c.vocab_size)) * 0.01,
            "b2": np.zeros(c.vocab_size),
        }
        self.params = {k: v.astype(self.dtype) for k, v in self.params.items()}
        self.checkpoints = []  # filled by finetune: one copy of the weights per epoch
        self.info = {}  # where the weights came from (pretraining corpus, fine-tuning runs)

    def __repr__(self):
        c = self.config
        return (f"TinyLM(context={c.context_size} chars, embedding={c.embedding_size}, "
                f"hidden={c.hidden_size}, vocab={c.vocab_size}, parameters={self.n_params:,})")

    # ------------------------------------------------------------------------- forward/backward

    def forward(self, ctx):
        """Logits for each row of context token ids ``ctx`` (N, C); also the cache for backward."""
        p = self.params
        x = p["embedding"][ctx].reshape(len(ctx), -1)
        h = np.tanh(x @ p["W1"] + p["b1"])
        logits = h @ p["W2"] + p["b2"]
        return logits, (ctx, x, h)

    def backward(self, cache, dlogits):
        """Gradients of the loss w.r.t. every parameter, given dloss/dlogits. Chain rule, by hand."""
        ctx, x, h = cache
        p = self.params
        grads = {"W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}
        dpre = (dlogits @ p["W2"].T) * (1 - h * h)  # tanh'(a) = 1 - tanh(a)²
        grads["W1"] = x.T @ dpre
        grads["b1"] = dpre.sum(axis=0)
        dx = (dpre @ p["W1"].T).reshape(-1, self.config.embedding_size)
        # The lookup E[c] is a product onehot(c) @ E, so dE = onehot.T @ dx: rows of dx added
        # into the rows of the characters that were looked up (a repeated character adds twice).
        onehot = np.zeros((dx.shape[0], self.config.vocab_size), dtype=dx.dtype)
        onehot[np.arange(dx.shape[0]), ctx.ravel()] = 1
        grads["embedding"] = onehot.T @ dx
        return grads

    def loss_and_grads(self, ctx, targets):
        """Mean cross-entropy over counted targets, its gradients, and the logits.

        dloss/dlogits of the mean cross-entropy is (softmax(logits) - onehot(target)) / n_counted
        on counted rows and 0 on ignored rows: the same masking ``ftlab.cross_entropy`` applies.
        """
        logits, cache = self.forward(ctx)
        loss = float(cross_entropy(logits, targets, ignore_index=IGNORE_INDEX))
        counted = targets != IGNORE_INDEX
        n = int(counted.sum())
        dlogits = np.exp(logits - logits.max(axis=1, keepdims=True))
        dlogits /= dlogits.sum(axis=1, keepdims=True)
        rows = np.flatnonzero(counted)
        dlogits[rows, targets[rows]] -= 1
        dlogits[~counted] = 0
        dlogits /= max(n, 1)
        return loss, self.backward(cache, dlogits), logits

    # ------------------------------------------------------------------------- using the model

    def _tokens_of(self, prompt, reply_so_far=""):
        if isinstance(prompt, str):
            return encode(prompt + reply_so_far), False
        chat = prompt if not isinstance(prompt, list) else {"messages": prompt}
        return np.concatenate([render_prompt(chat), encode(reply_so_far)]), True

    def next_token_logits(self, prompt, reply_so_far=""):
        """Logits (float64, one per vocabulary entry) for the token after ``prompt``.

        ``prompt`` is text, or a chat (messages list or record): then the logits are those of the
        next character of the assistant's reply, after ``reply_so_far``.
        """
        tokens, _ = self._tokens_of(prompt, reply_so_far)
        ctx = contexts(np.append(tokens, 0), self.config.context_size)[-1:]
        return self.forward(ctx)[0][0].astype(np.float64)

    def _generate_tokens(self, tokens, max_tokens, stop_at_end, pick):
        """The tokens ``generate`` writes after ``tokens``, and why it stopped: each step reads
        the last ``context_size`` tokens (zeros before the start)."""
        window = list(np.concatenate([np.zeros(self.config.context_size, np.int64), tokens])
                      [-self.config.context_size:])
        out, finish = [], "length"
        for _ in range(max_tokens):
            token = pick(self.forward(np.array([window]))[0][0].astype(np.float64))
            if token == END and stop_at_end:
                finish = "stop"
                break
            out.append(token)
            window = window[1:] + [token]
        return out, finish

    def _scored_tokens(self, data):
        """(tokens, targets) pairs: text is scored on every character, chats on assistant tokens."""
        if isinstance(data, str):
            tokens = encode(data)
            return [(tokens, tokens)]
        if isinstance(data, dict) or (isinstance(data, list) and data and isinstance(data[0], dict)
                                      and "role" in data[0]):
            data = [data if isinstance(data, dict) else {"messages": data}]
        return [render_chat(r, where=f"record {i}") for i, r in enumerate(data)]

    def evaluate(self, data, *, batch_tokens=8192):
        """Loss, perplexity and token accuracy on text or chat records (assistant tokens only).

        Returns a dict: ``loss`` (mean cross-entropy, nats), ``perplexity`` (e^loss),
        ``token_accuracy`` and ``n_tokens`` (how many targets were scored).
        """
        pairs = self._scored_tokens(data)
        ctx = np.concatenate([contexts(t, self.config.context_size) for t, _ in pairs])
        targets = np.concatenate([y for _, y in pairs])
        keep = targets != IGNORE_INDEX  # rows the loss ignores need no forward pass
        ctx, targets = ctx[keep], targets[keep]
        if not len(targets):
            raise ValueError("nothing to score: no assistant tokens with weight 1 in these records")
        total, hits = 0.0, 0
        with one_blas_thread():
            for start in range(0, len(targets), batch_tokens):
                logits, _ = self.forward(ctx[start:start + batch_tokens])
                y = targets[start:start + batch_tokens]
                total += float(cross_entropy(logits, y, reduction="sum"))
                hits += int((logits.argmax(axis=1) == y).sum())
        loss = total / len(targets)
        return {"loss": loss, "perplexity": math.exp(loss),
                "token_accuracy": hits / len(targets), "n_tokens": int(len(targets))}

    # ------------------------------------------------------------------------- files

    def save(self, path, *, overwrite=False, info=None):
        """Write the weights (``.npz``) and a ``.json`` with config, format version and hash."""
        return save_model(path, self.params, asdict(self.config), {**self.info, **(info or {})},
                          overwrite=overwrite)


def load(path):
    """Load a model written by ``save``, checking the format version and the hash.

    Returns a ``TinyLM`` or a ``TinyTransformer``, whichever the ``.json`` describes.
    """
    meta, params = read_model(path)
    path = Path(path).with_suffix(".npz")
    if architecture_of(meta) == "transformer":
        from ftlab.tinylm.transformer import TinyTransformer

        return TinyTransformer.from_weights(path, meta, params)
    try:
        model = TinyLM(Config(**meta["config"]), dtype=next(iter(params.values())).dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path.with_suffix('.json')}: its 'config' does not describe a tinylm "
                         f"model ({err})") from None
    check_shapes(path, params, model.params)
    model.params = params
    model.info = {"name": path.stem, **meta.get("info", {})}
    return model


def pretrained_path(name=PRETRAINED_NAME):
    """Where the shipped weights called ``name`` are (``data/models/<name>.npz``)."""
    from ftlab._data import data_dir

    return data_dir() / "models" / f"{name}.npz"


def load_pretrained(name=None):
    """A fresh copy of one of ftlab's pretrained models (trained on Python's documentation text).

    ``name``: ``"tinylm-char-v1"`` (the MLP), ``"tinylm-attn-v1"`` (the transformer) or
    ``"tinylm-attn-tickets-v1"`` (the transformer fine-tuned to route tickets,
    ``tools/finetune_ticket_router.py``); by default the transformer (``DEFAULT_PRETRAINED``).

    >>> load_pretrained().generate("The value of", max_tokens=0)
    ''
    """
    return load(pretrained_path(name or DEFAULT_PRETRAINED))


def load_pretrained_transformer():
    """A fresh copy of the pretrained tiny transformer (``tinylm-attn-v1``), which reads a whole
    chat example at once."""
    return load(pretrained_path(TRANSFORMER_NAME))
