"""The course's self-check exercises, one module per notebook, and the three calls learners use.

In a notebook an exercise is one cell::

    answer = ...  # your answer here
    ftlab.check("01-uniform-loss", answer)

``check`` says "Not answered yet" until the ``...`` is replaced, then whether the answer is right,
close, or a known mistake (and which). ``solution(id)`` shows a worked solution, step by step, and
returns the answer; ``exercises()`` lists the ids in course order. Each module below defines its
notebook's exercises with ``ftlab.course.exercise.add``.
"""

import contextlib
import importlib
import io
import math

from ftlab.course.exercise import EXERCISES, judge, same

MODULES = ["n01_cross_entropy", "n02_perplexity", "n03_loss_curves", "n03a_reading_runs",
           "n04_early_stopping", "n04a_does_it_do_the_task", "n05_training_data", "n06_data_augmentation",
           "n07_training_parameters", "n08_inference_parameters", "n09_hosted_finetuning",
           "n10_improving_in_rounds"]

for _module in MODULES:
    importlib.import_module(f"{__name__}.{_module}")


def _exercise(name):
    exercise = EXERCISES.get(name)
    if exercise is None:
        raise ValueError(f"no exercise named {name!r}; ftlab.exercises() lists them: "
                         f"{', '.join(EXERCISES)}")
    return exercise


def exercises(notebook=None):
    """The exercise ids in course order; ``notebook="03"`` keeps one notebook's.

    >>> exercises("02")
    ['02-perplexity-of-loss', '02-corpus-perplexity', '02-bits']
    """
    return [name for name in EXERCISES if notebook is None or name.split("-")[0] == str(notebook)]


def check(name, answer):
    """Check a learner's ``answer`` to exercise ``name`` and explain a wrong one.

    >>> check("01-uniform-loss", ...).state
    'unanswered'
    >>> check("01-uniform-loss", 2.30).correct   # the question asks for 2 decimals
    True
    >>> print(check("01-uniform-loss", 1.0).message.split(".")[0])
    That is log10(10)
    """
    return judge(name, _exercise(name), answer)


def run_worked(name):
    """Run exercise ``name``'s worked solution; return (its printed text, its ``answer``)."""
    import numpy as np
    import pandas as pd

    import ftlab

    namespace = {"np": np, "pd": pd, "math": math, "ftlab": ftlab}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(_exercise(name).worked, f"<solution {name}>", "exec"), namespace)
    if "answer" not in namespace:
        raise RuntimeError(f"the worked solution of {name!r} does not set `answer`")
    return printed.getvalue(), namespace["answer"]


def solution(name):
    """Show the worked solution of exercise ``name`` and return its answer.

    The solution is computed step by step in numpy/pandas, then compared with what ftlab computes
    in one call; the two agree (the tests check it for every exercise).

    >>> round(solution("02-perplexity-of-loss"), 4)  # doctest: +ELLIPSIS
    Worked solution of 02-perplexity-of-loss: ...
    3.3201
    """
    exercise = _exercise(name)
    printed, answer = run_worked(name)
    expected = exercise.solution()
    if not same(answer, expected, exercise.rtol):
        raise RuntimeError(f"the worked solution of {name!r} gives {answer!r} but ftlab gives "
                           f"{expected!r}; please report this")
    shown = f"{answer:.6g}" if isinstance(answer, float) else repr(answer)
    lines = [f"Worked solution of {name}: {exercise.question}", "",
             *("    " + line for line in exercise.worked.strip().splitlines()), ""]
    if printed:
        lines += [printed.rstrip(), ""]
    lines.append(f"answer = {shown}; ftlab computes the same. "
                 + exercise.why.format(answer=expected))
    print("\n".join(lines))
    return answer
