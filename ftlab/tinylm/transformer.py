"""A tiny decoder-only transformer in numpy that reads a whole chat example at once.

The MLP (``model.py``) sees only the previous 16 characters, so by the time it writes a reply
it has forgotten the question. This model is GPT-2's design at toy size, over the same
characters and chat template::

    x      = E[token] + P[position]                 token and position embeddings
    x      = x + attention(layer_norm(x))           × n_layers: every position mixes in the
    x      = x + mlp(layer_norm(x))                   earlier ones, then transforms itself
    logits = layer_norm(x) Eᵀ                       the embedding matrix doubles as the output layer

The causal mask lets one forward pass predict every next token of a sequence, so fine-tuning
trains on whole (padded) chat examples, still counting only the assistant's tokens. The forward
and backward passes of each piece are written out in ``attention.py``; this file puts them
together. Generation keeps each layer's keys and values (``decoding.py``), so each new
character costs one position's work, not the whole sequence's.

>>> model = TinyTransformer(TransformerConfig(context_size=32, width=16, n_layers=1, n_heads=2))
>>> 90 < model.perplexity("hello world") < 115  # untrained: about the vocabulary size, 102
True
"""

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ftlab.losses import cross_entropy
from ftlab.tinylm.attention import block, block_backward, layer_norm, layer_norm_backward
from ftlab.tinylm.chatmodel import ChatModel
from ftlab.tinylm.decoding import generate_tokens
from ftlab.tinylm.files import check_shapes, save_model
from ftlab.tinylm.optim import one_blas_thread
from ftlab.tinylm.sequences import length_batches, shift, text_sequence, windows
from ftlab.tinylm.text import IGNORE_INDEX, PAD, VOCAB_SIZE, encode, render_chat, render_prompt


@dataclass(frozen=True)
class TransformerConfig:
    """Sizes of the transformer. The defaults are the shipped pretrained model's.

    512 positions hold a whole example of the course's chat data (tickets ~200 characters
    rendered, Marv up to ~420); longer chats are read in overlapping windows.
    """

    context_size: int = 512
    width: int = 128
    n_layers: int = 4
    n_heads: int = 4
    vocab_size: int = VOCAB_SIZE

    def __post_init__(self):
        for name in ("context_size", "width", "n_layers", "n_heads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
        if self.width % self.n_heads:
            raise ValueError(f"width ({self.width}) must be a multiple of n_heads ({self.n_heads})")
        if self.vocab_size != VOCAB_SIZE:
            raise ValueError(f"vocab_size must be {VOCAB_SIZE} (the character vocabulary)")


class TinyTransformer(ChatModel):
    """A decoder-only transformer over characters. ``params`` maps names to arrays.

    It offers what ``TinyLM`` offers (``forward``, ``loss_and_grads``, ``generate``,
    ``evaluate``, ``finetune``, ``save``, ...), so every ftlab tool that takes the tiny model
    takes this one too.
    """

    # ftlab.tinylm.training reads these: train on whole sequences, each batch starting at a
    # random position, with these defaults (chosen on the tickets data: see data/models/README.md)
    reads_whole_sequences = True
    shifts_positions = True
    base_learning_rate = 5e-5
    finetune_defaults = {"n_epochs": 12, "batch_size": 2, "learning_rate_multiplier": 1.0}

    def __init__(self, config=None, *, seed=0, dtype=np.float32):
        self.config = config or TransformerConfig()
        self.dtype = np.dtype(dtype)
        self.params = {k: v.astype(self.dtype) for k, v in
                       _initial_weights(self.config, np.random.default_rng(seed)).items()}
        self.checkpoints = []  # filled by finetune: one copy of the weights per epoch
        self.info = {}  # where the weights came from (pretraining corpus, fine-tuning runs)

    def __repr__(self):
        c = self.config
        return (f"TinyTransformer(context={c.context_size} chars, width={c.width}, "
                f"layers={c.n_layers}, heads={c.n_heads}, vocab={c.vocab_size}, "
                f"parameters={self.n_params:,})")

    # ------------------------------------------------------------------------- forward/backward

    def forward(self, tokens, offset=0):
        """Logits (B, T, vocab) for token ids ``tokens`` (B, T); also the cache for backward.

        Row b, position t holds the scores for the token after ``tokens[b, :t+1]``. ``offset``
        places the first token at that position instead of 0.
        """
        tokens = np.asarray(tokens)
        c, p = self.config, self.params
        if tokens.ndim != 2 or offset + tokens.shape[1] > c.context_size:
            raise ValueError(f"tokens must be (sequences, positions) with at most "
                             f"{c.context_size - offset} positions, got shape {tokens.shape}")
        x = p["tok_emb"][tokens] + p["pos_emb"][offset:offset + tokens.shape[1]]
        blocks = []
        for layer in range(c.n_layers):
            x, cache, _ = block(x, p, f"h{layer}.", c.n_heads)
            blocks.append(cache)
        y, final = layer_norm(x, p["lnf_g"], p["lnf_b"])
        logits = (y.reshape(-1, c.width) @ p["tok_emb"].T).reshape(*tokens.shape, c.vocab_size)
        return logits, (tokens, offset, blocks, final, y)

    def backward(self, cache, dlogits):
        """Gradients of the loss w.r.t. every parameter, given dloss/dlogits (B, T, vocab)."""
        tokens, offset, blocks, final, y = cache
        c, p = self.config, self.params
        dl = dlogits.reshape(-1, c.vocab_size)
        # the output layer is the embedding matrix: its gradient gets a share from here ...
        grads = {"tok_emb": dl.T @ y.reshape(-1, c.width)}
        dx = (dl @ p["tok_emb"]).reshape(y.shape)
        dx, grads["lnf_g"], grads["lnf_b"] = layer_norm_backward(dx, final)
        for layer in reversed(range(c.n_layers)):
            dx, block_grads = block_backward(dx, blocks[layer], p, f"h{layer}.")
            grads.update(block_grads)
        # ... and one from the lookup E[token] = onehot(token) @ E: rows of dx added into the
        # rows of the tokens read (a repeated token adds several times)
        flat = dx.reshape(-1, c.width)
        onehot = np.zeros((len(flat), c.vocab_size), dtype=flat.dtype)
        onehot[np.arange(len(flat)), tokens.ravel()] = 1
        grads["tok_emb"] += onehot.T @ flat
        grads["pos_emb"] = np.zeros_like(p["pos_emb"])
        grads["pos_emb"][offset:offset + tokens.shape[1]] = dx.sum(axis=0)  # a row per position
        return grads

    def loss_and_grads(self, tokens, targets, offset=0):
        """Mean cross-entropy over counted targets (B, T), its gradients, and the logits.

        dloss/dlogits is (softmax(logits) - onehot(target)) / n_counted on counted positions and
        0 on the rest (prompts, weight-0 replies, padding): ``IGNORE_INDEX`` as in
        ``ftlab.cross_entropy``.
        """
        logits, cache = self.forward(tokens, offset)
        flat, y = logits.reshape(-1, self.config.vocab_size), np.asarray(targets).ravel()
        rows = np.flatnonzero(y != IGNORE_INDEX)
        loss = float(cross_entropy(flat[rows], y[rows])) if len(rows) else math.nan
        dflat = np.zeros_like(flat)
        picked = flat[rows]
        picked = np.exp(picked - picked.max(axis=1, keepdims=True))
        picked /= picked.sum(axis=1, keepdims=True)
        picked[np.arange(len(rows)), y[rows]] -= 1
        dflat[rows] = picked / max(len(rows), 1)
        return loss, self.backward(cache, dflat.reshape(logits.shape)), logits

    # ------------------------------------------------------------------------- using the model

    def _tokens_of(self, prompt, reply_so_far=""):
        """Tokens to continue: text after a start-of-text <|pad|>, or a chat's generation prompt."""
        if isinstance(prompt, str):
            return np.concatenate([[PAD], encode(prompt + reply_so_far)]).astype(np.int64), False
        chat = prompt if not isinstance(prompt, list) else {"messages": prompt}
        return np.concatenate([render_prompt(chat), encode(reply_so_far)]), True

    def next_token_logits(self, prompt, reply_so_far=""):
        """Logits (float64, one per vocabulary entry) for the token after ``prompt``.

        ``prompt`` is text, or a chat (messages list or record): then the logits are those of the
        next character of the assistant's reply, after ``reply_so_far``. Only the last
        ``context_size`` tokens are read.
        """
        tokens, _ = self._tokens_of(prompt, reply_so_far)
        with one_blas_thread():
            logits, _ = self.forward(tokens[-self.config.context_size:][None])
        return logits[0, -1].astype(np.float64)

    def _generate_tokens(self, tokens, max_tokens, stop_at_end, pick):
        """The tokens ``generate`` writes after ``tokens`` (with the key/value cache of
        ``ftlab.tinylm.decoding``), and why it stopped."""
        with one_blas_thread():
            return generate_tokens(self, tokens, max_tokens=max_tokens, stop_at_end=stop_at_end,
                                   pick=pick)

    def _scored_pieces(self, data):
        """Windows of (inputs, targets): text is scored on every character, chats on assistant
        tokens."""
        if isinstance(data, str):
            pairs = [text_sequence(data)]
        else:
            if isinstance(data, dict) or (isinstance(data, list) and data and
                                          isinstance(data[0], dict) and "role" in data[0]):
                data = [data if isinstance(data, dict) else {"messages": data}]
            pairs = [shift(*render_chat(r, where=f"record {i}")) for i, r in enumerate(data)]
        return [w for x, y in pairs for w in windows(x, y, self.config.context_size)]

    def evaluate(self, data, *, batch_tokens=4096):
        """Loss, perplexity and token accuracy on text or chat records (assistant tokens only).

        Returns a dict: ``loss`` (mean cross-entropy, nats), ``perplexity`` (e^loss),
        ``token_accuracy`` and ``n_tokens`` (how many targets were scored).
        """
        total, hits, n = 0.0, 0, 0
        with one_blas_thread():
            for tokens, targets in length_batches(self._scored_pieces(data), batch_tokens):
                logits, _ = self.forward(tokens)
                keep = targets != IGNORE_INDEX
                logits, y = logits[keep], targets[keep]
                total += float(cross_entropy(logits, y, reduction="sum"))
                hits += int((logits.argmax(axis=1) == y).sum())
                n += len(y)
        if not n:
            raise ValueError("nothing to score: no assistant tokens with weight 1 in these records")
        loss = total / n
        return {"loss": loss, "perplexity": math.exp(loss), "token_accuracy": hits / n,
                "n_tokens": n}

    # ------------------------------------------------------------------------- files

    def save(self, path, *, overwrite=False, info=None):
        """Write the weights (``.npz``) and a ``.json`` with config, format version and hash."""
        return save_model(path, self.params, asdict(self.config), {**self.info, **(info or {})},
                          overwrite=overwrite, architecture="transformer")

    @classmethod
    def from_weights(cls, path, meta, params):
        """The model described by a checked ``.json`` (``meta``) with its weights; see ``load``."""
        path = Path(path)
        try:
            model = cls(TransformerConfig(**meta["config"]),
                        dtype=next(iter(params.values())).dtype)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path.with_suffix('.json')}: its 'config' does not describe a "
                             f"tiny transformer ({err})") from None
        check_shapes(path, params, model.params)
        model.params = params
        model.info = {"name": path.stem, **meta.get("info", {})}
        return model


def _initial_weights(c, rng):
    """GPT-2's initialisation: N(0, 0.02) weights, zero biases, LayerNorm gains 1. The projections
    that write into the residual stream are shrunk by √(2 · layers), so the stream's variance
    does not grow with depth."""
    d = c.width
    normal = lambda *shape, std=0.02: rng.standard_normal(shape) * std  # noqa: E731
    residual = 0.02 / math.sqrt(2 * c.n_layers)
    params = {"tok_emb": normal(c.vocab_size, d), "pos_emb": normal(c.context_size, d, std=0.01)}
    for layer in range(c.n_layers):
        h = f"h{layer}."
        params.update({
            h + "ln1_g": np.ones(d), h + "ln1_b": np.zeros(d),
            h + "Wqkv": normal(d, 3 * d), h + "bqkv": np.zeros(3 * d),
            h + "Wo": normal(d, d, std=residual), h + "bo": np.zeros(d),
            h + "ln2_g": np.ones(d), h + "ln2_b": np.zeros(d),
            h + "W1": normal(d, 4 * d), h + "b1": np.zeros(4 * d),
            h + "W2": normal(4 * d, d, std=residual), h + "b2": np.zeros(d),
        })
    params.update({"lnf_g": np.ones(d), "lnf_b": np.zeros(d)})
    return params
