"""Exercises of notebook 01, cross-entropy."""

import math

from ftlab.course.exercise import add


def _ce_of_prob(p):
    from ftlab.losses import cross_entropy_from_probs

    return float(cross_entropy_from_probs([p, 1 - p], 0))


def _ce_of_prob_uniform(v):
    import numpy as np

    from ftlab.losses import cross_entropy

    return float(cross_entropy(np.zeros((1, v)), [0]))


def _gap_table():
    """Section 3's table: bigram models fitted on more and more training text (add-0.1 counts),
    each scored on its own training text and on the same validation text."""
    import pandas as pd

    from ftlab.tinylm.ngram import CharBigram, default_corpus

    train_text, valid_text = default_corpus()
    rows = []
    for n in (500, 2_000, 10_000, 50_000, len(train_text)):
        m = CharBigram.fit(train_text[:n], smoothing=0.1)
        rows.append({"training characters": n, "training loss": float(m.loss(train_text[:n])),
                     "validation loss": float(m.loss(valid_text))})
    return pd.DataFrame(rows)


def _which_model():
    """The option that matches the table: the model with the lowest validation loss."""
    table = _gap_table()
    best = table["validation loss"].idxmin()
    if best == table["training characters"].idxmax():
        return "b"
    return "a" if best == table["training loss"].idxmin() else "c"


add(
    "01-which-model",
    question=("The table and plot above fit the same bigram model on more and more training text "
              "and score each on the same validation text. Which one would you use to predict "
              "new text?"),
    choices={
        "a": ("the one fitted on 500 characters: it has the lowest training loss",
              "Its training loss is the lowest because it is scored on the very text it counted. "
              "On the validation text, which stands in for new text, it has the highest loss of "
              "the five: it fits its 500 characters, not the language."),
        "b": ("the one fitted on the whole training text: it has the lowest validation loss", ""),
        "c": ("any of them: every one is below the uniform guess ln V",
              "Being below ln V is the least a model must do, not a reason to pick it: the "
              "validation losses in the table differ from row to row, and the lowest one "
              "predicts text the model never counted best."),
    },
    solution=_which_model,
    hint=("Which column scores each model on text it did not count? Find the row where that "
          "column is lowest."),
    worked="""
tinylm = ftlab.tinylm
train_text, valid_text = tinylm.default_corpus()
rows = []
for n in (500, 2_000, 10_000, 50_000, len(train_text)):
    m = tinylm.CharBigram.fit(train_text[:n], smoothing=0.1)
    rows.append({"training characters": n, "training loss": float(m.loss(train_text[:n])),
                 "validation loss": float(m.loss(valid_text))})
table = pd.DataFrame(rows)
print(table.round(3).to_string(index=False))
best = table["validation loss"].idxmin()     # validation = text the model never counted
print(f"lowest validation loss: {table.loc[best, 'validation loss']:.3f}, "
      f"fitted on {table.loc[best, 'training characters']:,} characters")
if best == table["training characters"].idxmax():
    answer = "b"
else:
    answer = "a" if best == table["training loss"].idxmin() else "c"
""",
    why=("Right: the validation loss scores each model on text it never counted, the nearest "
         "thing here to new text, and the model fitted on the whole training text scores best. "
         "The lowest training loss belongs to the model that fits its own few characters best, "
         "which is overfitting."),
)


add(
    "01-uniform-loss",
    question="What is the loss (in nats, to 2 decimals) of a model that gives each of 10 tokens "
             "probability 1/10?",
    solution=lambda: _ce_of_prob_uniform(10),
    decimals=2,
    hint="The loss of one token is -ln(the probability of the right token).",
    worked="""
p_right = 1 / 10                 # every token, the right one included, gets 1/10
answer = -math.log(p_right)      # cross-entropy of one token: -ln p
print(f"-ln(1/10) = ln(10) = {answer:.4f} nats")
""",
    why="A uniform guess over V tokens costs -log(1/V) = ln(V) nats on every token: ln(10) ≈ {answer:.3f}.",
    mistakes=[
        (lambda: math.log10(10), "That is log10(10). Losses use the natural log, so the answer is ln(10)."),
        (lambda: math.log2(10), "That is in bits (log base 2). Fine-tuning losses are in nats: use ln."),
        (lambda: 0.1, "That is the probability, not the loss. The loss is -ln(probability)."),
        (lambda: 10.0, "That is the perplexity e^L. The question asks for the loss L itself."),
    ],
)


add(
    "01-mean-loss",
    question=("A model gives the correct token probabilities 0.5, 0.25 and 0.8 at three assistant "
              "positions. What is the mean cross-entropy over those tokens (nats, 3 decimals)?"),
    solution=lambda: (_ce_of_prob(0.5) + _ce_of_prob(0.25) + _ce_of_prob(0.8)) / 3,
    decimals=3,
    hint="Work out -ln p for each token first, then average.",
    worked="""
p_right = np.array([0.5, 0.25, 0.8])
token_losses = -np.log(p_right)          # one loss per token
print("per-token losses:", token_losses.round(3))
answer = token_losses.mean()             # the reported loss is the mean over tokens
""",
    why="Mean of -ln p over the tokens: (0.693 + 1.386 + 0.223) / 3 ≈ {answer:.3f} nats.",
    mistakes=[
        (lambda: -math.log((0.5 + 0.25 + 0.8) / 3),
         "You took -ln of the mean probability. Average the per-token losses -ln p instead."),
        (lambda: _ce_of_prob(0.5) + _ce_of_prob(0.25) + _ce_of_prob(0.8),
         "That is the sum over tokens. The reported loss is the mean: divide by the token count."),
    ],
)

add(
    "01-masked-loss",
    question=("Token losses [2.0, 1.5, 0.4, 0.2] where only the last two are assistant tokens. "
              "What loss does chat fine-tuning report (to 2 decimals)?"),
    solution=lambda: _masked_mean([2.0, 1.5, 0.4, 0.2], [False, False, True, True]),
    decimals=2,
    hint="Which tokens does the model get graded on? Average only those.",
    worked="""
token_losses = np.array([2.0, 1.5, 0.4, 0.2])
is_assistant = np.array([False, False, True, True])   # the prompt's tokens are masked out
print("counted:", token_losses[is_assistant])
answer = token_losses[is_assistant].mean()            # divide by the counted tokens only
""",
    why="Only assistant tokens count: (0.4 + 0.2) / 2 = {answer:.3g}. The prompt tokens are masked out.",
    mistakes=[
        (lambda: (2.0 + 1.5 + 0.4 + 0.2) / 4,
         "That averages every token. In chat fine-tuning the prompt tokens are masked (ignored)."),
        (lambda: (0.4 + 0.2) / 4,
         "You masked the prompt tokens but still divided by all 4. Divide by the counted tokens only."),
    ],
)


def _masked_mean(losses, counted):
    import numpy as np

    losses, counted = np.asarray(losses), np.asarray(counted)
    return float(losses[counted].mean())
