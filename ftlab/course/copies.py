"""Solved copies of the course notebooks, for instructors: every exercise cell answered.

The shipped notebooks are unsolved: an exercise cell reads ``answer = ...`` followed by
``ftlab.check("ID", answer)``. In a solved copy the ``answer = ...`` line becomes the exercise's
worked solution (the same code ``ftlab.solution("ID")`` shows), and that cell's old output is
cleared; every other cell keeps its output.

    ftlab solutions solved/
"""

import ast
from pathlib import Path

from ftlab._files import refuse_existing, write_all


def _checked_id(source):
    """The exercise id and answer variable of a cell calling ``ftlab.check("ID", var)``, or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: not an exercise cell
        return None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "check" and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[1], ast.Name)):
            return node.args[0].value, node.args[1].id
    return None


def solved_source(source):
    """A cell's source with its ``VAR = ...`` line replaced by the worked solution of the exercise
    it checks; the source unchanged when the cell checks nothing.

    >>> print(solved_source('answer = ...  # your answer here\\nftlab.check("01-masked-loss", answer)'))
    token_losses = np.array([2.0, 1.5, 0.4, 0.2])
    is_assistant = np.array([False, False, True, True])   # the prompt's tokens are masked out
    print("counted:", token_losses[is_assistant])
    answer = token_losses[is_assistant].mean()            # divide by the counted tokens only
    ftlab.check("01-masked-loss", answer)
    """
    from ftlab.course.exercise import EXERCISES
    import ftlab.course.questions  # noqa: F401  (registers every exercise)

    found = _checked_id(source)
    if found is None:
        return source
    name, var = found
    if name not in EXERCISES:
        raise ValueError(f"a cell checks {name!r}, which is no exercise of this ftlab version")
    worked = EXERCISES[name].worked.strip()
    if var != "answer":
        worked += f"\n{var} = answer"
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if line.replace(" ", "").startswith(f"{var}=..."):
            return "\n".join(lines[:i] + worked.splitlines() + lines[i + 1:])
    return source


def solved_notebook(nb):
    """Return a copy of a notebook (nbformat node) with every exercise cell solved."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        solved = solved_source(cell.source)
        if solved != cell.source:
            cell.source, cell.outputs, cell.execution_count = solved, [], None
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


def write_solved_copies(notebooks, out_dir, overwrite=False):
    """Write solved versions of ``notebooks`` (paths) into ``out_dir``; return the written paths.

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
    copies = [solved_notebook(_read_notebook(source)) for source in sources]
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
