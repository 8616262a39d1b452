"""Real browser: the course's task notebooks in JupyterLab. The training lab of notebook 07
fine-tunes the tiny transformer when a slider moves and overlays the new curve; notebook 04a
("Does it do the task?") runs from top to bottom without an error.

It reuses the JupyterLab server fixture and helpers of ``test_widgets_in_jupyterlab`` (one server
per test module); skipped, with the reason, when Chromium or Playwright is missing.
"""

import shutil
import time

import nbformat

from test_widgets_in_jupyterlab import (ROOT, _browser_page, _image_src, _notebook,
                                        _open_and_run_all, _run_all, _shot_folders,
                                        _wait_for_new_image, lab)  # noqa: F401 (lab: the fixture)

# a quarter of the tickets and two epochs: each fine-tune takes about a second
LAB_CELLS = ["import ftlab\nlab = ftlab.training_lab(n_epochs=2, n_train=24)\nlab"]
STDERR = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"


def test_training_lab_fine_tunes_again_when_a_slider_moves(lab, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    _notebook(lab["home"] / "work" / "training_lab.ipynb", LAB_CELLS)
    started = time.monotonic()
    with _browser_page(tmp_path) as page:
        idle = _open_and_run_all(page, lab, "training_lab.ipynb", len(LAB_CELLS))
        cell = page.locator(".jp-Cell").first
        readout = cell.locator(".widget-html", has_text="task accuracy").first
        expect(readout).to_contain_text("2 ep", timeout=60_000)
        expect(idle).to_have_count(1, timeout=60_000)
        output = cell.locator(".widget-output").first
        expect(output.locator("img")).to_have_count(1)
        image0 = _image_src(output)

        epochs = cell.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle").first
        epochs.click()
        epochs.press("ArrowRight")  # 2 -> 3 epochs: a new setting, so it fine-tunes again
        expect(readout).to_contain_text("3 ep", timeout=60_000)
        _wait_for_new_image(page, output, image0)
        assert not cell.locator(STDERR).count(), "the lab wrote to stderr"
        for folder in _shot_folders(tmp_path):
            cell.screenshot(path=str(folder / "training_lab.png"))
    assert (tmp_path / "training_lab.png").stat().st_size > 10_000
    print(f"training lab browser flow took {time.monotonic() - started:.1f} s")


def test_notebook_04a_runs_all_without_an_error(lab, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    name = "04a_does_it_do_the_task.ipynb"
    shutil.copy(ROOT / "notebooks" / name, lab["home"] / "work" / name)
    n_code = sum(c.cell_type == "code" for c in nbformat.read(ROOT / "notebooks" / name, 4).cells)
    started = time.monotonic()
    with _browser_page(tmp_path) as page:
        page.goto(f"{lab['base']}/lab/tree/{name}?reset&token={lab['token']}")
        expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
            1, timeout=60_000)
        # the stored execution counts show before the run: wait for a queued cell instead
        queued = page.locator(".jp-CodeCell .jp-InputArea-prompt", has_text="[*]")
        _run_all(page, started=lambda page: expect(queued).not_to_have_count(0, timeout=15_000))
        # every code cell shows an execution count again (the stored ones showed before the run),
        # none is still queued or running
        page.wait_for_function(
            "(n) => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];"
            " return p.length === n && p.every(el => /\\[\\d+\\]/.test(el.textContent)); }",
            arg=n_code, timeout=180_000)
        assert not page.locator(STDERR).count(), f"{name} wrote to stderr (an error?)"
    print(f"notebook 04a in the browser took {time.monotonic() - started:.1f} s")
