"""The course map (ftlab.course.facts.NOTEBOOKS) is the one source of the README table and notebook 00."""

from pathlib import Path

import nbformat

from ftlab.course.facts import NOTEBOOKS, colab_url, notebook_table, start_here_table

ROOT = Path(__file__).resolve().parent.parent


def test_every_notebook_is_on_the_map_and_every_entry_exists():
    on_disk = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert on_disk == sorted(file for file, *_ in NOTEBOOKS)


def test_readme_table_is_made_from_the_map():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert notebook_table() in readme, "README's notebook table is stale: paste `python -m ftlab.course.facts`"


def test_start_here_links_every_notebook_locally_and_in_colab():
    nb = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for file, title, _, needs_key in NOTEBOOKS[1:]:
        assert f"[{title}]({file})" in text, f"notebook 00 does not link {file}"
        assert colab_url(file) in text, f"notebook 00 has no Colab link for {file}"
    assert start_here_table() in text, "notebook 00's map is stale: paste facts.start_here_table()"
    keyed = [file for file, *_, needs_key in NOTEBOOKS if needs_key]
    assert keyed == ["09_hosted_finetuning.ipynb"], "only notebook 09 may ask for a key"
