"""Whole sequences for the transformer: shifting, cutting to the context, padding into batches.

The MLP predicts each token from a fixed window of characters before it (``text.contexts``). The
transformer instead reads a whole sequence and predicts every next token at once: the output at
position ``i`` is its guess for token ``i + 1``. So a rendered chat ``tokens, targets`` becomes
``inputs = tokens[:-1]`` and ``targets = targets[1:]``; positions the loss ignores keep
``IGNORE_INDEX``. Plain text gets a ``<|pad|>`` in front, which the transformer reads as "start of
text", so that its first character is predicted too.

A chat longer than the context is cut into overlapping windows; each target is counted in exactly
one window, with at least half a context of text before it.

>>> x, y = shift(*render_chat({"messages": [{"role": "user", "content": "Hi"},
...                                         {"role": "assistant", "content": "Yo"}]}))
>>> decode(x, specials=True), [decode([t]) if t >= 0 else "-" for t in y]
('<|user|>Hi<|end|><|assistant|>Yo', ['-', '-', '-', '-', 'Y', 'o', ''])
"""

import numpy as np

from ftlab.tinylm.text import IGNORE_INDEX, PAD, decode, encode, render_chat  # noqa: F401


def shift(tokens, targets):
    """(inputs, targets) of a rendered sequence: each position predicts the next token."""
    return np.asarray(tokens[:-1], dtype=np.int64), np.asarray(targets[1:], dtype=np.int64)


def text_sequence(text):
    """(inputs, targets) of plain text: every character is a target, the first one too."""
    tokens = np.concatenate([[PAD], encode(text)]).astype(np.int64)
    return tokens[:-1], tokens[1:]


def windows(inputs, targets, context_size):
    """Cut a sequence into pieces of at most ``context_size`` positions.

    Short sequences stay whole. A long one gets windows that overlap by half a context: each
    window counts only the targets no earlier window counted, so the loss sums every target once,
    and each counted target sees at least ``context_size // 2`` tokens before it. Positions after
    a window's last counted target are dropped: with a causal model they cannot change the loss.

    >>> [(len(x), int((y >= 0).sum())) for x, y in windows(np.arange(10), np.arange(10), 4)]
    [(4, 4), (4, 2), (4, 2), (4, 2)]
    """
    n = len(inputs)
    out, done, start = [], 0, 0
    while done < n:
        end = min(start + context_size, n)
        y = targets[start:end].copy()
        y[:done - start] = IGNORE_INDEX  # counted by the window before
        counted = np.flatnonzero(y != IGNORE_INDEX)
        if len(counted):
            keep = counted[-1] + 1
            out.append((inputs[start:start + keep], y[:keep]))
        done = end
        start = max(0, min(done - context_size // 2, n - context_size))
    return out


def pad_batch(pieces):
    """One (B, T) token matrix and (B, T) target matrix from pieces of different lengths.

    Shorter pieces are padded at the end: under the causal mask, padding that comes after a
    token cannot change that token's output, and its targets are ``IGNORE_INDEX``.
    """
    length = max(len(x) for x, _ in pieces)
    tokens = np.full((len(pieces), length), PAD, dtype=np.int64)
    targets = np.full((len(pieces), length), IGNORE_INDEX, dtype=np.int64)
    for row, (x, y) in enumerate(pieces):
        tokens[row, :len(x)] = x
        targets[row, :len(y)] = y
    return tokens, targets


def length_batches(pieces, max_tokens):
    """Group pieces of similar length into padded batches of about ``max_tokens`` positions
    (for evaluation, where the order does not matter): little padding, bounded memory."""
    order = sorted(range(len(pieces)), key=lambda i: len(pieces[i][0]))
    batch, longest = [], 0
    for i in order:
        longest = max(longest, len(pieces[i][0]))
        if batch and longest * (len(batch) + 1) > max_tokens:
            yield pad_batch([pieces[j] for j in batch])
            batch, longest = [], len(pieces[i][0])
        batch.append(i)
    if batch:
        yield pad_batch([pieces[j] for j in batch])
