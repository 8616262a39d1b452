"""The pieces of a transformer block, each with its forward and its backward pass written out.

A pre-LayerNorm decoder block (GPT-2's layout) is two residual branches::

    x = x + attention(layer_norm(x))        every position mixes in what came before it
    x = x + mlp(layer_norm(x))              then thinks about it alone

Each function below takes arrays and returns its output plus a ``cache`` of what its backward
needs; each ``*_backward`` takes the gradient of the loss w.r.t. the output and returns the
gradients w.r.t. the input and the weights. Shapes: ``B`` sequences, ``T`` positions, width ``d``,
``H`` heads of ``d / H`` numbers each. Everything stays in the weights' dtype (float32, or
float64 for the gradient check).
"""

import numpy as np

LN_EPS = 1e-5


# ----------------------------------------------------------------------------- layer norm


def layer_norm(x, gain, bias):
    """Normalise each position's vector to mean 0 and variance 1, then scale and shift it.

    Keeps every block's input on the same scale however deep the residual stream has grown, so
    one learning rate suits all layers.
    """
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + LN_EPS)
    xhat = centred * inv_std
    return xhat * gain + bias, (xhat, inv_std, gain)


def layer_norm_backward(dy, cache):
    """Gradients of layer_norm. The mean and the variance depend on every element of the vector,
    so each input's gradient has two correction terms besides its own path:
    dx = (dxhat - mean(dxhat) - xhat · mean(dxhat · xhat)) / std."""
    xhat, inv_std, gain = cache
    lead = tuple(range(dy.ndim - 1))
    dgain = (dy * xhat).sum(axis=lead)
    dbias = dy.sum(axis=lead)
    dxhat = dy * gain
    dx = dxhat - dxhat.mean(axis=-1, keepdims=True)
    dx -= xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    dx *= inv_std
    return dx, dgain, dbias


# ----------------------------------------------------------------------------- linear layers


def linear(x, w, b):
    """x w + b over the last axis; (B, T, d_in) arrays are multiplied as one (B·T, d_in) matrix,
    which is what BLAS is fastest at."""
    return (x.reshape(-1, x.shape[-1]) @ w + b).reshape(*x.shape[:-1], w.shape[1])


def linear_backward(dy, x, w):
    """Gradients of linear: dx = dy wᵀ, dw = xᵀ dy, db = sum of dy over positions."""
    dy2 = dy.reshape(-1, dy.shape[-1])
    x2 = x.reshape(-1, x.shape[-1])
    dx = (dy2 @ w.T).reshape(x.shape)
    return dx, x2.T @ dy2, dy2.sum(axis=0)


# ----------------------------------------------------------------------------- attention


def split_heads(x, n_heads):
    """(B, T, d) -> (B, H, T, d/H): each head works on its own slice of the width."""
    b, t, d = x.shape
    return x.reshape(b, t, n_heads, d // n_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """(B, H, T, d/H) -> (B, T, d): the heads' outputs side by side again."""
    b, h, t, hd = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, h * hd)


def causal_mask(t, dtype):
    """(T, T) additive mask: 0 where position i may look at j (j <= i), -inf where j is later.

    -inf becomes exactly 0 after the softmax, so a later token cannot change an earlier logit:
    that is what lets one forward pass train every position of a sequence at once.
    """
    return np.triu(np.full((t, t), -np.inf, dtype=dtype), k=1)


def softmax_last(scores):
    """Softmax over the last axis, in place on ``scores``; subtracting the row maximum first
    keeps exp from overflowing and changes nothing else."""
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


def attention(x, p, prefix, n_heads, past=None, first_query=0):
    """Causal multi-head self-attention on ``x`` (B, T, d); weights ``p[prefix + name]``.

    q, k, v = x Wqkv (one matrix product for all three, then split); per head
    softmax(q kᵀ / √(d/H) + mask) v; the heads merged and projected by Wo. Returns the output,
    the cache, and the keys and values (generation keeps them: the KV cache).

    ``past``: the keys and values, (1, H, P, d/H) each, of P positions that come before every
    row of ``x`` (the start that a batch of chats shares); each row attends to them too.
    ``first_query``: compute the output only from that position on (every position still gives
    its key and value), for a last layer whose earlier outputs nobody reads.
    """
    d = x.shape[-1]
    qkv = linear(x, p[prefix + "Wqkv"], p[prefix + "bqkv"])
    q, k, v = (split_heads(qkv[..., i * d:(i + 1) * d], n_heads) for i in range(3))
    # Scaling q (T x d/H numbers) costs less than scaling the scores (T x T).
    q = q[:, :, first_query:] * x.dtype.type(1.0 / np.sqrt(d // n_heads))
    keys, values, mask = k, v, causal_mask(x.shape[1], x.dtype)[first_query:]
    if past is not None:
        shape = (len(x), *past[0].shape[1:])
        keys = np.concatenate([np.broadcast_to(past[0], shape), k], axis=2)
        values = np.concatenate([np.broadcast_to(past[1], shape), v], axis=2)
        mask = np.concatenate([np.zeros((len(mask), shape[2]), x.dtype), mask], axis=1)
    scores = q @ keys.transpose(0, 1, 3, 2)
    scores += mask
    probs = softmax_last(scores)
    heads = probs @ values
    mixed = merge_heads(heads)
    out = linear(mixed, p[prefix + "Wo"], p[prefix + "bo"])
    return out, (x, q, keys, values, probs, heads, mixed), (k, v)


def attention_backward(dout, cache, p, prefix, dkv=None):
    """Gradients of attention, each step of the forward pass undone in reverse order.

    The softmax's backward: for probabilities P and upstream gradient dP,
    dS = P ⊙ (dP - rowsum(dP ⊙ P)). Masked entries have P = 0, so they get no gradient. The
    row sums need no (T x T) product: rowsum(dP ⊙ P)_i = Σ_j (dO_i · v_j) P_ij = dO_i · O_i,
    the dot product of a head's output with its gradient (the trick FlashAttention uses).

    ``dkv``: gradients w.r.t. this call's own keys and values from rows that read them as their
    ``past``; they add to those from its own queries. Returns dx, the weights' gradients and the
    gradients w.r.t. ``past`` (summed over the rows that shared it; None if there was none).
    """
    x, q, keys, values, probs, heads, mixed = cache
    n_heads, n_past = q.shape[1], keys.shape[2] - x.shape[1]
    scale = x.dtype.type(1.0 / np.sqrt(x.shape[-1] // n_heads))
    dmixed, dWo, dbo = linear_backward(dout, mixed, p[prefix + "Wo"])
    dheads = split_heads(dmixed, n_heads)                     # d(probs @ v)
    dv = probs.transpose(0, 1, 3, 2) @ dheads
    dscores = dheads @ values.transpose(0, 1, 3, 2)           # dP, then dS in place
    dscores -= (dheads * heads).sum(axis=-1, keepdims=True)
    dscores *= probs
    dq = (dscores @ keys) * scale                             # q was scaled in the forward
    dk = dscores.transpose(0, 1, 3, 2) @ q
    dpast = None
    if n_past:  # every row read the same past: their gradients add up
        dpast = (dk[:, :, :n_past].sum(axis=0, keepdims=True),
                 dv[:, :, :n_past].sum(axis=0, keepdims=True))
        dk, dv = dk[:, :, n_past:], dv[:, :, n_past:]
    if dkv is not None:
        dk, dv = dk + dkv[0], dv + dkv[1]
    if dq.shape[2] < dk.shape[2]:  # queries from first_query on: the earlier ones had none
        dq = np.concatenate([np.zeros_like(dk[:, :, :dk.shape[2] - dq.shape[2]]), dq], axis=2)
    dqkv = np.concatenate([merge_heads(g) for g in (dq, dk, dv)], axis=-1)
    dx, dWqkv, dbqkv = linear_backward(dqkv, x, p[prefix + "Wqkv"])
    return dx, {prefix + "Wqkv": dWqkv, prefix + "bqkv": dbqkv, prefix + "Wo": dWo,
                prefix + "bo": dbo}, dpast


# ----------------------------------------------------------------------------- feed-forward


def mlp(x, p, prefix):
    """Position-wise feed-forward: relu(x W1 + b1) W2 + b2, 4x wider in the middle.

    ReLU rather than GELU: as good at this size, and its backward is a mask, so the elementwise
    work stays small next to the matrix products.
    """
    hidden = linear(x, p[prefix + "W1"], p[prefix + "b1"])
    np.maximum(hidden, 0, out=hidden)
    return linear(hidden, p[prefix + "W2"], p[prefix + "b2"]), (x, hidden)


def mlp_backward(dout, cache, p, prefix):
    x, hidden = cache
    dhidden, dW2, db2 = linear_backward(dout, hidden, p[prefix + "W2"])
    dhidden *= hidden > 0  # relu passes the gradient where it was active
    dx, dW1, db1 = linear_backward(dhidden, x, p[prefix + "W1"])
    return dx, {prefix + "W1": dW1, prefix + "b1": db1, prefix + "W2": dW2, prefix + "b2": db2}


# ----------------------------------------------------------------------------- one block


def block(x, p, prefix, n_heads, past=None, first_query=0):
    """One pre-LayerNorm decoder block; returns the new residual stream, the cache, and (k, v).
    ``past`` and ``first_query``: as for ``attention`` (the stream returned starts there)."""
    a, ln1 = layer_norm(x, p[prefix + "ln1_g"], p[prefix + "ln1_b"])
    attended, att, kv = attention(a, p, prefix, n_heads, past, first_query)
    x = x[:, first_query:] + attended
    m, ln2 = layer_norm(x, p[prefix + "ln2_g"], p[prefix + "ln2_b"])
    fed, ff = mlp(m, p, prefix)
    return x + fed, (ln1, att, ln2, ff), kv


def block_backward(dx, cache, p, prefix, dkv=None):
    """Backward through one block. A residual connection copies its gradient to both paths,
    so each branch's input gradient is added to the one flowing straight through. ``dkv`` and
    the third value returned (the gradients w.r.t. ``past``): as for ``attention_backward``."""
    ln1, att, ln2, ff = cache
    dm, grads = mlp_backward(dx, ff, p, prefix)
    dm, grads[prefix + "ln2_g"], grads[prefix + "ln2_b"] = layer_norm_backward(dm, ln2)
    dx = dx + dm
    da, att_grads, dpast = attention_backward(dx, att, p, prefix, dkv)
    grads.update(att_grads)
    da, grads[prefix + "ln1_g"], grads[prefix + "ln1_b"] = layer_norm_backward(da, ln1)
    da[:, da.shape[1] - dx.shape[1]:] += dx  # the stream went on from first_query only
    return da, grads, dpast
