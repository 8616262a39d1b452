"""Exercises of notebook 10, improving in rounds."""

import itertools

import numpy as np

from ftlab.course.exercise import add


def _rows(name):
    import pandas as pd

    from ftlab._data import data_dir

    return pd.read_csv(data_dir() / "experiments" / name, dtype=str, keep_default_na=False)


def _bits(column):
    return np.array([[c == "1" for c in s] for s in column], dtype=bool)


def _paired(rows, column, arm, baseline="tickets"):
    from ftlab._report import paired_interval

    pick = lambda a: rows[rows.arm == a].sort_values("seed")[column].astype(float).to_numpy()  # noqa: E731
    return paired_interval(pick(arm), pick(baseline))


add(
    "10-prompt-first",
    question="The prompt routes no test message and the fine-tuned tiny model about half of them. "
             "What do you conclude for a new task of your own?",
    solution=lambda: "b",
    choices={
        "a": ("Prompting does not work for routing; always fine-tune.",
              "This shows that *this* model cannot follow a prompt: it has read Python's "
              "documentation and was never taught to follow instructions. A large "
              "instruction-following model may route well from a prompt alone; one model says "
              "nothing about another."),
        "b": ("Measure a prompt first on the model you would fine-tune; fine-tune when it falls "
              "short, and compare both on the same test set.", ""),
        "c": ("Fine-tuning is worth it whenever its accuracy beats chance.",
              "Beating chance is the floor, not the bar: whether a fine-tune is worth it depends on "
              "what the job needs and on what the cheaper option already reaches."),
        "d": ("Skip the test set: the prompt's replies show at a glance that it fails.",
              "Here they do, but a prompt that is right some of the time needs the same measured "
              "comparison, on the same test set and with its interval, as the fine-tune."),
    },
    hint="Which model was prompted, and what would a different model do?",
    worked="""
# the cheap option is measured per model: this one never answers with a label,
# a hosted instruction-following model may; so measure first, on the same test set
answer = "b"
""",
    why="Right: the cheap option is measured, per model and on the same test set, before paying "
        "for a fine-tune; here it fails, so fine-tuning is needed.",
)


def _shortcut():
    from ftlab.tinylm.recipes import read_comparison
    from ftlab._data import data_dir

    rounds = read_comparison(data_dir() / "experiments" / "rounds_tickets.csv")
    return {test: rounds.summary("none/page", f"{test}_accuracy").loc["none/page+queue"]
            for test in ("train_like", "test")}


def _queue_key():
    shortcut = _shortcut()
    test, train_like = shortcut["test"], shortcut["train_like"]
    if test["verdict"] == "worse" and train_like["verdict"] == "better":
        return "b"
    return "a"


add(
    "10-queue-field",
    question="Your training tickets have the page field and no system instruction. A colleague "
             "adds the queue field too; on a validation split of the old tickets, accuracy jumps. "
             "Do you ship the model trained with both fields?",
    solution=_queue_key,
    choices={
        "a": ("Yes: the jump on validation is far outside the noise.",
              "The validation split comes from the old tickets, where the queue still followed the "
              "old rule (`train_like`). New messages come without that pattern, and on them the "
              "model with the queue routes worse (`test`)."),
        "b": ("No: on messages as they arrive now the queue says nothing about the team, and the "
              "model that leaned on it routes them worse than the model with the page alone.", ""),
        "c": ("Yes: the page field makes up for whatever the queue gets wrong.",
              "Compare none/page+queue with none/page on `test`: with the queue in its training "
              "data the model routes new messages worse than with the page alone."),
        "d": ("Yes: both scorings use the same test messages, so the higher one is the one to "
              "trust.",
              "The same messages, but `train_like` gives them queues that follow the old rule, as "
              "the old tickets had; only `test` looks like what arrives now, and there the queue "
              "makes routing worse."),
    },
    hint="Compare none/page+queue with none/page, paired by seed, on both scorings.",
    worked="""
from ftlab.tinylm.recipes import read_comparison
rounds = read_comparison(ftlab.data_dir() / "experiments" / "rounds_tickets.csv")
verdict = {}
for test in ("train_like", "test"):
    row = rounds.summary("none/page", f"{test}_accuracy").loc["none/page+queue"]
    verdict[test] = row["verdict"]
    print(f"{test}: page+queue − page {row['difference']:+.3f} "
          f"({row['diff_low']:+.3f} to {row['diff_high']:+.3f}): {row['verdict']}")
if verdict["test"] == "worse" and verdict["train_like"] == "better":
    answer = "b"     # a shortcut: it helps only where the old pattern holds
else:
    answer = "a"     # no cost on new messages detected: the jump would stand
""",
    why="Right: the queue is a shortcut. It held in the old tickets, so a validation split of "
        "them rewards it; messages as they arrive now do not follow it, and there the model that "
        "learnt to read the queue routes worse. Validate on data that looks like what the model "
        "will meet.",
)


def _seed_churn():
    one = _bits(_rows("feedback_tickets.csv").round_1_correct)
    flips = [int((one[i] != one[j]).sum()) for i, j in itertools.combinations(range(len(one)), 2)]
    return sum(flips) / len(flips)


add(
    "10-seed-churn",
    question="Round 1 was fine-tuned once per seed on the same data. Over every pair of seeds, on "
             "average how many of the 88 test messages does one seed route right and the other "
             "wrong (to 1 decimal)?",
    solution=_seed_churn,
    decimals=1,
    hint="`bits(rounds_2.round_1_correct)` is a (seeds, messages) array; compare every pair of "
         "rows with `!=` and count.",
    worked="""
import itertools
rows = pd.read_csv(ftlab.data_dir() / "experiments" / "feedback_tickets.csv", dtype=str)
one = np.array([[c == "1" for c in s] for s in rows.round_1_correct])  # (seeds, messages)
pairs = list(itertools.combinations(range(len(one)), 2))
flips = [int((one[i] != one[j]).sum()) for i, j in pairs]
print(f"{len(pairs)} pairs of seeds; messages routed differently: {flips}")
answer = sum(flips) / len(flips)
""",
    why="{answer:.1f}: with the same data and settings, only the seed changed (the order of the "
        "examples), and that alone moves this many test answers. A regression check that lists "
        "what round 2 broke must be read against this: some of it would have changed with any "
        "retraining.",
    mistakes=[
        (lambda: _seed_churn() / 88, "That is a share; the question asks for a number of messages."),
        (lambda: float(np.ptp(_bits(_rows("feedback_tickets.csv").round_1_correct).sum(axis=1))),
         "That is the spread of the seeds' numbers of right answers; two seeds with the same "
         "number right can still differ on many messages. Compare them message by message."),
    ],
)


def _feedback_key():
    import numpy as np

    from ftlab._report import paired_interval

    rows = _rows("feedback_tickets.csv")
    change = paired_interval(rows.round_2_accuracy.astype(float), rows.round_1_accuracy.astype(float))
    one, two = _bits(rows.round_1_correct), _bits(rows.round_2_correct)
    churn_rounds = float(np.mean([(a != b).sum() for a, b in zip(one, two)]))
    if change.excludes_zero:
        return "a" if change.mean > 0 else "b"
    return "c" if churn_rounds > _seed_churn() else "d"


add(
    "10-feedback-verdict",
    question="Round 2 trained on the reviewer's corrections. What do the five seeds support?",
    solution=_feedback_key,
    choices={
        "a": ("Round 2 is better: test accuracy rose.",
              "The paired change over seeds has an interval that includes 0: some seeds rose, "
              "others fell. And round 2 routing the flagged messages right says it learnt its "
              "own training examples, not that it routes new ones better."),
        "b": ("Round 2 is worse: test accuracy fell.",
              "The paired interval includes 0: the fall in some seeds is matched by rises in "
              "others, so no change is detected either way."),
        "c": ("No change in test accuracy is detected. Round 2 learnt most corrections but "
              "changed more test answers than a new seed alone does, so its regression list must "
              "be read message by message.", ""),
        "d": ("No change is detected, and round 2 changed no more test answers than a new seed "
              "would: the corrections did nothing.",
              "Count the test messages each seed's two rounds route differently and compare with "
              "your answer to the previous exercise: round 2 changed more than the seed alone."),
    },
    hint="Look at the paired interval of round 2 − round 1, then compare how many test answers "
         "round 2 changed with the seed-to-seed churn of the previous exercise.",
    worked="""
import itertools
rows = pd.read_csv(ftlab.data_dir() / "experiments" / "feedback_tickets.csv",
                   dtype={"round_1_correct": str, "round_2_correct": str})
change = ftlab.paired_interval(rows.round_2_accuracy, rows.round_1_accuracy)
print(f"round 2 − round 1: {change.mean:+.3f} ({change.low:+.3f} to {change.high:+.3f})")
one, two = [np.array([[c == "1" for c in s] for s in rows[f"round_{k}_correct"]]) for k in (1, 2)]
between_rounds = np.mean([(a != b).sum() for a, b in zip(one, two)])
between_seeds = np.mean([(one[i] != one[j]).sum()
                         for i, j in itertools.combinations(range(len(one)), 2)])
print(f"test answers changed: round 1 → round 2 {between_rounds:.1f}, seed → seed {between_seeds:.1f}")
print("corrections learnt:", rows.learnt.sum(), "of", rows.n_accepted.sum())
answer = ("a" if change.mean > 0 else "b") if change.low > 0 or change.high < 0 else \\
    ("c" if between_rounds > between_seeds else "d")
""",
    why="Right: no change in accuracy is detected with five seeds, yet round 2 moved many test "
        "answers both ways, more than retraining with another seed does; that is why the "
        "regression check lists them. Round 2 also trained on more examples (more steps, another "
        "order), so not every change is the corrections' doing.",
)


def _dpo_key():
    rows = _rows("dpo_synonyms.csv")
    dpo = _paired(rows, "reworded_prefers_antonym", "dpo")
    naive = _paired(rows, "reworded_prefers_antonym", "naive_sft")
    new = _paired(rows, "new_words_prefers_antonym", "dpo")
    tickets = _paired(rows, "ticket_accuracy", "dpo")
    if tickets.excludes_zero and tickets.mean < 0:
        return "d"
    if naive.mean <= dpo.mean:
        return "c"
    return "a" if new.mean <= dpo.mean / 2 else "b"


add(
    "10-dpo-verdict",
    question="What did the DPO round do, by the ten seeds of the last table?",
    solution=_dpo_key,
    choices={
        "a": ("It taught the model what a synonym is: new words moved about as much as the "
              "trained ones.",
              "Compare the paired changes: the trained words, asked in new wording, moved several "
              "times more than the 32 new words. One likely reason: a model that has read only "
              "Python's documentation has few word meanings to carry over."),
        "b": ("It moved the trained words even when they were asked differently, moved new words "
              "only a little, and no change in ticket routing was detected.", ""),
        "c": ("The naive SFT file does as well on the trained words: it also lowered the "
              "antonym's share.",
              "On the reworded pairs, the trained words, it lowered the share far less than DPO "
              "did (compare the two arms' paired changes); on new words neither moved much."),
        "d": ("It wrecked the ticket router.",
              "The paired change in ticket accuracy has an interval around 0: no damage was "
              "detected."),
    },
    hint="Compare each arm's paired change from the ticket model on the three measures.",
    worked="""
rows = pd.read_csv(ftlab.data_dir() / "experiments" / "dpo_synonyms.csv")
arm = {name: rows[rows.arm == name].sort_values("seed") for name in ("tickets", "dpo", "naive_sft")}
change = {}
for name in ("dpo", "naive_sft"):
    for column in ("reworded_prefers_antonym", "new_words_prefers_antonym", "ticket_accuracy"):
        d = ftlab.paired_interval(arm[name][column].to_numpy(), arm["tickets"][column].to_numpy())
        change[name, column] = d
        print(f"{name:>9} {column:<27} {d.mean:+.3f} ({d.low:+.3f} to {d.high:+.3f})")
tickets = change["dpo", "ticket_accuracy"]
if tickets.excludes_zero and tickets.mean < 0:
    answer = "d"                               # DPO cost routing accuracy
elif change["naive_sft", "reworded_prefers_antonym"].mean <= change["dpo", "reworded_prefers_antonym"].mean:
    answer = "c"                               # the naive file moved the trained words as much
elif change["dpo", "new_words_prefers_antonym"].mean <= change["dpo", "reworded_prefers_antonym"].mean / 2:
    answer = "a"                               # new words moved at least half as much
else:
    answer = "b"
""",
    why="Right: preference pairs moved what they were about, also under new wording; on new words "
        "the change was small, and routing kept its accuracy. The naive file moved the trained "
        "words far less.",
)

