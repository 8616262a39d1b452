"""The course's self-check exercises: ``ftlab.check("01-uniform-loss", answer)`` says whether an
answer is right and, when it matches a known mistake, which one.

Each exercise computes its own expected answer with ftlab (never a typed-in number) and lists the
wrong answers learners typically reach, each with an explanation (``ftlab.course.exercise``).
Exercises are grouped below by notebook, in course order; add a notebook's exercises in its own
section.
"""

import math

from ftlab.course.exercise import CheckResult, Exercise, same

EXERCISES: dict = {}


def _add(name, **kwargs):
    EXERCISES[name] = Exercise(**kwargs)


def check(name, answer):
    """Check a learner's ``answer`` to exercise ``name`` and explain a wrong one.

    >>> check("01-uniform-loss", 2.302585).correct
    True
    >>> print(check("01-uniform-loss", 1.0).message.split(".")[0])
    That is log10(10)
    """
    exercise = EXERCISES.get(name)
    if exercise is None:
        known = ", ".join(sorted(EXERCISES))
        raise ValueError(f"no exercise named {name!r}; known exercises: {known}")
    if answer is None or answer is Ellipsis:
        return CheckResult(name, False, "Replace the `...` with your answer and run the cell again.")
    expected = exercise.solution()
    if same(answer, expected, exercise.rtol):
        return CheckResult(name, True, exercise.why.format(answer=expected))
    for wrong, explanation in exercise.mistakes:
        if same(answer, wrong(), exercise.rtol):
            return CheckResult(name, False, explanation)
    return CheckResult(name, False, f"{answer!r} is not it. Hint: {exercise.question}")


# ----------------------------------------------------------------------------- 01 cross-entropy


def _ce_of_prob(p):
    from ftlab.losses import cross_entropy_from_probs

    return float(cross_entropy_from_probs([p, 1 - p], 0))


def _ce_of_prob_uniform(v):
    import numpy as np

    from ftlab.losses import cross_entropy

    return float(cross_entropy(np.zeros((1, v)), [0]))


_add(
    "01-uniform-loss",
    question="What is the loss of a model that gives each of 10 tokens probability 1/10?",
    solution=lambda: _ce_of_prob_uniform(10),
    why="A uniform guess over V tokens costs -log(1/V) = ln(V) nats on every token: ln(10) ≈ {answer:.3f}.",
    mistakes=[
        (lambda: math.log10(10), "That is log10(10). Losses use the natural log, so the answer is ln(10)."),
        (lambda: math.log2(10), "That is in bits (log base 2). Fine-tuning losses are in nats: use ln."),
        (lambda: 0.1, "That is the probability, not the loss. The loss is -ln(probability)."),
        (lambda: 10.0, "That is the perplexity e^L. The question asks for the loss L itself."),
    ],
)


_add(
    "01-mean-loss",
    question=("A model gives the correct token probabilities 0.5, 0.25 and 0.8 at three assistant "
              "positions. What is the mean cross-entropy over those tokens?"),
    solution=lambda: (_ce_of_prob(0.5) + _ce_of_prob(0.25) + _ce_of_prob(0.8)) / 3,
    why="Mean of -ln p over the tokens: (0.693 + 1.386 + 0.223) / 3 ≈ {answer:.3f} nats.",
    mistakes=[
        (lambda: -math.log((0.5 + 0.25 + 0.8) / 3),
         "You took -ln of the mean probability. Average the per-token losses -ln p instead."),
        (lambda: _ce_of_prob(0.5) + _ce_of_prob(0.25) + _ce_of_prob(0.8),
         "That is the sum over tokens. The reported loss is the mean: divide by the token count."),
    ],
)

_add(
    "01-masked-loss",
    question=("Token losses [2.0, 1.5, 0.4, 0.2] where only the last two are assistant tokens. "
              "What loss does chat fine-tuning report?"),
    solution=lambda: _masked_mean([2.0, 1.5, 0.4, 0.2], [False, False, True, True]),
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


# ----------------------------------------------------------------------------- 02 perplexity

_add(
    "02-perplexity-of-loss",
    question="A validation loss of 1.2 nats corresponds to what perplexity?",
    solution=lambda: _ppl(1.2),
    why="P = e^L = e^1.2 ≈ {answer:.2f}: as unsure as a choice among about {answer:.1f} equally likely tokens.",
    mistakes=[
        (lambda: 2 ** 1.2, "That is 2^L. The loss is in nats, so use e^L."),
        (lambda: 10 ** 1.2, "That is 10^L. The loss is in nats (natural log), so use e^L."),
        (lambda: math.log(1.2), "That is ln(L). Perplexity goes the other way: e^L."),
    ],
)


def _ppl(loss, base=math.e):
    from ftlab.losses import perplexity

    return float(perplexity(loss, base=base))


_add(
    "02-corpus-perplexity",
    question=("Batch A has 100 tokens with mean loss 1.0; batch B has 300 tokens with mean loss 2.0. "
              "What is the perplexity over all 400 tokens?"),
    solution=lambda: _ppl((100 * 1.0 + 300 * 2.0) / 400),
    why="Weight each batch's loss by its tokens: L = (100·1 + 300·2)/400 = 1.75, P = e^1.75 ≈ {answer:.2f}.",
    mistakes=[
        (lambda: (_ppl(1.0) + _ppl(2.0)) / 2,
         "You averaged the two batches' perplexities. Average the losses (token-weighted), then exp."),
        (lambda: _ppl((1.0 + 2.0) / 2),
         "You averaged the batch losses without weighting by tokens: batch B has three times as many."),
        (lambda: (100 * _ppl(1.0) + 300 * _ppl(2.0)) / 400,
         "You token-weighted the perplexities. Weight the losses, then take e^L once."),
    ],
)

_add(
    "02-bits",
    question="A loss of 2.0 nats is how many bits per token?",
    solution=lambda: _bits(2.0),
    why="Divide by ln 2: 2.0 / 0.693 ≈ {answer:.3f} bits. The perplexity is the same either way: e^2 = 2^{answer:.3f}.",
    mistakes=[
        (lambda: 2.0 * math.log(2), "You multiplied by ln 2; bits = nats / ln 2."),
        (lambda: 2.0, "Nats and bits differ by a factor ln 2: divide by ln 2."),
    ],
)


def _bits(nats):
    from ftlab.losses import nats_to_bits

    return float(nats_to_bits(nats))


# ----------------------------------------------------------------------------- 03 loss curves


def _smooth_last(values, weight, debias=True):
    if debias:
        from ftlab.curves.smoothing import smooth

        return float(smooth(values, weight)[-1])
    last = 0.0
    for v in values:
        last = last * weight + (1 - weight) * v
    return last


_add(
    "03-smooth",
    question="TensorBoard-smooth the losses [2.0, 1.0] with weight 0.5: what is the second smoothed value?",
    solution=lambda: _smooth_last([2.0, 1.0], 0.5),
    why="last = 0.5·(0.5·0 + 0.5·2) + 0.5·1 = 1.0, divided by 1 − 0.5² = 0.75: {answer:.4f}. "
        "The debiasing division undoes the pull towards the starting 0.",
    mistakes=[
        (lambda: _smooth_last([2.0, 1.0], 0.5, debias=False),
         "That is the moving average before debiasing: divide by 1 − w^n (n = 2 points so far)."),
        (lambda: 1.5, "That is the plain mean of the two points; the EMA weights the newer one more."),
    ],
)

_add(
    "03-rise",
    question=("In 'patent-insights', by how much (in nats) is the last validation loss above the "
              "best one?"),
    solution=lambda: float(_patent().metrics["valid_loss"].dropna().iloc[-1]
                           - _patent().metrics["valid_loss"].min()),
    why="Last evaluation (step 1600) minus the best (step 100): {answer:.4f} nats. The model got "
        "worse on unseen data for 1500 steps while its training loss kept falling.",
    mistakes=[
        (lambda: float(_patent().metrics["valid_loss"].max() - _patent().metrics["valid_loss"].min()),
         "That is the highest validation loss minus the best; the question asks for the last one."),
        (lambda: float(_patent().metrics["valid_loss"].dropna().iloc[-1]
                       - _patent().metrics["train_loss"].dropna().iloc[-1]),
         "That is the gap between validation and training loss at the end, not the rise of validation."),
    ],
)

_add(
    "03-steps",
    question="A job trains 3 epochs on 250 examples with batch size 8. How many steps does it run?",
    solution=lambda: math.ceil(250 / 8) * 3,
    why="Each epoch needs ceil(250 / 8) = 32 steps (the last batch is partial), so 3 epochs = {answer} steps.",
    mistakes=[
        (lambda: 250 * 3 / 8, "Steps are whole: each epoch rounds up to ceil(250 / 8) = 32 steps."),
        (lambda: (250 // 8) * 3, "Rounding down drops the last, partial batch of every epoch."),
        (lambda: math.ceil(250 / 8), "That is one epoch; the job runs three."),
    ],
)


# ----------------------------------------------------------------------------- 03a reading runs


def _patent():
    from ftlab.runs.samples import load_sample

    return load_sample("patent-insights")


def _lost_marv(page_size, every, paginate=False):
    from ftlab.runs.polling import poll_events
    from ftlab.runs.samples import load_sample

    return poll_events(load_sample("marv"), page_size=page_size, every=every,
                       paginate=paginate)["lost"]


_add(
    "03a-best-step",
    question=("In the shipped run 'patent-insights', at which step is the validation loss lowest? "
              "(Validation ran every 100 steps.)"),
    solution=lambda: _patent().best_valid()[0],
    why="run.best_valid() gives (step, loss): the lowest validation loss is at step {answer}, "
        "the very first evaluation: it never did as well on unseen data again.",
    mistakes=[
        (lambda: int(_patent().metrics["valid_loss"].last_valid_index()),
         "That is the last step with a validation loss, not the lowest one: use idxmin (or "
         "run.best_valid())."),
        (lambda: int(_patent().metrics["train_loss"].idxmin()),
         "That is where the training loss is lowest. The question asks about validation loss."),
    ],
)

_add(
    "03a-epoch",
    question=("'patent-insights' trained 3 epochs of 555 steps. In which epoch (1, 2 or 3) was "
              "step 1200?"),
    solution=lambda: int(_patent().epochs().query("first_step <= 1200 <= last_step").index[0]),
    why="Epoch 1 is steps 1-555, epoch 2 is 556-1110, so step 1200 is in epoch {answer} "
        "(run.epochs() lists each epoch's first and last step).",
    mistakes=[
        (lambda: 1200 // 555,
         "1200 // 555 counts the epochs already finished. Epochs are numbered from 1: add one."),
    ],
)

_add(
    "03a-lost-steps",
    question=("Replay the Marv recording (83 step events: step 2 is already missing) polled every 30 "
              "steps, reading only the newest page of 20 events each time. How many step events "
              "does the loop lose?"),
    solution=lambda: _lost_marv(20, 30),
    why="Each poll finds up to 30 new events but reads only the newest 20, so the older ones "
        "of each burst are lost: {answer} in all. Follow has_more (or read the results file) "
        "and none are lost.",
    mistakes=[
        (lambda: _lost_marv(20, 30, paginate=True),
         "That is what a loop following has_more loses. This one reads only the newest page."),
        (lambda: 10, "Ten is lost at one full poll; count every poll (poll_events tells you)."),
    ],
)


# ----------------------------------------------------------------------------- 04 early stopping


def _stop(values, **kw):
    from ftlab.curves.early_stopping import simulate_early_stopping

    return simulate_early_stopping(values, **kw)


_ES_LOSSES = [0.9, 0.7, 0.72, 0.69, 0.71, 0.73, 0.74]

_add(
    "04-stop-index",
    question=(f"Validation losses {_ES_LOSSES}, Keras rule, patience 2, min_delta 0: at which "
              "evaluation index (0-based) does training stop?"),
    solution=lambda: _stop(_ES_LOSSES, patience=2).stopped_index,
    why="0.69 at index 3 is the best; 0.71 and 0.73 are two evaluations without improvement, so "
        "training stops at index {answer}.",
    mistakes=[
        (lambda: 3, "0.69 at index 3 is an improvement (it beats 0.70), so the counter resets there."),
        (lambda: 2, "Index 2 is only the first evaluation without improvement; patience 2 needs two."),
        (lambda: 6, "Count the evaluations without improvement after the best: the second one stops training."),
    ],
)

_add(
    "04-min-delta",
    question=(f"Same losses {_ES_LOSSES}, Keras rule, patience 2, but min_delta 0.02: at which "
              "index does training stop?"),
    solution=lambda: _stop(_ES_LOSSES, patience=2, min_delta=0.02).stopped_index,
    why="0.69 beats the best 0.70 by only 0.01, less than min_delta, so it does not count as an "
        "improvement: indices 2 and 3 exhaust the patience and training stops at index {answer}.",
    mistakes=[
        (lambda: _stop(_ES_LOSSES, patience=2).stopped_index,
         "That ignores min_delta: with 0.02, 0.69 is not enough of an improvement over 0.70."),
    ],
)

_add(
    "04-hf-best",
    question=("Hugging Face rule, threshold (min_delta) 0.02, patience 3, losses [1.0, 0.99, 0.985, "
              "0.984]: which value does the Trainer hold as best_metric when training stops?"),
    solution=lambda: _stop([1.0, 0.99, 0.985, 0.984], patience=3, min_delta=0.02, flavor="hf").best_value,
    why="The callback's counter ignores improvements smaller than the threshold, but the Trainer "
        "updates best_metric on any improvement: it holds {answer} when the counter reaches 3.",
    mistakes=[
        (lambda: 1.0, "That is what Keras would keep: in Keras the best moves only on an improvement "
                      "bigger than min_delta. Hugging Face's best_metric ignores the threshold."),
    ],
)


# ----------------------------------------------------------------------------- 05 training data


def _default_epochs(n):
    from ftlab.chat.tokens import default_epochs

    return default_epochs(n)


def _leak_line():
    from ftlab._data import data_dir
    from ftlab.chat.validate import validate_chat

    chat = data_dir() / "chat"
    report = validate_chat(chat / "broken_train.jsonl", valid=chat / "marv_valid.jsonl")
    return next(p.line for p in report.problems if p.code == "leakage")


_add(
    "05-default-epochs",
    question="A training file has 25 examples. How many epochs does the service pick with n_epochs='auto'?",
    solution=lambda: _default_epochs(25),
    why="3 epochs would be only 75 example passes, under the minimum of 100, so the rule raises it to "
        "100 // 25 = {answer}.",
    mistakes=[
        (lambda: 3, "3 is the target, but 25 × 3 = 75 example passes is under the minimum of 100."),
        (lambda: 100 / 25 + 1, "The rule uses whole epochs: 100 // 25, no extra epoch."),
        (lambda: 25_000 // 25, "25,000 is the *maximum* number of example passes; this dataset is small."),
    ],
)

_add(
    "05-billed-tokens",
    question=("60 training examples of 200 tokens each (counted with the chat overhead), n_epochs='auto'. "
              "How many tokens are billed?"),
    solution=lambda: 60 * 200 * _default_epochs(60),
    why="60 × 3 = 180 example passes is inside 100–25,000, so 3 epochs: 60 × 200 × 3 = {answer:,} tokens.",
    mistakes=[
        (lambda: 60 * 200, "That is one epoch. Training is billed for every epoch."),
        (lambda: 60 * 200 * 4, "The minimum only matters below 100 example passes; 60 × 3 = 180 is enough."),
    ],
)

_add(
    "05-leak-line",
    question=("Validate data/chat/broken_train.jsonl with valid=data/chat/marv_valid.jsonl. On which line "
              "of the *training* file is the example whose reply leaks from the validation file?"),
    solution=_leak_line,
    why="Line {answer}: its assistant reply is word for word the one on line 1 of marv_valid.jsonl, so the "
        "validation loss would reward memorising it.",
    mistakes=[
        (lambda: 1, "Line 1 is the copy in the *validation* file; the question asks for the training line."),
        (lambda: 21, "Line 21 is a duplicate of line 2 inside the training file, not a leak from validation."),
    ],
)


# ----------------------------------------------------------------------------- 06 data augmentation


def _edit_count(rate, length):
    from ftlab.augment.ops import n_edits

    return n_edits(rate, length)


_add(
    "06-edit-count",
    question="EDA with α = 0.1 on a user message of 8 words: how many words does synonym "
             "replacement replace?",
    solution=lambda: _edit_count(0.1, 8),
    why="n = max(1, floor(α·l)) = max(1, floor(0.8)) = {answer}: EDA always changes at least one "
        "word, so short messages get one edit whatever α is.",
    mistakes=[
        (lambda: 0, "floor(0.1 · 8) = 0, but EDA changes at least one word: n = max(1, floor(α·l))."),
        (lambda: 0.8, "α·l = 0.8 is not a whole number of words: n = max(1, floor(α·l))."),
    ],
)

_add(
    "06-augmented-size",
    question="Section 6 augments the 128 Marv training examples with n_per_example=2 (synonym and "
             "typo, seed 0, valid= the validation file), and augmented.dropped shows a dropped "
             "duplicate. How many examples does augmented.records hold?",
    solution=lambda: len(_marv_augmented().records),
    why="{answer}: the 128 originals stay first, and a dropped variant is replaced by another try "
        "(augment_chat tries up to n_per_example × max_tries times per example), so each example "
        "still gets its 2 variants.",
    mistakes=[
        (lambda: 128 * 3 - sum(_marv_augmented().dropped.values()),
         "A dropped variant is not a missing one: augment_chat tries again (max_tries), so nothing "
         "is subtracted here."),
        (lambda: 128 * 2, "That counts only the variants: augmented.records keeps the 128 originals "
                          "first."),
    ],
)


def _marv_augmented():
    """Section 6 of notebook 06, as it runs there."""
    from ftlab._data import data_dir
    from ftlab.augment.chat import augment_chat
    from ftlab.chat.files import read_chat_jsonl

    chat = data_dir() / "chat"
    return augment_chat(read_chat_jsonl(chat / "marv_train.jsonl"), ["synonym", "typo"],
                        n_per_example=2, seed=0, valid=read_chat_jsonl(chat / "marv_valid.jsonl"))


def _expected_deletions(p, length):
    # each word goes with probability p; when none went, EDA deletes one
    return length * p + (1 - p) ** length


_add(
    "06-deletion-expected",
    question="Random deletion with p = 0.2 on a 10-word message deletes each word with probability "
             "0.2, and one word when chance deleted none. Expected number of words deleted?",
    solution=lambda: _expected_deletions(0.2, 10),
    why="E = l·p + P(none deleted)·1 = 10·0.2 + 0.8^10 ≈ {answer:.3f}: the at-least-one rule adds "
        "a little to l·p.",
    mistakes=[
        (lambda: 2.0, "l·p = 2 forgets the at-least-one rule: add P(no word deleted) = 0.8^10."),
        (lambda: 0.8 ** 10, "0.8^10 is only the chance that no word was deleted; add l·p = 2."),
    ],
)


# ----------------------------------------------------------------------------- 07 training parameters


def _total_steps(n_examples, batch_size, n_epochs):
    return math.ceil(n_examples / batch_size) * n_epochs


_add(
    "07-total-steps",
    question="128 training examples, batch_size=4, n_epochs=3: how many optimiser steps?",
    solution=lambda: _total_steps(128, 4, 3),
    why="ceil(128 / 4) = 32 steps per epoch, times 3 epochs = {answer} steps.",
    mistakes=[
        (lambda: _total_steps(128, 4, 1), "That is one epoch. The job runs 3 of them."),
        (lambda: 128 * 3, "That counts examples seen, not steps: each step takes a batch of 4."),
        (lambda: 128 / 4 / 3, "Epochs multiply the steps; they do not divide them."),
    ],
)


def _stop_epoch(values, patience):
    from ftlab.curves.early_stopping import simulate_early_stopping

    return simulate_early_stopping(values, patience=patience).stopped_index + 1


_EPOCH_LOSSES = [2.74, 2.61, 2.58, 2.57, 2.58, 2.60]

_add(
    "07-early-stop-epoch",
    question=("Full validation losses after epochs 1-6: [2.74, 2.61, 2.58, 2.57, 2.58, 2.60]. "
              "Early stopping with patience 1 (Keras rule): after which epoch does training stop?"),
    solution=lambda: _stop_epoch(_EPOCH_LOSSES, 1),
    why="The best is epoch 4 (2.57); epoch 5 does not improve, and with patience 1 one such "
        "epoch is enough: training stops after epoch {answer} (and restore_best keeps epoch 4).",
    mistakes=[
        (lambda: 4, "Epoch 4 is the best epoch, the one you keep. Training only notices after "
                    "epoch 5 has failed to improve."),
        (lambda: _stop_epoch(_EPOCH_LOSSES, 2),
         "That would be patience 2 (two epochs without improvement); with patience 1, one is enough."),
    ],
)


def _trained_positions():
    from ftlab.tinylm.text import IGNORE_INDEX, render_chat

    example = {"messages": [{"role": "user", "content": "Hi"},
                            {"role": "assistant", "content": "x" * 40, "weight": 0},
                            {"role": "user", "content": "And?"},
                            {"role": "assistant", "content": "y" * 60}]}
    return int((render_chat(example)[1] != IGNORE_INDEX).sum())


_add(
    "07-trained-tokens",
    question=("User message, a 40-character reply with weight 0, another user message, a "
              "60-character reply. How many positions does tinylm's loss count?"),
    solution=_trained_positions,
    why="Only the second reply is trained: its 60 characters plus its closing <|end|> = {answer}.",
    mistakes=[
        (lambda: 60, "Each trained reply also teaches its closing <|end|> token, so the model learns "
                     "to stop."),
        (lambda: 101, "The weight-0 reply is context only: it is not trained on."),
        (lambda: 100, "The weight-0 reply is context only, and the trained one has an <|end|> too."),
    ],
)


# ----------------------------------------------------------------------------- 08 inference parameters


def _temperature_prob():
    from ftlab.sampling import apply_temperature

    return float(apply_temperature([2.0, 1.0, 0.0], 0.5)[0])


_add(
    "08-temperature",
    question="Logits [2, 1, 0]: the probability of token 0 at temperature 0.5?",
    solution=_temperature_prob,
    why="Divide the logits by T: [4, 2, 0]; softmax gives e^4 / (e^4 + e^2 + 1) ≈ {answer:.3f}. "
        "A low temperature sharpens the distribution.",
    mistakes=[
        (lambda: math.exp(2) / (math.exp(2) + math.exp(1) + 1),
         "That is temperature 1 (the plain softmax). Divide the logits by T = 0.5 first."),
        (lambda: math.exp(1) / (math.exp(1) + math.exp(0.5) + 1),
         "You multiplied the logits by 0.5. Temperature divides them: z / T."),
    ],
)


def _top_p_kept():
    from ftlab.sampling import top_p_filter

    return int((top_p_filter([0.5, 0.2, 0.15, 0.1, 0.05], 0.8) > 0).sum())


_add(
    "08-top-p-kept",
    question="Probabilities [0.5, 0.2, 0.15, 0.1, 0.05] and top-p = 0.8: how many tokens can be drawn?",
    solution=_top_p_kept,
    why="0.5 + 0.2 = 0.7 is still below 0.8, and adding 0.15 reaches 0.85: the nucleus is the "
        "{answer} most likely tokens.",
    mistakes=[
        (lambda: 2, "0.5 + 0.2 = 0.7 does not reach 0.8 yet: the set must add up to at least p."),
        (lambda: 4, "The smallest set reaching 0.8 is enough: 0.5 + 0.2 + 0.15 = 0.85 already does."),
    ],
)


def _distribution_perplexity(p):
    from ftlab.widgets.sampling import distribution_entropy

    return math.exp(distribution_entropy(p))


_add(
    "08-distribution-perplexity",
    question="The perplexity e^H of the distribution [0.5, 0.25, 0.25]?",
    solution=lambda: _distribution_perplexity([0.5, 0.25, 0.25]),
    why="H = -(0.5 ln 0.5 + 2 · 0.25 ln 0.25) ≈ 1.040 nats, e^H ≈ {answer:.3f}: fewer than 3 "
        "effective choices, because one token is twice as likely as the others.",
    mistakes=[
        (lambda: 3, "3 is the number of tokens. They are not equally likely, so the effective "
                    "number of choices is smaller."),
        (lambda: -(0.5 * math.log(0.5) + 0.5 * math.log(0.25)),
         "That is the entropy H in nats. Perplexity is e^H."),
        (lambda: -(0.5 * math.log2(0.5) + 0.5 * math.log2(0.25)),
         "That is the entropy in bits. Perplexity is 2^H for bits (e^H for nats)."),
    ],
)


# ----------------------------------------------------------------------------- 09 hosted fine-tuning


def _marv_tokens(which):
    from ftlab.chat.validate import validate_chat
    from ftlab.hosted.jobs import _marv

    return validate_chat(_marv(which), model="gpt-4o-mini-2024-07-18", min_examples=1).n_tokens


_add(
    "09-billed-tokens",
    question="Marv's training file, n_epochs=5, validation file as before: how many tokens are billed?",
    solution=lambda: _marv_tokens("train") * 5,
    why="Billed tokens = training tokens per epoch × epochs = {answer:,}. Validation examples are "
        "scored, not billed.",
    mistakes=[
        (lambda: (_marv_tokens("train") + _marv_tokens("valid")) * 5,
         "You billed the validation file too: its tokens are scored but not billed."),
        (lambda: _marv_tokens("train"), "That is one epoch: the training file is billed once per epoch."),
        (lambda: _marv_tokens("train") * 3, "That is the plan's 3 epochs; the question asks for 5."),
    ],
)

_add(
    "09-event-pages",
    question="258 events, 20 per page, newest first: how many list_events calls read them all?",
    solution=lambda: math.ceil(258 / 20),
    why="12 full pages hold 240 events; the remaining 18 need a 13th page ({answer} calls), and its "
        "has_more=false says it is the last.",
    mistakes=[
        (lambda: 258 // 20, "That rounds down: the last 18 events need one more page."),
        (lambda: 258 / 20, "Pages come whole: round up."),
        (lambda: 1, "One call returns only the 20 newest events — that is how the course's loop lost steps."),
    ],
)


def _f1(out, ref):
    from ftlab.hosted.evaluate import f1_score

    return f1_score(out, ref)


_add(
    "09-f1",
    question="Reference 'The cat sat on the mat.', reply 'A cat sat down.': the F1 of normalized words?",
    solution=lambda: _f1("A cat sat down.", "The cat sat on the mat."),
    why="Normalized: 'cat sat down' vs 'cat sat on mat'; 2 shared words, P = 2/3, R = 2/4, "
        "F1 = 2PR/(P+R) = {answer:.3f}.",
    mistakes=[
        (lambda: 2 / 3, "That is the precision (shared / reply words). F1 combines it with the recall."),
        (lambda: 2 / 4, "That is the recall (shared / reference words). F1 combines it with the precision."),
        (lambda: 2 * (2 / 4) * (2 / 6) / (2 / 4 + 2 / 6),
         "You counted the raw words: articles ('a', 'the') and punctuation are removed first."),
    ],
)
