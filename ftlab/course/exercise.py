"""What an exercise is: a question, its computed answer, a worked solution, and the wrong answers explained.

Each exercise computes its expected answer with ftlab (never a typed-in number), carries a worked
solution written step by step in plain numpy/pandas (``worked``: code that sets ``answer``), a hint,
and the wrong answers learners typically reach, each with its explanation. A *choice* exercise
(``choices``) asks for a judgement: every option has its own explanation, the wrong ones included.

The exercises themselves are in ``ftlab.course.questions``, one module per notebook.
"""

import html
import math
from dataclasses import dataclass, field
from typing import Any, Callable

EXERCISES: dict = {}  # id -> Exercise, in course order (the notebook modules register in order)


@dataclass
class Exercise:
    """One question with a computed answer.

    ``solution`` returns the right answer (``why`` may quote it as ``{answer:.3f}``): a number, a
    string (compared case-insensitively), or for a choice exercise the right option's key.
    ``worked`` is Python that computes the answer step by step and sets ``answer``. ``decimals``:
    the question asks for that many decimals, so an answer rounded to them is right. ``mistakes``
    pairs a function computing a typical wrong answer with the explanation shown for it.
    ``choices`` maps an option's key ("a", "b", ...) to ``(option text, explanation)``.
    """

    question: str
    solution: Callable[[], Any]
    why: str
    worked: str = ""
    hint: str = ""
    mistakes: list = field(default_factory=list)
    choices: dict = field(default_factory=dict)
    decimals: int | None = None
    rtol: float = 1e-3


def add(name, **kwargs):
    """Register exercise ``name`` (ids are "NN-what", NN the notebook's number)."""
    if name in EXERCISES:
        raise ValueError(f"exercise {name!r} is defined twice")
    EXERCISES[name] = Exercise(**kwargs)


_MARKS = {"correct": ("✓ Correct", "#1b7f3b"), "wrong": ("✗ Not yet", "#b3261e"),
          "close": ("≈ Close", "#b26a00"), "unanswered": ("… Not answered yet", "#5f6368")}


@dataclass
class CheckResult:
    """What ``check`` returns: the ``state`` and a message; shows as a coloured box in Jupyter.

    ``state`` is "correct", "close" (a near miss), "wrong" or "unanswered" (the ``...`` is still there).
    """

    name: str
    state: str
    message: str

    @property
    def correct(self):
        return self.state == "correct"

    def __bool__(self):
        return self.correct

    def __repr__(self):
        return f"{_MARKS[self.state][0]} ({self.name}): {self.message}"

    def _repr_html_(self):
        mark, colour = _MARKS[self.state]
        return (f'<div style="border-left:4px solid {colour};padding:4px 10px">'
                f'<b style="color:{colour}">{mark}</b> <code>{self.name}</code>: '
                f'{html.escape(self.message)}</div>')


def _number(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def same(answer, expected, rtol, decimals=None):
    """Whether ``answer`` is ``expected``: strings case-insensitively, numbers within ``rtol`` or,
    when the question asks for ``decimals``, rounded to them (off by at most half the last place)."""
    if isinstance(expected, str):
        return str(answer).strip().lower() == expected.strip().lower()
    a, e = _number(answer), _number(expected)
    if a is None or e is None or math.isnan(a):
        return False
    if math.isinf(e) or math.isinf(a):
        return a == e
    if decimals is not None and abs(a - e) <= 0.5 * 10 ** -decimals + 1e-9:
        return True
    return math.isclose(a, e, rel_tol=rtol, abs_tol=1e-9)


def near(answer, expected):
    """A near miss: within 5 % of a number, or one away from a whole number of at least 3."""
    a, e = _number(answer), _number(expected)
    if a is None or e is None or isinstance(expected, str) or not math.isfinite(a * e):
        return False
    if float(e).is_integer() and abs(e) >= 3 and abs(a - e) == 1:
        return True
    return abs(a - e) <= 0.05 * abs(e)


def option_key(answer, choices):
    """The option an answer names: its key ("b", "(b)", "B)") or its text; None if it names none."""
    text = str(answer).strip().lower()
    bare = text.lstrip("(").rstrip(").").strip()  # "(b)", "b)", "b." all name option b
    for key, (option, _) in choices.items():
        if bare == key.lower() or text == option.strip().lower():
            return key
    return None


def _unanswered(name, exercise):
    options = "".join(f" ({key}) {text}" for key, (text, _) in exercise.choices.items())
    hint = f" Hint: {exercise.hint}" if exercise.hint else ""
    return CheckResult(name, "unanswered",
                       f"Replace the `...` with your answer and run the cell again. "
                       f"{exercise.question}{options}{hint} "
                       f"(Stuck? ftlab.solution({name!r}) shows a worked solution.)")


def judge(name, exercise, answer):
    """The ``CheckResult`` of ``answer`` to ``exercise``: right, a known mistake, close, or not yet."""
    if answer is None or answer is Ellipsis:
        return _unanswered(name, exercise)
    expected = exercise.solution()
    if exercise.choices:
        key = option_key(answer, exercise.choices)
        if key is None:
            keys = ", ".join(f'"{k}"' for k in exercise.choices)
            return CheckResult(name, "wrong", f"{answer!r} is none of the options: answer with one "
                                              f"of {keys}.")
        if key == expected:
            return CheckResult(name, "correct", exercise.why.format(answer=expected))
        return CheckResult(name, "wrong", exercise.choices[key][1])
    if same(answer, expected, exercise.rtol, exercise.decimals):
        return CheckResult(name, "correct", exercise.why.format(answer=expected))
    for wrong, explanation in exercise.mistakes:
        if same(answer, wrong(), exercise.rtol, exercise.decimals):
            return CheckResult(name, "wrong", explanation)
    hint = exercise.hint or exercise.question
    if near(answer, expected):
        places = (f" The question asks for {exercise.decimals} decimals."
                  if exercise.decimals is not None else "")
        return CheckResult(name, "close", f"close — {answer!r} is near the answer but not it: "
                                          f"check your last step and your rounding.{places} "
                                          f"Hint: {hint}")
    return CheckResult(name, "wrong", f"{answer!r} is not it. Hint: {hint}")
