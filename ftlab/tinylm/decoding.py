"""Generating with the transformer, one character at a time, with a key/value cache.

Under the causal mask a position's keys and values never change once computed: a later token
cannot alter them. So generation runs the prompt through the model once ("prefill"), keeps every
layer's keys and values, and for each new character computes only that one position: its query
attends over the cached keys. The cost of a character stays one position's work instead of the
whole sequence's.

When the sequence outgrows the context, the model reads only the last ``context_size`` tokens,
which sit at new positions: then each step re-reads that window in full, exactly as
``next_token_logits`` does.
"""

import numpy as np

from ftlab.tinylm.attention import (block, layer_norm, linear, merge_heads, mlp, softmax_last,
                                    split_heads)
from ftlab.tinylm.text import END


class KVCache:
    """Each layer's keys and values, (H, context, d/H) each, filled up to ``length``."""

    def __init__(self, config, dtype):
        shape = (config.n_layers, config.n_heads, config.context_size,
                 config.width // config.n_heads)
        self.keys = np.zeros(shape, dtype=dtype)
        self.values = np.zeros(shape, dtype=dtype)
        self.length = 0


def _final_logits(model, x):
    """Logits of the last position of the residual stream ``x`` (1, T, d), as float64."""
    p = model.params
    y, _ = layer_norm(x[:, -1], p["lnf_g"], p["lnf_b"])
    return (y @ p["tok_emb"].T)[0].astype(np.float64)


def prefill(model, tokens, cache):
    """Run ``tokens`` (at most a context) through the model, filling ``cache`` from position 0;
    returns the logits for the token after them."""
    c, p = model.config, model.params
    x = p["tok_emb"][tokens][None] + p["pos_emb"][:len(tokens)]
    for layer in range(c.n_layers):
        x, _, (k, v) = block(x, p, f"h{layer}.", c.n_heads)
        cache.keys[layer, :, :len(tokens)] = k[0]
        cache.values[layer, :, :len(tokens)] = v[0]
    cache.length = len(tokens)
    return _final_logits(model, x)


def _attend_cached(x, p, prefix, n_heads, keys, values, pos):
    """Attention for one new position ``pos``: its key and value join the cache, its query
    looks at positions 0..pos (all earlier ones: no mask needed)."""
    d = x.shape[-1]
    qkv = linear(x, p[prefix + "Wqkv"], p[prefix + "bqkv"])
    q, k, v = (split_heads(qkv[..., i * d:(i + 1) * d], n_heads) for i in range(3))
    keys[:, pos] = k[0, :, 0]
    values[:, pos] = v[0, :, 0]
    scale = x.dtype.type(1.0 / np.sqrt(d // n_heads))
    probs = softmax_last(q[0] @ keys[:, :pos + 1].transpose(0, 2, 1) * scale)
    mixed = merge_heads((probs @ values[:, :pos + 1])[None])
    return linear(mixed, p[prefix + "Wo"], p[prefix + "bo"])


def step(model, token, cache):
    """Feed one token at the next position; returns the logits for the token after it."""
    c, p = model.config, model.params
    pos = cache.length
    x = (p["tok_emb"][token] + p["pos_emb"][pos])[None, None]
    for layer in range(c.n_layers):
        h = f"h{layer}."
        a, _ = layer_norm(x, p[h + "ln1_g"], p[h + "ln1_b"])
        x = x + _attend_cached(a, p, h, c.n_heads, cache.keys[layer], cache.values[layer], pos)
        m, _ = layer_norm(x, p[h + "ln2_g"], p[h + "ln2_b"])
        x = x + mlp(m, p, h)[0]
    cache.length = pos + 1
    return _final_logits(model, x)


def generate_tokens(model, tokens, *, max_tokens, stop_at_end, pick):
    """Token ids generated after ``tokens`` and the finish reason ("stop" or "length").

    ``pick(logits)`` chooses each next token (greedy, or sampled with temperature/top-p/top-k).
    With ``stop_at_end`` an ``<|end|>`` ends the reply and is not part of it.
    """
    context = model.config.context_size
    sequence = [int(t) for t in tokens]
    cache = KVCache(model.config, model.dtype)
    out, finish = [], "length"
    if max_tokens <= 0:
        return out, finish
    logits = prefill(model, np.array(sequence[-context:]), cache)
    for _ in range(max_tokens):
        token = int(pick(logits))
        if token == END and stop_at_end:
            finish = "stop"
            break
        out.append(token)
        sequence.append(token)
        if len(out) == max_tokens:
            break  # the last token needs no logits after it
        if cache.length < context:
            logits = step(model, token, cache)
        else:  # the window slides: positions change, so read it anew
            logits = prefill(model, np.array(sequence[-context:]), cache)
    return out, finish
