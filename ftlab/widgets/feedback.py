"""The feedback loop: flag wrong replies, correct them, fine-tune again, check for regressions.

Round 1 fine-tunes a fresh pretrained tiny model on the training set (seeded) and answers a batch
of new customer messages. The learner ticks "wrong" beside each bad reply and types the right one
("use recorded feedback" fills in what a reviewer typed, so Run All works unattended). "Round 2"
turns the corrections into training examples (``ftlab.chat.corrections``: refused when invalid,
duplicated or leaking into the validation or test set), fine-tunes again from the same start with
the same seed on the training set plus the accepted corrections, and compares the two rounds on
the fixed test set: task accuracy with its interval, and the **regression check** — the test
messages round 2 fixed and those it broke. The corrected messages themselves were trained on, so
that round 2 answers them right shows the corrections were learnt, not that the model improved.

    fb = feedback_loop()                 # round 1 trains (a fraction of a second for the MLP)
    fb.use_recorded_feedback()           # or tick fb.wrong[i] and type into fb.correction[i]
    result = fb.run_round_2()            # result.round_2.test, result.fixed, result.broken, ...
"""

import html
import math
from dataclasses import dataclass

from ftlab.chat.corrections import (examples_from_corrections, training_labels,
                                    training_system_prompt)
from ftlab.chat.duplicates import normalize
from ftlab.chat.labels import normalize_label
from ftlab.chat.messages import content_text
from ftlab.widgets.explorer import figure_png, plural, show_figure, widget_bundle
from ftlab.widgets.presenter import readout_css

MAX_REPLY_TOKENS = 32  # what task_accuracy allows a tiny model's reply; a label needs far fewer


# ----------------------------------------------------------------------------- the data


def _shipped(name):
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl

    return read_chat_jsonl(data_dir() / "chat" / f"{name}.jsonl", strict=True)


def _records(value, default):
    """Records as given, read from a path, or the shipped file ``default`` when None."""
    if value is None:
        return _shipped(default)
    if isinstance(value, (str, bytes)) or hasattr(value, "__fspath__"):
        from ftlab.chat.files import read_chat_jsonl

        return read_chat_jsonl(value, strict=True)
    return value if isinstance(value, list) else list(value)


def _prompt(item, system):
    """(prompt messages, customer message) of a new message: a chat record (the turns before its
    last assistant reply, if it has one) or plain text (asked with the training system prompt)."""
    if isinstance(item, str):
        head = [{"role": "system", "content": system}] if system is not None else []
        return head + [{"role": "user", "content": item}], item
    messages = item["messages"]
    last = max((k for k, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    prompt = messages if last is None else messages[:last]
    users = [m for m in prompt if m.get("role") == "user"]
    return prompt, content_text(users[-1]["content"]) if users else ""


def _recorded(feedback):
    """{normalised message: the reviewer's right reply} from the feedback records."""
    for i, row in enumerate(feedback):
        if not (isinstance(row, dict) and isinstance(row.get("message"), str) and "reply" in row):
            raise ValueError(f"feedback record {i} is {row!r}; each must be {{'message': <the new "
                             "message>, 'reply': <the right reply>}, as in tickets_feedback.jsonl")
    return {normalize(row["message"]): row["reply"] for row in feedback}


# ----------------------------------------------------------------------------- the two rounds


@dataclass
class Round:
    """One fine-tune: its model and ``Run``, how many examples it saw, its test accuracy
    (``ftlab.task_accuracy``'s result) and its reply to each new message."""

    name: str
    model: object
    run: object
    n_train: int
    test: object
    replies: list


@dataclass
class Comparison:
    """Round 1 against round 2. ``corrections``: what was accepted and refused; ``fixed`` and
    ``broken``: the test messages round 2 got right that round 1 got wrong, and the reverse;
    ``learnt`` and ``not_learnt``: the new messages whose accepted correction round 2 now gives, or
    still does not (one row each: message, reference or correction, both rounds' replies)."""

    round_1: Round
    round_2: Round
    corrections: object
    fixed: object
    broken: object
    learnt: object
    not_learnt: object

    @property
    def mcnemar_p(self):
        """Two-sided exact McNemar p-value: only messages that changed carry evidence of a change."""
        changed, low = len(self.fixed) + len(self.broken), min(len(self.fixed), len(self.broken))
        if changed == 0:
            return 1.0
        tail = sum(math.comb(changed, k) for k in range(low + 1)) / 2 ** changed
        return min(1.0, 2 * tail)


def _test_changes(first, second):
    """(fixed, broken): test rows whose correctness flipped between the rounds."""
    a, b = first.test.table, second.test.table
    both = a[["message", "reference"]].assign(round_1=a["reply"], round_2=b["reply"])
    return both[~a["correct"] & b["correct"]], both[a["correct"] & ~b["correct"]]


def _new_changes(first, second, checked, rows, messages):
    """(learnt, not learnt): accepted corrections that round 2 now gives, and those it does not."""
    import pandas as pd

    out = []
    for k, example in zip(checked.accepted_index, checked.accepted):
        i = rows[k]
        right = example["messages"][-1]["content"]
        out.append({"message": messages[i], "correction": right, "round_1": first.replies[i],
                    "round_2": second.replies[i],
                    "learnt": normalize_label(second.replies[i]) == normalize_label(right)})
    table = pd.DataFrame(out, columns=["message", "correction", "round_1", "round_2", "learnt"])
    learnt = table.pop("learnt").astype(bool)  # bool even when empty: a mask, not column names
    return table[learnt], table[~learnt]


class FeedbackLoop:
    """The loop's pure part (no widgets): round 1 at once, round 2 from a list of corrections.

    ``load_model`` returns a fresh pretrained model (default ``ftlab.tinylm.load_pretrained``);
    ``train``/``valid``/``test``: chat records or paths (default: the tickets task);
    ``new_messages``: chat records or plain texts the users sent after round 1 (default
    ``data/chat/tickets_new_messages.jsonl``); ``feedback``: a reviewer's ``{"message", "reply"}``
    records (default ``data/chat/tickets_feedback.jsonl``). Both rounds use ``seed`` and the same
    hyperparameters (None: the model's defaults).
    """

    def __init__(self, load_model=None, train=None, valid=None, test=None, new_messages=None,
                 feedback=None, *, seed=0, n_epochs=None, batch_size=None,
                 learning_rate_multiplier=None):
        if load_model is None:
            from ftlab.tinylm.model import load_pretrained

            load_model = load_pretrained
        self.load_model = load_model
        self.train = _records(train, "tickets_train")
        self.valid = _records(valid, "tickets_valid")
        self.test = _records(test, "tickets_test")
        self.labels = training_labels(self.train)
        self.feedback = _records(feedback, "tickets_feedback")
        self.hyperparameters = {"n_epochs": n_epochs, "batch_size": batch_size,
                                "learning_rate_multiplier": learning_rate_multiplier, "seed": seed}
        asked = [_prompt(item, training_system_prompt(self.train))
                 for item in _records(new_messages, "tickets_new_messages")]
        self.prompts = [prompt for prompt, _ in asked]
        self.messages = [message for _, message in asked]
        self.round_1 = self.fine_tune(self.train, "round 1")

    def fine_tune(self, train, name):
        """A fresh pretrained model fine-tuned on ``train``: its ``Round``."""
        from ftlab.hosted.accuracy import task_accuracy

        model = self.load_model()  # a fresh copy: both rounds start from the same weights
        run = model.finetune(train, self.valid, progress=False, **self.hyperparameters)
        test = task_accuracy(model, self.test, progress=False, name=name)
        replies = [model.generate(prompt, temperature=0, max_tokens=MAX_REPLY_TOKENS)
                   for prompt in self.prompts]  # greedy, as task_accuracy asks
        return Round(name, model, run, len(train), test, replies)

    def recorded(self):
        """The reviewer's right reply for each new message (None where the feedback has none)."""
        known = _recorded(self.feedback)
        return [known.get(normalize(message)) for message in self.messages]

    def round_2(self, flagged):
        """``flagged``: (row of a new message, the right reply) pairs. Checks them, fine-tunes on
        the training set plus the accepted ones and returns a :class:`Comparison`."""
        flagged = list(flagged)
        rows = [row for row, _ in flagged]
        checked = examples_from_corrections(
            [(self.messages[row], reply) for row, reply in flagged], self.train, valid=self.valid,
            test=self.test, labels=self.labels)
        second = self.fine_tune(list(self.train) + checked.accepted, "round 2")
        fixed, broken = _test_changes(self.round_1, second)
        learnt, not_learnt = _new_changes(self.round_1, second, checked, rows, self.messages)
        return Comparison(self.round_1, second, checked, fixed, broken, learnt, not_learnt)


# ----------------------------------------------------------------------------- texts and the plot


def _accuracy(acc):
    return f"{acc.accuracy:.2f} (95% CI {acc.low:.2f}–{acc.high:.2f})"


def _round_1_text(loop):
    first = loop.round_1
    return (f"Round 1: fine-tuned on {plural(first.n_train, 'example')} (seed "
            f"{loop.hyperparameters['seed']}); test accuracy {_accuracy(first.test)} on "
            f"{plural(first.test.n, 'unseen message')}. Below: its replies to "
            f"{plural(len(loop.messages), 'new message')}. Tick 'wrong' and type the right reply "
            f"({', '.join(loop.labels)}), or press 'use recorded feedback'.")


def _round_2_text(result):
    one, two = result.round_1, result.round_2
    checked, p = result.corrections, result.mcnemar_p
    verdict = ("no evidence that round 2 differs from round 1 on unseen messages" if p >= 0.05
               else f"round 2 is {'better' if len(result.fixed) > len(result.broken) else 'worse'} "
                    "on unseen messages, beyond chance")
    learnt = len(result.learnt)
    return (f"Round 2: fine-tuned on {one.n_train} + {plural(len(checked.accepted), 'accepted correction')}"
            f" ({len(checked.refused)} refused), same start and seed. Test accuracy: round 1 "
            f"{_accuracy(one.test)} → round 2 {_accuracy(two.test)} on {plural(two.test.n, 'message')}. "
            f"Regression check: round 2 fixed {len(result.fixed)} and broke {len(result.broken)} "
            f"(McNemar exact p = {p:.2f}: {verdict}). New messages: round 2 gives "
            f"{learnt} of {len(checked.accepted)} accepted corrections; it was trained on them, so "
            "this shows they were learnt — only the test set says whether the model improved.")


def _table(title, frame):
    if frame is None or not len(frame):
        return f"<p><b>{html.escape(title)}</b>: none</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return (f"<details><summary><b>{html.escape(title)}</b>: {len(frame)}</summary>"
            f"<table><tr>{head}</tr>{body}</table></details>")


def _details_html(result):
    refused = result.corrections.to_frame()
    refused = refused[~refused["accepted"]][["message", "reply", "reason"]]
    return "".join([
        _table("Refused corrections (not added)", refused),
        _table("Broken: test messages round 1 got right and round 2 gets wrong", result.broken),
        _table("Fixed: test messages round 1 got wrong and round 2 gets right", result.fixed),
        _table("New messages whose correction round 2 now gives", result.learnt),
        _table("New messages whose correction round 2 still does not give", result.not_learnt)])


def draw(figure, loop, result=None):
    """Test accuracy of each round with its 95 % interval, and the regression counts."""
    figure.clear()
    ax_acc, ax_changes = figure.subplots(1, 2, width_ratios=[3, 2])
    rounds = [loop.round_1] + ([result.round_2] if result else [])
    for x, one in enumerate(rounds):
        acc = one.test
        ax_acc.errorbar([x], [acc.accuracy], yerr=[[acc.accuracy - acc.low], [acc.high - acc.accuracy]],
                        fmt="o", ms=8, capsize=5, color=f"C{x}")
        ax_acc.annotate(f"{acc.accuracy:.2f}", (x, acc.accuracy), xytext=(10, 0),
                        textcoords="offset points", va="center")
    ax_acc.axhline(loop.round_1.test.chance_baseline, ls=":", color="0.4", label="chance")
    ax_acc.set(xticks=[0, 1], xticklabels=["round 1", "round 2"], xlim=(-0.5, 1.5), ylim=(0, 1),
               ylabel="task accuracy on the test set", title="before and after, with 95% interval")
    ax_acc.legend(loc="upper right", fontsize="small")
    if result:
        names = ["test: fixed", "test: broken", "new: learnt", "new: not learnt"]
        counts = [len(result.fixed), len(result.broken), len(result.learnt), len(result.not_learnt)]
        ax_changes.barh(names, counts, color=["C2", "C3", "C0", "0.6"])
        ax_changes.invert_yaxis()
        ax_changes.xaxis.get_major_locator().set_params(integer=True)
        ax_changes.set(xlabel="messages", title="what round 2 changed")
    else:
        ax_changes.axis("off")
        ax_changes.text(0.5, 0.5, "flag wrong replies,\nthen press Round 2", ha="center",
                        va="center", transform=ax_changes.transAxes, color="0.4")
    figure.tight_layout()


# ----------------------------------------------------------------------------- the widget


class FeedbackExplorer:
    """The loop's widget. Controls: ``wrong[i]`` (a Checkbox) and ``correction[i]`` (a Text) for
    each new message, ``buttons["use_recorded"]`` and ``buttons["round_2"]``. Driven from Python with
    ``use_recorded_feedback()`` and ``run_round_2()``; ``result`` is the last :class:`Comparison`."""

    def __init__(self, loop):
        import ipywidgets as widgets
        from matplotlib.figure import Figure

        self.loop, self.result = loop, None
        self.figure = Figure(figsize=(10, 3.6))  # not pyplot: the figure belongs to this widget
        self.wrong = [widgets.Checkbox(value=False, description="wrong", indent=False,
                                       layout=widgets.Layout(width="80px")) for _ in loop.messages]
        self.correction = [widgets.Text(value="", placeholder="right reply",
                                        layout=widgets.Layout(width="140px")) for _ in loop.messages]
        for box, text in zip(self.wrong, self.correction):
            text.observe(self._ticker(box), names="value")
        self.buttons = {"use_recorded": widgets.Button(description="use recorded feedback",
                                                       layout=widgets.Layout(width="200px")),
                        "round_2": widgets.Button(description="Round 2", button_style="primary")}
        self.buttons["use_recorded"].on_click(lambda _: self._safely(self.use_recorded_feedback))
        self.buttons["round_2"].on_click(lambda _: self._safely(self.run_round_2))
        self.header = widgets.HTML(self._styled(_round_1_text(loop)))
        self.status, self.readout, self.details = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.out = widgets.Output()
        self.widget = widgets.VBox([self.header, self._rows(widgets),
                                    widgets.HBox(list(self.buttons.values())), self.status,
                                    self.readout, self.out, self.details])
        self._redraw()

    def _rows(self, widgets):
        """A header, then one row per new message: the message, round 1's reply, the controls."""
        def cells(message_html, reply_html):
            return [widgets.HTML(message_html, layout=widgets.Layout(width="55%")),
                    widgets.HTML(reply_html, layout=widgets.Layout(width="110px"))]

        head = widgets.HBox(cells("<b>new message</b>", "<b>round 1 reply</b>"))
        rows = [widgets.HBox(cells(html.escape(message), f"<code>{html.escape(reply)}</code>")
                             + [box, text])
                for message, reply, box, text in zip(self.loop.messages, self.loop.round_1.replies,
                                                     self.wrong, self.correction)]
        return widgets.VBox([head, *rows])

    @staticmethod
    def _ticker(box):
        def tick(change):  # typing a correction means the reply was wrong
            if str(change["new"]).strip():
                box.value = True
        return tick

    @staticmethod
    def _styled(text):
        return f"<span style='{readout_css()}'>{html.escape(text)}</span>"

    def _safely(self, action):
        # a button's callback has no caller to raise to: show the error where the learner looks
        try:
            action()
        except Exception as err:  # noqa: BLE001 (shown, not swallowed)
            self.status.value = self._styled(f"Error: {type(err).__name__}: {err}")

    def flagged(self):
        """(row, typed reply) of every new message ticked wrong."""
        return [(i, text.value) for i, (box, text) in enumerate(zip(self.wrong, self.correction))
                if box.value]

    def use_recorded_feedback(self):
        """Tick and correct exactly the replies the recorded reviewer's label disagrees with."""
        recorded = self.loop.recorded()
        missing = 0
        for box, text, reply, right in zip(self.wrong, self.correction, self.loop.round_1.replies,
                                           recorded):
            if right is None:
                missing += 1
                continue
            wrong = normalize_label(reply) != normalize_label(right)
            text.value = right if wrong else ""
            box.value = wrong
        note = f"; {plural(missing, 'message')} had no recorded feedback" if missing else ""
        self.status.value = self._styled(
            f"Recorded feedback: {len(self.flagged())} of {plural(len(recorded), 'reply', 'replies')} "
            f"flagged wrong (the reviewer's label differs from round 1's reply){note}.")

    def run_round_2(self):
        """Fine-tune round 2 on the training set plus the accepted corrections; show the comparison."""
        flagged = self.flagged()
        button = self.buttons["round_2"]
        button.disabled, button.description = True, "training…"
        self.status.value = self._styled(f"Round 2: checking {plural(len(flagged), 'correction')} "
                                         "and fine-tuning…")
        try:
            self.result = self.loop.round_2(flagged)
        finally:
            button.disabled, button.description = False, "Round 2"
        checked = self.result.corrections
        self.status.value = self._styled(f"{plural(len(flagged), 'correction')} checked: "
                                         f"{len(checked.accepted)} accepted, {len(checked.refused)} refused.")
        self.readout.value = self._styled(_round_2_text(self.result))
        self.details.value = _details_html(self.result)
        self._redraw()
        return self.result

    def png(self):
        return figure_png(self.figure)

    def _redraw(self):
        draw(self.figure, self.loop, self.result)
        show_figure(self.out, self.figure)

    def _repr_mimebundle_(self, include=None, exclude=None):
        text = _round_2_text(self.result) if self.result else _round_1_text(self.loop)
        return widget_bundle(self.widget, self.figure, text)


def feedback_loop(load_model=None, train=None, valid=None, test=None, new_messages=None, *,
                  feedback=None, seed=0, n_epochs=None, batch_size=None,
                  learning_rate_multiplier=None):
    """The feedback-loop explorer: round 1 at once, then flag, correct and press "Round 2".

    Arguments as :class:`FeedbackLoop` (default: the tickets task, its recorded batch of new
    messages and the reviewer's recorded feedback). Returns a :class:`FeedbackExplorer`.
    """
    return FeedbackExplorer(FeedbackLoop(load_model, train, valid, test, new_messages, feedback,
                                         seed=seed, n_epochs=n_epochs, batch_size=batch_size,
                                         learning_rate_multiplier=learning_rate_multiplier))
