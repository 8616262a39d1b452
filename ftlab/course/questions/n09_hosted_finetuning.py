"""Exercises of notebook 09, hosted fine-tuning.

Each asks about what the notebook shows without a key: Marv's files and plan, the recorded course
job, the recorded patent-insights job and its checkpoints, and the tiny transformer's comparison.
"""

import math
from functools import lru_cache

from ftlab.course.exercise import add


def _marv_tokens(which):
    from ftlab.chat.validate import validate_chat
    from ftlab.hosted.jobs import _marv

    return validate_chat(_marv(which), model="gpt-4o-mini-2024-07-18", min_examples=1).n_tokens


def _auto_epochs():
    from ftlab.chat.tokens import default_epochs
    from ftlab.chat.validate import validate_chat
    from ftlab.hosted.jobs import _marv

    return default_epochs(validate_chat(_marv("train"), model="gpt-4o-mini-2024-07-18").n_examples)


add(
    "09-billed-tokens",
    question=("The plan above bills Marv's training file once per epoch. How many tokens would "
              "be billed with n_epochs=5, keeping the same files?"),
    solution=lambda: _marv_tokens("train") * 5,
    hint="Read the billed tokens per epoch from the plan; the validation file is not trained on.",
    worked="""
from ftlab._data import data_dir
report = ftlab.validate_chat(data_dir() / "chat" / "marv_train.jsonl",
                             model="gpt-4o-mini-2024-07-18")
per_epoch = sum(report.example_tokens)        # every example's tokens, counted with the model's encoding
print(f"{report.n_examples} examples, {per_epoch:,} tokens per epoch")
answer = per_epoch * 5
""",
    why=("Billed tokens = training tokens per epoch × epochs = {answer:,}. The validation file is "
         "scored, not trained on, so it is not in the bill."),
    mistakes=[
        (lambda: (_marv_tokens("train") + _marv_tokens("valid")) * 5,
         "You billed the validation file too: its tokens are scored but not trained on."),
        (lambda: _marv_tokens("train"), "That is one epoch: the training file is billed once per epoch."),
        (lambda: _marv_tokens("train") * _auto_epochs(),
         "That is the plan's epochs (the estimate of 'auto'); the question asks for 5."),
    ],
)


def _marv_run():
    from ftlab.runs.samples import load_sample

    return load_sample("marv")


def _marv_events():
    meta = _marv_run().meta
    return meta["total_steps"] + len(meta["messages"])


add(
    "09-event-pages",
    question=("Suppose the course's Marv job logged exactly one metrics event per step "
              "(`marv.meta['total_steps']`) plus the messages its notebook printed "
              "(`marv.meta['messages']`). At 20 events per page, how many list_events calls "
              "does it take to read them all?"),
    solution=lambda: math.ceil(_marv_events() / 20),
    hint="Add the steps and the messages, then divide by the page size: pages come whole.",
    worked="""
marv = ftlab.load_sample("marv")
events = marv.meta["total_steps"] + len(marv.meta["messages"])
print(f"{marv.meta['total_steps']} metrics events + {len(marv.meta['messages'])} messages = {events}")
answer = math.ceil(events / 20)               # the last page holds the remainder
""",
    why=("{answer} pages: the full ones hold 20 events each, the last one the rest, and its "
         "has_more=false says it is the last. A loop that reads only the first page sees the 20 "
         "newest events at each poll."),
    mistakes=[
        (lambda: _marv_events() // 20, "That rounds down: the events left over need one more page."),
        (lambda: _marv_events() / 20, "Pages come whole: round up."),
        (lambda: 1, "One call returns only the 20 newest events: that is how the course's loop "
                    "lost step 2."),
    ],
)


# ----------------------------------------------------------------------------- section 5


def _checkpoint_table():
    """The patent-insights job's three models: the checkpoints after epochs 1 and 2 and the final
    model, each with the mean of the validation evaluations within 100 steps of it."""
    import pandas as pd

    from ftlab.runs.samples import load_sample

    run, ends = load_sample("patent-insights"), load_sample("patent-insights-last-events")
    valid = run.metrics["valid_loss"].dropna()
    train = run.metrics["train_loss"]
    models = [(c["model"], c["step"]) for c in ends.meta["checkpoint_models"]]
    models.append((ends.meta["fine_tuned_model"], int(run.meta["total_steps"])))
    per_epoch = int(run.meta["steps_per_epoch"])
    rows = []
    for model, step in models:
        near = valid[abs(valid.index - step) <= 100]
        epoch = step // per_epoch
        rows.append({"model": model, "step": step, "epoch": epoch,
                     "train loss (epoch mean)": train.loc[(epoch - 1) * per_epoch + 1:step].mean(),
                     "valid loss nearby (mean)": near.mean(),
                     "evaluations nearby": ", ".join(str(s) for s in near.index)})
    return pd.DataFrame(rows)


def _next_step():
    table = _checkpoint_table()
    best = table.loc[table["valid loss nearby (mean)"].idxmin()]
    return "a" if best["step"] == table["step"].max() else "b"


add(
    "09-next-step",
    question=("The table shows the patent-insights job's three models: the checkpoints after "
              "epochs 1 and 2 and the final model, with the validation loss measured near each. "
              "What do you do next?"),
    choices={
        "a": ("Deploy the final model: its training loss is the lowest",
              "Its training loss is the lowest, but the validation loss near it is the highest of "
              "the three: it fits its training file best and new data worst."),
        "b": ("Deploy the checkpoint with the lowest validation loss nearby, and give the next job "
              "fewer epochs", ""),
        "c": ("Raise the learning-rate multiplier: the job did not converge",
              "The training loss fell epoch after epoch (the table's training column), so the job "
              "moved plenty; the trouble is that validation got worse while it did."),
        "d": ("Add 1 or 2 epochs: the model does not follow its training data enough",
              "It follows its training data more with every epoch (training loss down) while the "
              "validation loss goes up; nothing in the table suggests more epochs would turn "
              "that around."),
    },
    solution=_next_step,
    hint=("Compare the last two columns: which model has the lowest validation loss near it, and "
          "is that the final one?"),
    worked="""
run = ftlab.load_sample("patent-insights")
ends = ftlab.load_sample("patent-insights-last-events")
valid = run.metrics["valid_loss"].dropna()
print("validation loss every 100 steps:", valid.round(3).to_dict())
steps = [c["step"] for c in ends.meta["checkpoint_models"]] + [run.meta["total_steps"]]
nearby = {}
for step in steps:
    near = valid[abs(valid.index - step) <= 100]        # evaluations within 100 steps
    nearby[step] = near.mean()
    print(f"model at step {step}: validation nearby {near.round(3).tolist()} -> mean {nearby[step]:.3f}")
best = min(nearby, key=nearby.get)
print(f"lowest near step {best}; typical jump between two evaluations "
      f"{valid.diff().abs().median():.3f}")
answer = "a" if best == max(steps) else "b"
""",
    why=("Right. The checkpoint after epoch 1 has the lowest validation loss nearby, and the "
         "final model the highest. OpenAI keeps the last epochs' checkpoints as models you can "
         "call, so the better one is usable now; the next job can stop sooner. (The epoch-2 "
         "checkpoint is close to the epoch-1 one compared with the typical jump between two "
         "evaluations; the final model is further off than that jump.)"),
)


# ----------------------------------------------------------------------------- section 6


@lru_cache(maxsize=None)
def _tiny_reply():
    """The tiny base model's greedy reply to the first validation prompt (section 6, first row of
    the comparison: ``load_pretrained()``, not fine-tuned), and the reference reply."""
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl
    from ftlab.tinylm.model import load_pretrained

    record = read_chat_jsonl(data_dir() / "chat" / "marv_valid.jsonl")[0]
    reply = load_pretrained().generate(record["messages"][:-1], temperature=0, max_tokens=100)
    return reply, record["messages"][-1]["content"]


def _f1():
    from ftlab.hosted.evaluate import f1_score

    return f1_score(*_tiny_reply())


def _overlap(normalized=True):
    from collections import Counter

    from ftlab.hosted.evaluate import normalize

    out, ref = (normalize(t).split() if normalized else t.split() for t in _tiny_reply())
    return sum((Counter(out) & Counter(ref)).values()), len(out), len(ref)


def _raw_f1():
    common, n_out, n_ref = _overlap(normalized=False)
    p, r = common / n_out, common / n_ref
    return 2 * p * r / (p + r) if common else 0.0


add(
    "09-f1",
    question=("Without a key, the first row of the comparison (`comparison.table.iloc[0]`) holds "
              "the tiny base model's reply to the first validation prompt and the reference "
              "reply. What is the F1 of the normalized words? Give it to 3 decimals."),
    solution=_f1,
    decimals=3,
    hint=("Normalize both texts (lower case, punctuation to spaces, drop a/an/the), split into "
          "words, count the shared words (each as often as it appears in both), then "
          "P = shared / reply words, R = shared / reference words, F1 = 2PR / (P + R)."),
    worked="""
import re
import string
import unicodedata
from collections import Counter
from ftlab._data import data_dir
valid = ftlab.read_chat_jsonl(data_dir() / "chat" / "marv_valid.jsonl")
base = ftlab.tinylm.load_pretrained()                 # the base model: not fine-tuned
reply = base.generate(valid[0]["messages"][:-1], temperature=0, max_tokens=100)  # greedy, as compared
reference = valid[0]["messages"][-1]["content"]

def words(text):
    text = "".join(" " if unicodedata.category(c).startswith("P") or c in string.punctuation else c
                   for c in text.lower())
    return re.sub(r"\\b(a|an|the)\\b", " ", text).split()

out, ref = words(reply), words(reference)
shared = sum((Counter(out) & Counter(ref)).values())
precision, recall = shared / len(out), shared / len(ref)
print(f"reply words {len(out)}, reference words {len(ref)}, shared {shared}: "
      f"{sorted((Counter(out) & Counter(ref)).elements())}")
answer = 2 * precision * recall / (precision + recall) if shared else 0.0
""",
    why=("F1 = 2PR / (P + R) = {answer:.3f}: hardly any words are shared (count them in the "
         "worked solution), so both precision and recall are small."),
    mistakes=[
        (lambda: _overlap()[0] / _overlap()[1],
         "That is the precision (shared / reply words). F1 combines it with the recall."),
        (lambda: _overlap()[0] / _overlap()[2],
         "That is the recall (shared / reference words). F1 combines it with the precision."),
        (_raw_f1, "You compared the raw words: lower-case them, turn punctuation into spaces and "
                  "drop the articles (a, an, the) first."),
    ],
)
