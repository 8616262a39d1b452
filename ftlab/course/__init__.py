"""The course itself: self-check exercises, solved copies of the notebooks, facts (URLs, Colab).

``check(id, answer)`` says whether an answer is right and explains a known mistake;
``solution(id)`` works it out step by step; ``exercises()`` lists the ids (the exercises are in
``questions``, one module per notebook). ``write_solved_copies`` makes an instructor's solved
notebooks. ``facts`` keeps the repository URL, the Colab setup cell and the course map in one place.
"""

from ftlab._lazy import lazy_exports

_EXPORTS = {
    "check": "questions",
    "solution": "questions",
    "exercises": "questions",
    "write_solved_copies": "copies",
    "course_notebooks": "copies",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
