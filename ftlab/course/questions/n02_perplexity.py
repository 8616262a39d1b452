"""Exercises of notebook 02, perplexity."""

import math

from ftlab.course.exercise import add

add(
    "02-perplexity-of-loss",
    question="A validation loss of 1.2 nats corresponds to what perplexity (to 2 decimals)?",
    solution=lambda: _ppl(1.2),
    decimals=2,
    hint="A loss in nats used the natural log; perplexity undoes it with the matching exponential.",
    worked="""
loss = 1.2                      # nats: the loss was computed with the natural log
answer = math.exp(loss)         # perplexity P = e^L
print(f"P = e^{loss} = {answer:.4f}")
""",
    why="P = e^L = e^1.2 ≈ {answer:.2f}: as unsure as a choice among about {answer:.1f} equally likely tokens.",
    mistakes=[
        (lambda: 2 ** 1.2, "That is 2^L. The loss is in nats, so use e^L."),
        (lambda: 10 ** 1.2, "That is 10^L. The loss is in nats (natural log), so use e^L."),
        (lambda: math.log(1.2), "That is ln(L). Perplexity goes the other way: e^L."),
        (lambda: math.exp(-1.2),
         "That is e^(−L), the geometric mean of the right tokens' probabilities; perplexity is "
         "one over it, e^L."),
    ],
)


def _ppl(loss, base=math.e):
    from ftlab.losses import perplexity

    return float(perplexity(loss, base=base))


add(
    "02-corpus-perplexity",
    question=("Batch A has 100 tokens with mean loss 1.0; batch B has 300 tokens with mean loss 2.0. "
              "What is the perplexity over all 400 tokens (to 2 decimals)?"),
    solution=lambda: _ppl((100 * 1.0 + 300 * 2.0) / 400),
    decimals=2,
    hint=("First find the mean loss per token over all 400 tokens (each batch counts as many "
          "times as it has tokens), then turn that one loss into a perplexity."),
    worked="""
tokens = np.array([100, 300])
mean_loss = np.array([1.0, 2.0])
total_loss = (tokens * mean_loss).sum()        # sum of the per-token losses of both batches
loss = total_loss / tokens.sum()               # mean loss per token over all 400
print(f"token-weighted mean loss = {total_loss} / {tokens.sum()} = {loss:.4f} nats")
answer = math.exp(loss)                        # exponentiate once, at the end
print(f"perplexity = e^{loss:.4f} = {answer:.4f}")
""",
    why="Weight each batch's loss by its tokens: L = (100·1 + 300·2)/400 = 1.75, P = e^1.75 ≈ {answer:.2f}.",
    mistakes=[
        (lambda: (_ppl(1.0) + _ppl(2.0)) / 2,
         "You averaged the two batches' perplexities. Average the losses (token-weighted), then exp."),
        (lambda: _ppl((1.0 + 2.0) / 2),
         "You averaged the batch losses without weighting by tokens: batch B has three times as many."),
        (lambda: (100 * _ppl(1.0) + 300 * _ppl(2.0)) / 400,
         "You token-weighted the perplexities. Weight the losses, then take e^L once."),
        (lambda: (100 * 1.0 + 300 * 2.0) / 400,
         "That is the token-weighted mean loss L, the right first step; the perplexity is e^L."),
    ],
)

add(
    "02-bits",
    question="A loss of 2.0 nats is how many bits per token (to 3 decimals)?",
    solution=lambda: _bits(2.0),
    decimals=3,
    hint="One bit is ln 2 ≈ 0.693 nats: how many of those fit in 2.0 nats?",
    worked="""
nats = 2.0
answer = nats / math.log(2)          # 1 bit = ln 2 nats
print(f"{nats} / ln 2 = {nats} / {math.log(2):.4f} = {answer:.4f} bits")
print(f"same perplexity: e^{nats} = {math.exp(nats):.4f}, 2^{answer:.4f} = {2 ** answer:.4f}")
""",
    why="Divide by ln 2: 2.0 / 0.693 ≈ {answer:.3f} bits. The perplexity is the same either way: e^2 = 2^{answer:.3f}.",
    mistakes=[
        (lambda: 2.0 * math.log(2), "You multiplied by ln 2; bits = nats / ln 2."),
        (lambda: 2.0, "Nats and bits differ by a factor ln 2: divide by ln 2."),
        (lambda: math.exp(2.0), "That is the perplexity e^2; the question asks for the loss in bits."),
        (lambda: 2.0 / math.log(10),
         "You divided by ln 10: that gives decimal digits, not bits. Divide by ln 2."),
    ],
)


def _bits(nats):
    from ftlab.losses import nats_to_bits

    return float(nats_to_bits(nats))
