"""What an exercise is: a question with a computed answer, and the typical wrong answers explained.

Each exercise computes its own expected answer with ftlab (never a typed-in number) and lists the
wrong answers learners typically reach, each with an explanation. The exercises themselves are in
``ftlab.course.exercises``.
"""

import math
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Exercise:
    """One question with a computed answer.

    ``solution`` returns the right answer (``why`` may quote it as ``{answer:.3f}``): a number (compared with relative tolerance ``rtol``)
    or a string (compared case-insensitively). ``mistakes`` pairs a function computing a
    typical wrong answer with the explanation shown when the learner gives it.
    """

    question: str
    solution: Callable[[], Any]
    why: str
    mistakes: list = field(default_factory=list)
    rtol: float = 1e-3


@dataclass
class CheckResult:
    """What ``check`` returns: ``correct`` plus a message; shows as a coloured box in Jupyter."""

    name: str
    correct: bool
    message: str

    def __bool__(self):
        return self.correct

    def __repr__(self):
        mark = "✓ Correct" if self.correct else "✗ Not yet"
        return f"{mark} ({self.name}): {self.message}"

    def _repr_html_(self):
        colour = "#1b7f3b" if self.correct else "#b3261e"
        mark = "✓ Correct" if self.correct else "✗ Not yet"
        return (f'<div style="border-left:4px solid {colour};padding:4px 10px">'
                f'<b style="color:{colour}">{mark}</b> <code>{self.name}</code>: {self.message}</div>')


def same(answer, expected, rtol):
    """Whether ``answer`` is ``expected``: strings case-insensitively, numbers within ``rtol``."""
    if isinstance(expected, str):
        return str(answer).strip().lower() == expected.strip().lower()
    try:
        a, e = float(answer), float(expected)
    except (TypeError, ValueError):
        return False
    if math.isinf(e) or math.isinf(a):
        return a == e
    return math.isclose(a, e, rel_tol=rtol, abs_tol=1e-9)
