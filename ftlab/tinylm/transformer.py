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


# Rows must share at least this many first tokens for loss_and_grads to compute them once.
MIN_SHARED = 16
# A group of rows (see _similar_lengths) may compute at most this many times their own positions.
MAX_PADDING = 1.1


def shared_start(tokens, targets):
    """How many first positions all rows of a batch share and train on none of.

    Those positions compute the same in every row (a later token cannot change an earlier one),
    so one row can compute them for all. A position whose target is counted is not shared: its
    target is the next token, which may differ between rows.

    >>> shared_start(np.array([[1, 2, 3], [1, 2, 4]]), np.full((2, 3), IGNORE_INDEX))
    2
    """
    if len(tokens) < 2:
        return 0
    alike = (tokens == tokens[0]).all(axis=0) & (targets == IGNORE_INDEX).all(axis=0)
    # keep one position apart at least: the rows' own part must not be empty
    return int(np.argmin(alike)) if not alike.all() else tokens.shape[1] - 1


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
    # random position, with the defaults of default_hyperparameters
    reads_whole_sequences = True
    shifts_positions = True
    base_learning_rate = 5e-5
    # chosen on the tickets data (data/models/README.md): these on the 72 examples of
    # tickets_train.jsonl ...
    finetune_defaults = {"n_epochs": 12, "batch_size": 2, "learning_rate_multiplier": 1.0,
                         "lr_schedule": "constant"}
    # ... and these from LARGE_SET examples on (chosen on 1,300 tickets)
    LARGE_SET = 256
    large_set_defaults = {"n_epochs": 3, "batch_size": 8, "learning_rate_multiplier": 8.0,
                          "lr_schedule": "linear"}
    # loss_and_grads computes the start that a batch's rows share (a system prompt) once: the
    # same results up to float rounding, 2.7x faster on the tickets (see loss_and_grads)
    shares_common_start = True

    def __init__(self, config=None, *, seed=0, dtype=np.float32):
        self.config = config or TransformerConfig()
        self.dtype = np.dtype(dtype)
        self.params = {k: v.astype(self.dtype) for k, v in
                       _initial_weights(self.config, np.random.default_rng(seed)).items()}
        self.checkpoints = []  # filled by finetune: one copy of the weights per epoch
        self.info = {}  # where the weights came from (pretraining corpus, fine-tuning runs)

    @classmethod
    def default_hyperparameters(cls, n_examples):
        """What ``finetune`` uses for what a call leaves out, for ``n_examples`` examples.

        A small set needs many epochs of small batches; a large one fewer epochs of larger
        batches at a higher rate decaying to 0, which keeps a fine-tune of 1,300 tickets under a
        minute.

        >>> TinyTransformer.default_hyperparameters(72)["n_epochs"]
        12
        >>> TinyTransformer.default_hyperparameters(1300)["lr_schedule"]
        'linear'
        """
        large = n_examples >= cls.LARGE_SET
        return dict(cls.large_set_defaults if large else cls.finetune_defaults)

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
        self._check_fits(tokens, offset)
        x = self._embed(tokens, offset)
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
        grads, dx = self._output_backward(dlogits, final, y)
        for layer in reversed(range(c.n_layers)):
            dx, block_grads, _ = block_backward(dx, blocks[layer], p, f"h{layer}.")
            grads.update(block_grads)
        grads["pos_emb"] = np.zeros_like(p["pos_emb"])
        self._lookup_backward(grads, dx, tokens, offset)
        return grads

    def _output_backward(self, dlogits, final, y):
        """Gradients of logits = layer_norm(x) Eᵀ: the output layer's share of E's, the final
        layer norm's, and dx."""
        c, p = self.config, self.params
        dl = dlogits.reshape(-1, c.vocab_size)
        # the output layer is the embedding matrix: its gradient gets a share from here ...
        grads = {"tok_emb": dl.T @ y.reshape(-1, c.width)}
        dx = (dl @ p["tok_emb"]).reshape(y.shape)
        dx, grads["lnf_g"], grads["lnf_b"] = layer_norm_backward(dx, final)
        return grads, dx

    def _lookup_backward(self, grads, dx, tokens, offset):
        """Adds to ``grads`` the gradients of the input x = E[token] + P[position]."""
        # ... and one from the lookup E[token] = onehot(token) @ E: rows of dx added into the
        # rows of the tokens read (a repeated token adds several times)
        flat = dx.reshape(-1, self.config.width)
        onehot = np.zeros((len(flat), self.config.vocab_size), dtype=flat.dtype)
        onehot[np.arange(len(flat)), tokens.ravel()] = 1
        grads["tok_emb"] += onehot.T @ flat
        grads["pos_emb"][offset:offset + tokens.shape[1]] += dx.sum(axis=0)  # a row per position

    def loss_and_grads(self, tokens, targets, offset=0):
        """Mean cross-entropy over counted targets (B, T), its gradients, and the logits.

        dloss/dlogits is (softmax(logits) - onehot(target)) / n_counted on counted positions and
        0 on the rest (prompts, weight-0 replies, padding): ``IGNORE_INDEX`` as in
        ``ftlab.cross_entropy``.

        With ``shares_common_start`` (the default), rows that start alike (chats with the same
        system prompt) share that start's work: it is computed once, and every row attends to
        it (``_forward_shared``). The loss and the gradients are the same as without sharing,
        up to float rounding; the logits are computed only where the loss counts them (0
        elsewhere). A fine-tune that rounds differently drifts onto a slightly different path,
        so results recorded without sharing reproduce only with
        ``model.shares_common_start = False``.
        """
        tokens, targets = np.asarray(tokens), np.asarray(targets)
        logits, cache, backward = self._forward_counted(tokens, targets, offset)
        flat, y = logits.reshape(-1, self.config.vocab_size), targets.ravel()
        rows = np.flatnonzero(y != IGNORE_INDEX)
        loss = float(cross_entropy(flat[rows], y[rows])) if len(rows) else math.nan
        dflat = np.zeros_like(flat)
        picked = flat[rows]
        picked = np.exp(picked - picked.max(axis=1, keepdims=True))
        picked /= picked.sum(axis=1, keepdims=True)
        picked[np.arange(len(rows)), y[rows]] -= 1
        dflat[rows] = picked / max(len(rows), 1)
        return loss, backward(cache, dflat.reshape(logits.shape)), logits

    def counted_logits(self, tokens, targets):
        """Logits (B, T, vocab) at the positions whose ``targets`` count, for scoring (the
        others may be 0); a start the rows share is computed once, as in ``loss_and_grads``."""
        return self._forward_counted(np.asarray(tokens), np.asarray(targets), 0)[0]

    def _forward_counted(self, tokens, targets, offset):
        """(logits, cache, the backward that goes with them): shared or plain."""
        shared = shared_start(tokens, targets) if self.shares_common_start else 0
        if shared >= MIN_SHARED:
            return (*self._forward_shared(tokens, targets, offset, shared), self._backward_shared)
        return (*self.forward(tokens, offset), self.backward)

    def _forward_shared(self, tokens, targets, offset, n):
        """``forward`` for rows whose first ``n`` tokens are the same (see ``shared_start``).

        Those ``n`` positions (the head) go through the model once, as one row. The rest of each
        row is cut after its last counted target (later positions change nothing it counts),
        and rows of similar length go through together (``_similar_lengths``), attending to the
        head's keys and values as to their own earlier positions. The last layer computes its
        output only from a group's first counted position on (earlier positions give it keys
        and values, but no logit of theirs is counted), and only those logits are computed;
        the others are left at 0.
        """
        c, p = self.config, self.params
        self._check_fits(tokens, offset)
        groups = _similar_lengths(targets, n)
        head = self._embed(tokens[:1, :n], offset)
        xs = [self._embed(tokens[rows, n:end], offset + n) for rows, end, _ in groups]
        head_caches, caches = [], [[] for _ in groups]
        for layer in range(c.n_layers):
            last = layer == c.n_layers - 1  # its outputs are read only where a target counts
            # (and the head's by nobody: the rows read its keys and values)
            head, cache, kv = block(head, p, f"h{layer}.", c.n_heads, first_query=n if last else 0)
            head_caches.append(cache)
            for i, x in enumerate(xs):
                xs[i], cache, _ = block(x, p, f"h{layer}.", c.n_heads, past=kv,
                                        first_query=groups[i][2] if last else 0)
                caches[i].append(cache)
        logits = np.zeros((*tokens.shape, c.vocab_size), dtype=self.dtype)
        outputs = []
        for (rows, end, first), x in zip(groups, xs):
            y, final = layer_norm(x, p["lnf_g"], p["lnf_b"])
            logits[rows, n + first:end] = y @ p["tok_emb"].T
            outputs.append((final, y))
        return logits, (tokens, offset, n, groups, head_caches, caches, outputs)

    def _backward_shared(self, cache, dlogits):
        """``backward`` for ``_forward_shared``. The head counts no target itself: its gradient
        comes from the rows that attended to it, added up over the rows."""
        tokens, offset, n, groups, head_caches, caches, outputs = cache
        c, p = self.config, self.params
        grads, dxs = {}, []
        for (rows, end, first), (final, y) in zip(groups, outputs):
            group_grads, dx = self._output_backward(dlogits[rows, n + first:end], final, y)
            _add_into(grads, group_grads)
            dxs.append(dx)
        dhead = np.zeros((1, 0, c.width), dtype=self.dtype)  # the last layer's head outputs none
        for layer in reversed(range(c.n_layers)):
            dkv = (0, 0)
            for i in range(len(groups)):
                dxs[i], group_grads, dpast = block_backward(dxs[i], caches[i][layer], p,
                                                            f"h{layer}.")
                _add_into(grads, group_grads)
                dkv = (dkv[0] + dpast[0], dkv[1] + dpast[1])
            dhead, head_grads, _ = block_backward(dhead, head_caches[layer], p, f"h{layer}.",
                                                  dkv=dkv if groups else None)
            _add_into(grads, head_grads)
        grads.setdefault("tok_emb", np.zeros_like(p["tok_emb"]))
        grads["pos_emb"] = np.zeros_like(p["pos_emb"])
        self._lookup_backward(grads, dhead, tokens[:1, :n], offset)
        for (rows, end, _), dx in zip(groups, dxs):
            self._lookup_backward(grads, dx, tokens[rows, n:end], offset + n)
        for name in ("lnf_g", "lnf_b"):
            grads.setdefault(name, np.zeros_like(p[name]))
        return grads

    def _check_fits(self, tokens, offset):
        if tokens.ndim != 2 or offset + tokens.shape[1] > self.config.context_size:
            raise ValueError(f"tokens must be (sequences, positions) with at most "
                             f"{self.config.context_size - offset} positions, got shape "
                             f"{tokens.shape}")

    def _embed(self, tokens, offset):
        """x = E[token] + P[position] for tokens (B, T) placed from position ``offset``."""
        return self.params["tok_emb"][tokens] + self.params["pos_emb"][offset:offset + tokens.shape[1]]

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


def _similar_lengths(targets, start):
    """Rows that count a target, cut after their last counted one and grouped by length: a list
    of (row indices, end, first counted position after ``start``). A group computes every row
    up to its longest row's end; sorting the rows by length and starting a new group when that
    would make more than ``MAX_PADDING`` times the rows' own positions keeps the waste small."""
    counted = targets[:, start:] != IGNORE_INDEX
    ends = targets.shape[1] - np.argmax(counted[:, ::-1], axis=1)
    rows = sorted(np.flatnonzero(counted.any(axis=1)), key=lambda r: ends[r])
    groups, group = [], []
    for r in rows:
        needed = sum(ends[i] - start for i in group) + ends[r] - start
        if group and (ends[r] - start) * (len(group) + 1) > MAX_PADDING * needed:
            groups.append(group)
            group = []
        group.append(r)
    groups += [group] if group else []
    return [(np.array(g), int(ends[g[-1]]), int(np.argmax(counted[g].any(axis=0))))
            for g in groups]


def _add_into(grads, more):
    for name, grad in more.items():
        grads[name] = grads[name] + grad if name in grads else grad


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
