"""Exercises of notebook 07, training parameters.

The answers come from the notebook's own runs of the tiny model (same data, same seeds), so each
exercise asks about numbers the learner has on screen. The runs take a few seconds; they are
computed once per process.
"""

import math
from functools import lru_cache

from ftlab.course.exercise import add


def _chat(name):
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl

    return read_chat_jsonl(data_dir() / "chat" / name)


def _mlp():
    """Sections 1-10 of notebook 07 fine-tune the MLP (section 11's lab, the transformer)."""
    from ftlab.tinylm.model import load_pretrained

    return load_pretrained("tinylm-char-v1")


@lru_cache(maxsize=None)
def _long_full():
    """Full validation loss after each epoch of section 3's job: 10 epochs, lr × 2, seed 0."""
    run = _mlp().finetune(_chat("marv_train.jsonl"), _chat("marv_valid.jsonl"), n_epochs=10,
                          learning_rate_multiplier=2, seed=0, progress=False)
    return tuple(float(v) for v in run.metrics["full_valid_loss"].dropna())


@lru_cache(maxsize=None)
def _lr_job(multiplier):
    """Full validation loss after each epoch of a default job (3 epochs, batch 4, seed 0)."""
    run = _mlp().finetune(_chat("marv_train.jsonl"), _chat("marv_valid.jsonl"),
                          learning_rate_multiplier=multiplier, seed=0, progress=False)
    return tuple(float(v) for v in run.metrics["full_valid_loss"].dropna())


def _pretrained_loss():
    return _mlp().evaluate(_chat("marv_valid.jsonl"))["loss"]


# ----------------------------------------------------------------------------- section 3


def _epoch_choice():
    """The option naming the epoch count of lowest full validation loss in section 3's job."""
    full = _long_full()
    best = min(range(len(full)), key=full.__getitem__) + 1
    return {1: "a", len(full): "c", 5: "d"}.get(best, "b")


add(
    "07-epoch-choice",
    question=("Section 3's table gives the full validation loss after each of the 10 epochs "
              "(learning-rate multiplier 2). For your next job on these data with this "
              "multiplier, which n_epochs do you set?"),
    choices={
        "a": ("1 epoch: every example is seen once, so nothing is fitted too closely yet",
              "After epoch 1 the validation loss was still falling: the table shows a lower "
              "value at a later epoch. Stopping at 1 leaves that improvement on the table."),
        "b": ("The epoch count whose full validation loss is lowest in the table", ""),
        "c": ("10 epochs: the training loss is lowest there",
              "The training loss is lowest at epoch 10, but it only says how well the model fits "
              "the replies it trains on. The validation loss, on replies it never trains on, is "
              "far above its lowest value there: the model overfits."),
        "d": ("5 epochs: halfway is a safe compromise",
              "Halfway is not a rule. Read the table: the validation loss had already turned "
              "up before epoch 5."),
    },
    solution=_epoch_choice,
    hint=("Ignore the training loss column; find the smallest full_valid_loss and read its "
          "epoch."),
    worked="""
from ftlab._data import data_dir
chat = data_dir() / "chat"
train = ftlab.read_chat_jsonl(chat / "marv_train.jsonl")
valid = ftlab.read_chat_jsonl(chat / "marv_valid.jsonl")
run = ftlab.tinylm.load_pretrained("tinylm-char-v1").finetune(train, valid, n_epochs=10,
                                              learning_rate_multiplier=2, seed=0, progress=False)
full = run.metrics["full_valid_loss"].dropna().to_numpy()   # one value per epoch end
for epoch, loss in enumerate(full, start=1):
    print(f"epoch {epoch:2d}: full validation loss {loss:.3f}")
best = int(np.argmin(full)) + 1
print(f"lowest after epoch {best}")
answer = {1: "a", len(full): "c", 5: "d"}.get(best, "b")
""",
    why=("Right: set n_epochs to the epoch count where the validation loss is lowest; an "
         "epoch next to it whose loss differs by less than the seed noise is as good. On a "
         "hosted job you can also deploy the best epoch's checkpoint instead of retraining "
         "(OpenAI keeps a checkpoint for each of the last epochs; notebook 04)."),
)


# ----------------------------------------------------------------------------- section 5


def _adjustment():
    """The guide's adjustment for the lr × 0.05 job, from what its validation loss did."""
    slow, default = _lr_job(0.05), _lr_job(1.0)
    still_falling = slow[-1] < slow[-2]
    if still_falling and slow[-1] > default[-1]:
        return "a"  # still on its way, and far behind the default multiplier: not converged
    return "b" if not still_falling else "d"


add(
    "07-adjust",
    question=("Section 4's job with learning-rate multiplier 0.05 ended far above the ×1 job's "
              "validation loss, much nearer the pretrained model's. Following OpenAI's guide, "
              "which adjustment do you try first?"),
    choices={
        "a": ("Raise the learning-rate multiplier: the model does not appear to converge", ""),
        "b": ("Remove 1 or 2 epochs: the model has become less diverse",
              "Fewer epochs are for a model that has gone past its best. This one's validation "
              "loss fell in every epoch (section 5's table); fewer epochs would leave it even "
              "closer to the pretrained model."),
        "c": ("Lower the learning-rate multiplier: its steps are too large",
              "Its training loss never jumped up (the 'max train loss' column equals its first "
              "step's loss), so its steps were not too large; a smaller multiplier would move "
              "it even less. Lowering is the fix for the ×50 job."),
        "d": ("Keep it as it is: its validation loss went down, so it worked",
              "It went down, but by little: the ×1 job went much further in the same steps, and "
              "the ×0.05 job's fall shrinks only slowly from one epoch to the next (section 5): "
              "it was still well on its way when it stopped."),
    },
    solution=_adjustment,
    hint=("Compare the ×0.05 job's validation loss per epoch (section 5) with the ×1 job's: "
          "how far did each get, and how fast was the ×0.05 one's fall shrinking at the end?"),
    worked="""
from ftlab._data import data_dir
chat = data_dir() / "chat"
train = ftlab.read_chat_jsonl(chat / "marv_train.jsonl")
valid = ftlab.read_chat_jsonl(chat / "marv_valid.jsonl")
base = ftlab.tinylm.load_pretrained("tinylm-char-v1")
start = base.evaluate(valid)["loss"]
per_epoch = {}
for multiplier in (0.05, 1.0):
    run = base.copy().finetune(train, valid, learning_rate_multiplier=multiplier, seed=0,
                               progress=False)
    per_epoch[multiplier] = run.metrics["full_valid_loss"].dropna().to_numpy()
    falls = -np.diff(np.concatenate([[start], per_epoch[multiplier]]))   # each epoch's fall
    print(f"lr x {multiplier:g}: {np.round(per_epoch[multiplier], 3)}, fell "
          f"{falls.sum():.3f} from the pretrained {start:.3f}; per epoch {np.round(falls, 3)}, "
          f"the last {falls[-1] / falls[-2]:.0%} of the one before")
slow, default = per_epoch[0.05], per_epoch[1.0]
still_falling = slow[-1] < slow[-2]
answer = "a" if still_falling and slow[-1] > default[-1] else ("b" if not still_falling else "d")
""",
    why=("Right. Its validation loss was still falling when the job ended, far above where the "
         "default multiplier got in the same steps: it had not converged, and the guide's fix "
         "is a larger multiplier. (More epochs are the other lever, at the cost of more "
         "billed tokens.)"),
)


# ----------------------------------------------------------------------------- section 8


def _stop_epoch(patience):
    from ftlab.curves.early_stopping import simulate_early_stopping

    result = simulate_early_stopping(list(_long_full()), patience=patience)
    return None if result.stopped_index is None else result.stopped_index + 1


def _best_epoch():
    full = _long_full()
    return min(range(len(full)), key=full.__getitem__) + 1


add(
    "07-early-stop-epoch",
    question=("Replay the Keras rule on section 3's 10-epoch job (`full`, its full validation "
              "loss after each epoch) with patience 2 instead of 1. After which epoch (counting "
              "from 1) does training stop?"),
    solution=lambda: _stop_epoch(2),
    hint=("Walk through `full` keeping the best value so far; count the epochs in a row that do "
          "not beat it, and stop when the count reaches 2."),
    worked="""
from ftlab._data import data_dir
chat = data_dir() / "chat"
train = ftlab.read_chat_jsonl(chat / "marv_train.jsonl")
valid = ftlab.read_chat_jsonl(chat / "marv_valid.jsonl")
run = ftlab.tinylm.load_pretrained("tinylm-char-v1").finetune(train, valid, n_epochs=10,
                                              learning_rate_multiplier=2, seed=0, progress=False)
full = run.metrics["full_valid_loss"].dropna().to_numpy()
best, waited = math.inf, 0
for epoch, loss in enumerate(full, start=1):
    if loss < best:                    # Keras: an improvement is any value below the best
        best, waited = loss, 0
    else:
        waited += 1
    print(f"epoch {epoch}: {loss:.3f}  best {best:.3f}  epochs without improvement {waited}")
    if waited == 2:                    # patience 2
        answer = epoch
        break
""",
    why=("Training stops after epoch {answer}: the best epoch is followed by two epochs that "
         "do not beat it. With patience 1 it stopped one epoch earlier (section 8); either way "
         "restore_best keeps the best epoch's weights."),
    mistakes=[
        (lambda: _stop_epoch(1), "That is patience 1, what section 8 ran. With patience 2 the "
                                 "rule waits for a second epoch without improvement."),
        (_best_epoch, "That is the best epoch, the one restore_best keeps. Training only stops "
                      "after 2 epochs have failed to beat it."),
        (lambda: 10, "The rule does not wait for the end: it stops as soon as 2 epochs in a row "
                     "fail to beat the best."),
    ],
)


# ----------------------------------------------------------------------------- section 9


def _round_one_steps():
    run = _mlp().finetune(_chat("tutor_train.jsonl"), n_epochs=2, batch_size=4, seed=0,
                          progress=False)
    return int(run.meta["total_steps"])


def _n_tutor():
    return len(_chat("tutor_train.jsonl"))


add(
    "07-total-steps",
    question=("Round 1 of section 9 trains n_epochs=2 with batch_size=4 on the tutoring "
              "conversations (`tutor`). How many optimiser steps does it run?"),
    solution=_round_one_steps,
    hint="Count the conversations with len(tutor). One step takes one batch; the last batch of "
         "an epoch may be smaller.",
    worked="""
from ftlab._data import data_dir
tutor = ftlab.read_chat_jsonl(data_dir() / "chat" / "tutor_train.jsonl")
n = len(tutor)
steps_per_epoch = math.ceil(n / 4)        # the last batch of each epoch is partial
print(f"{n} conversations / batch 4 = {n / 4} -> {steps_per_epoch} steps per epoch")
answer = steps_per_epoch * 2
""",
    why="ceil(n / 4) steps per epoch (the last batch is partial), times 2 epochs = {answer} steps.",
    mistakes=[
        (lambda: math.ceil(_n_tutor() / 4), "That is one epoch; round 1 runs two."),
        (lambda: (_n_tutor() // 4) * 2, "Rounding down drops the last, partial batch of each "
                                        "epoch: it is still a step."),
        (lambda: _n_tutor() * 2, "That counts conversations seen, not steps: each step takes a "
                                 "batch of 4."),
        (lambda: _n_tutor() * 2 / 4, "Steps are whole batches: round each epoch's count up."),
    ],
)


# ----------------------------------------------------------------------------- section 10


def _trained_positions(record):
    from ftlab.tinylm.text import IGNORE_INDEX, render_chat

    return int((render_chat(record)[1] != IGNORE_INDEX).sum())


def _tutor_example():
    return _chat("tutor_train.jsonl")[8]


def _reply_chars(weights=(None, 1)):
    return [len(m["content"]) for m in _tutor_example()["messages"]
            if m["role"] == "assistant" and m.get("weight") in weights]


add(
    "07-trained-tokens",
    question=("In the tutoring conversation shown in section 10 (`tutor[8]`), how many "
              "positions does the tiny model's loss count? (Each trained reply also teaches its "
              "closing <|end|> token.)"),
    solution=lambda: _trained_positions(_tutor_example()),
    hint=("Only assistant messages without weight 0 are trained: add up their lengths, plus one "
          "<|end|> for each of them."),
    worked="""
from ftlab._data import data_dir
example = ftlab.read_chat_jsonl(data_dir() / "chat" / "tutor_train.jsonl")[8]
answer = 0
for m in example["messages"]:
    trained = m["role"] == "assistant" and m.get("weight", 1) != 0
    print(f"{m['role']:>9}, {len(m['content']):3d} characters, weight {m.get('weight', 1)}: "
          f"{'trained' if trained else 'not trained'}")
    if trained:
        answer += len(m["content"]) + 1     # its characters and its closing <|end|>
print("(the tiny model reads one token per character)")
""",
    why=("Only the replies without weight 0 are trained: their characters plus one <|end|> "
         "each = {answer}. The weight-0 reply stays in the context that later replies are "
         "predicted from, but nothing is learnt from it."),
    mistakes=[
        (lambda: sum(_reply_chars()), "Each trained reply also teaches its closing <|end|> token, "
                                      "so the model learns when to stop: add one per reply."),
        (lambda: sum(c + 1 for c in _reply_chars((None, 1, 0))),
         "The weight-0 reply is context only: it is not trained on."),
        (lambda: sum(_reply_chars((None, 1, 0))),
         "The weight-0 reply is context only, and each trained reply has an <|end|> too."),
    ],
)
