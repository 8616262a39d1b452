"""The course itself: self-check exercises, student copies of the notebooks, facts (URLs, Colab).

``check(id, answer)`` says whether an answer is right and explains a known mistake (the exercises
are in ``exercises``, one section per notebook). ``facts`` keeps the repository URL, the Colab setup
cell and the course map in one place.
"""

from ftlab._lazy import lazy_exports

_EXPORTS = {
    "check": "exercises",
    "write_student_copies": "copies",
    "course_notebooks": "copies",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
