"""Student copies of the course notebooks: solutions and outputs removed, exercises left as prompts.

A solution lives in a code cell tagged ``solution``. In the student copy that cell keeps only its
answer variables, each set to ``...``, so the ``ftlab.check(...)`` cell after it still runs and
tells the student to fill it in. Every output and execution count is cleared.

    ftlab student-copies handouts/
"""

import ast
from pathlib import Path

from ftlab._files import atomic_write, refuse_existing

SOLUTION_TAG = "solution"
PROMPT = "...  # your answer here"


def prompt_for(solution_source):
    """The student version of a solution cell: its ``answer*`` assignments with ``...`` values.

    >>> print(prompt_for("losses = [0.4, 0.2]\\nanswer_3 = sum(losses) / 2"))
    answer_3 = ...  # your answer here
    """
    names = []
    for node in ast.parse(solution_source).body:
        if isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name) and t.id.startswith("answer")]
    if not names:
        return "# your code here"
    return "\n".join(f"{name} = {PROMPT}" for name in dict.fromkeys(names))


def student_notebook(nb):
    """Return a copy of a notebook (nbformat node) with solutions replaced and outputs cleared."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            cell.source = prompt_for(cell.source)
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != SOLUTION_TAG]
        cell.outputs = []
        cell.execution_count = None
    nb.metadata.pop("widgets", None)
    return nb


def write_student_copies(notebooks, out_dir, overwrite=False):
    """Write student versions of ``notebooks`` (paths) into ``out_dir``; return the written paths.

    Refuses to write into the folder a notebook came from (that would replace the original) and,
    unless ``overwrite=True``, to replace any file already in ``out_dir``. Nothing is written
    when any target is refused.
    """
    import nbformat

    out_dir = Path(out_dir)
    sources = [Path(p) for p in notebooks]
    if not sources:
        raise ValueError("no notebooks given")
    targets = [out_dir / p.name for p in sources]
    for source, target in zip(sources, targets):
        if target.resolve() == source.resolve():
            raise ValueError(f"{target} is the original notebook; choose another output folder")
        refuse_existing(target, overwrite)
    for source, target in zip(sources, targets):
        nb = student_notebook(nbformat.read(source, as_version=4))
        atomic_write(target, lambda f, nb=nb: nbformat.write(nb, f), overwrite=True)
    return targets


def course_notebooks():
    """The course's own notebooks, from a checkout (``notebooks/*.ipynb``), in course order."""
    folder = Path(__file__).resolve().parents[2] / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]*.ipynb"))
    if not found:
        raise FileNotFoundError(
            f"no course notebooks in {folder}; run this from a checkout of the repository, "
            "or name the notebooks to convert")
    return found
