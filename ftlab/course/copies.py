"""Student copies of the course notebooks: solutions and outputs removed, exercises left as prompts.

A solution lives in a code cell tagged ``solution``. In the student copy that cell keeps only its
answer variables, each set to ``...``, so the ``ftlab.check(...)`` cell after it still runs and
tells the student to fill it in. Every output and execution count is cleared.

    ftlab student-copies handouts/
"""

import ast
from pathlib import Path

from ftlab._files import refuse_existing, write_all

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


def _read_notebook(source):
    """A notebook, or a ValueError that names the file and says what is wrong with it."""
    import nbformat

    if source.suffix != ".ipynb":
        raise ValueError(f"{source} is not a notebook (.ipynb); give notebooks to convert")
    try:
        return nbformat.read(source, as_version=4)
    except OSError:  # missing or unreadable: the command line names the file and the reason
        raise
    except Exception as exc:  # not UTF-8, not JSON, or JSON that is not a notebook
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{source} cannot be read as a Jupyter notebook ({reason[:120]}); "
                         "is it a saved .ipynb file?") from exc


def _check_targets(sources, out_dir, overwrite):
    """The copies' paths, once every one is known to be safe to write."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir} is a file; the first argument is the folder for the copies")
    if out_dir.suffix == ".ipynb":
        raise ValueError(f"{out_dir} looks like a notebook; the first argument is the folder for "
                         "the copies, the notebooks come after it")
    targets = [out_dir / p.name for p in sources]
    for i, (source, target) in enumerate(zip(sources, targets)):
        if target.resolve() == source.resolve():
            raise ValueError(f"{target} is the original notebook; choose another output folder")
        twin = next((s for s in sources[:i] if s.name == source.name), None)
        if twin is not None:  # both would become OUT_DIR/NAME, and one copy would be lost
            raise ValueError(f"{twin} and {source} have the same file name; convert them into "
                             "different folders")
        refuse_existing(target, overwrite)
    return targets


def write_student_copies(notebooks, out_dir, overwrite=False):
    """Write student versions of ``notebooks`` (paths) into ``out_dir``; return the written paths.

    Refuses to write into the folder a notebook came from (that would replace the original), two
    notebooks of the same name, and, unless ``overwrite=True``, to replace any file already in
    ``out_dir``. Every notebook is read before anything is written, and the copies are written as a
    set: all of them, or none.
    """
    import nbformat

    out_dir = Path(out_dir)
    sources = [Path(p) for p in notebooks]
    if not sources:
        raise ValueError("no notebooks given")
    targets = _check_targets(sources, out_dir, overwrite)
    copies = [student_notebook(_read_notebook(source)) for source in sources]
    write_all([(target, lambda f, nb=nb: nbformat.write(nb, f)) for target, nb in zip(targets, copies)],
              overwrite=overwrite, inputs=sources)
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
