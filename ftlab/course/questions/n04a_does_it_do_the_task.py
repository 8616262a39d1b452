"""Exercises of notebook 04a, does it do the task?"""

from ftlab.course.exercise import add


def _test_labels():
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl

    return [r["messages"][-1]["content"] for r in read_chat_jsonl(data_dir() / "chat" / "tickets_test.jsonl")]


def _majority():
    from collections import Counter

    labels = _test_labels()
    return Counter(labels).most_common(1)[0][1] / len(labels)


add(
    "04a-majority",
    question="What accuracy does always answering the test set's most common label reach "
             "(to 2 decimals)?",
    solution=_majority,
    decimals=2,
    hint="Count how often each label is the right answer in the test set; the most common one wins.",
    worked="""
labels = pd.Series([r["messages"][-1]["content"]
                    for r in ftlab.read_chat_jsonl(ftlab.data_dir() / "chat" / "tickets_test.jsonl")])
counts = labels.value_counts()
print(counts.to_string())
answer = counts.iloc[0] / len(labels)     # always answering the most common label gets these right
""",
    why="{answer:.2f}: the most common label's share of the test set. The four teams are equally "
        "represented there (section 1's table), so the majority baseline equals the chance "
        "baseline, one over the number of labels.",
    mistakes=[
        (lambda: 1 / 3, "That is one over three labels; the test set has four teams."),
        (lambda: max(_test_labels().count(x) for x in set(_test_labels())),
         "That is the count of the most common label; divide by the number of test messages."),
        (lambda: len(set(_test_labels())),
         "That is the number of labels; the question asks for an accuracy, a share between 0 and 1."),
        (lambda: 1 - _majority(),
         "That is the share always answering the most common label gets wrong; the question asks "
         "for the share it gets right."),
        (lambda: 100 * _majority(),
         "That is a percentage; give the accuracy as a share between 0 and 1."),
    ],
)

add(
    "04a-token-vs-task",
    question="Mean token accuracy on the test set is far above task accuracy. Why?",
    solution=lambda: "a",
    choices={
        "a": ("Token accuracy counts every character of the label, each given the right ones "
              "before it, and only the first decides the team.", ""),
        "b": ("Token accuracy is measured on the training data, task accuracy on the test data.",
              "Both were measured on the same test messages (task accuracy in section 3, token "
              "accuracy in section 4); the difference is what they count, not where."),
        "c": ("The model routes better than task accuracy says: task accuracy is too strict about "
              "spelling.",
              "Task accuracy already forgives case, spaces and final punctuation, and the "
              "confusion table of section 3 counts the replies that were no label at all (column "
              "`other`); section 4 shows the first character, the decision, is where the model "
              "is wrong."),
        "d": ("Rounding: both are the same number computed two ways.",
              "They differ by far more than rounding: one averages over every character of the "
              "reply, the other scores whole replies."),
    },
    hint="Look at the accuracy of the first character against the rest, in section 4.",
    worked="""
# token accuracy averages over every position of the reply (each character and <|end|>),
# each predicted with the right characters before it; task accuracy scores the whole reply.
labels = pd.Series([r["messages"][-1]["content"]
                    for r in ftlab.read_chat_jsonl(ftlab.data_dir() / "chat" / "tickets_test.jsonl")])
print("first letters:", sorted(set(labels.str[0])))   # four labels, four first letters
positions = (labels.str.len() + 1).sum()              # every character and <|end|> of every reply
print(f"{len(labels)} of {positions} positions decide the team "
      f"({len(labels) / positions:.0%} of what token accuracy averages over)")
answer = "a"
""",
    why="Right: the first character decides the team and, with the tiny model's one token per "
        "character, is a small share of the positions; in section 4 every other position was right "
        "once the first was given, so token accuracy stays high while the routing is often wrong. "
        "With a hosted model's tokenizer each of these labels is a single token, and the gap "
        "shrinks (section 4).",
)

add(
    "04a-which-checkpoint",
    question="You must ship one checkpoint of the job above (one per epoch). Which rule do you use?",
    solution=lambda: "b",
    choices={
        "a": ("The epoch with the highest test accuracy.",
              "Then the test set chose the model, and its accuracy is no longer a fair figure: the "
              "best of several noisy scores is optimistic (the winner's curse of notebook 04)."),
        "b": ("The epoch with the highest validation accuracy (the earliest of a tie, as early "
              "stopping keeps), and the test accuracy of that epoch as the figure you report.", ""),
        "c": ("The last epoch: it trained longest.",
              "Training longer is no evidence about the task: this rule ships the last epoch "
              "whatever the validation set says about it. In this run the last epoch happens to tie "
              "for the best validation accuracy (and did best on the test set of the three epochs "
              "section 6 compares), but validation accuracy went down as well as up from one epoch "
              "to the next (section 5's table), and a rule that never looks at it cannot notice "
              "when the last epoch is one of the worse ones."),
        "d": ("The epoch with the lowest validation loss, whatever its accuracy.",
              "Loss measures how much probability the right label gets; accuracy, whether the "
              "reply is the right label, which is the job (section 5). The two can disagree, and "
              "\"whatever its accuracy\" means that when they do, this rule ships the epoch that "
              "routes fewer validation messages right. In this run that costs one validation "
              "message, and on the test set section 6's paired comparison shows no sign of a "
              "difference between the two rules' epochs: the data do not show this rule doing "
              "worse; what it measures is the reason to prefer accuracy."),
    },
    hint="Which set may choose, and which measure is the job?",
    worked="""
# choose with the validation set (the test set must play no part in the choice),
# by the measure of the job (accuracy), then report the untouched test set's figure
answer = "b"
""",
    why="Right: the validation set chooses, by the measure of the job, with a tie-break that "
        "uses no test data (the earliest of the tied epochs, the one early stopping keeps), and "
        "the test set, which took no part in the choice, reports. It is no guarantee: in this run "
        "the rule's epoch did worst on the test set of the three epochs section 6 compares, "
        "behind the last epoch with a borderline paired p-value, and another tie-break would "
        "have shipped an epoch that did better. With so few validation messages the choice is "
        "coarse; the remedy is more validation messages, not letting the test set choose. A rule "
        "is judged by what it measures and which set it uses, not by one run's outcome.",
)
