"""Real browser: the feedback loop in JupyterLab. Run All shows round 1's replies to the new
messages; clicking "use recorded feedback" ticks the wrong ones and fills in their corrections;
clicking "Round 2" fine-tunes again and shows the before/after accuracy, the regression check, the
refused correction and a new plot. A screenshot goes to a temporary folder (and to docs/ with
FTLAB_SCREENSHOTS=docs).

It reuses the JupyterLab server fixture and helpers of ``test_widgets_in_jupyterlab`` (one server
per test module); skipped, with the reason, when Chromium or Playwright is missing.
"""

import time

from test_widgets_in_jupyterlab import (TIMEOUT_MS, _browser_page, _image_src, _notebook,
                                        _open_and_run_all, _shot_folders, _wait_for_new_image,
                                        lab)  # noqa: F401 (lab: the server fixture)

CELLS = ["from ftlab.widgets.feedback import feedback_loop\nfb = feedback_loop()\nfb"]


def test_feedback_loop_runs_round_2_in_a_real_browser(lab, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    _notebook(lab["home"] / "work" / "feedback.ipynb", CELLS)
    started = time.monotonic()
    with _browser_page(tmp_path) as page:
        idle = _open_and_run_all(page, lab, "feedback.ipynb", len(CELLS))
        cell = page.locator(".jp-Cell").first
        expect(cell.locator(".widget-html", has_text="Round 1: fine-tuned on")).to_have_count(
            1, timeout=60_000)
        expect(idle).to_have_count(1, timeout=60_000)
        expect(cell.locator(".widget-checkbox")).to_have_count(24)
        expect(cell.locator(".widget-checkbox input:checked")).to_have_count(0)
        output = cell.locator(".widget-output").first
        expect(output.locator("img")).to_have_count(1, timeout=TIMEOUT_MS)
        image0 = _image_src(output)

        cell.locator("button", has_text="use recorded feedback").click()
        expect(cell.locator(".widget-html", has_text="flagged wrong")).to_have_count(1)
        expect(cell.locator(".widget-checkbox input:checked")).not_to_have_count(0)

        cell.locator("button", has_text="Round 2").click()
        after = cell.locator(".widget-html", has_text="Test accuracy: round 1")
        expect(after).to_have_count(1, timeout=60_000)
        expect(after).to_contain_text("→ round 2")
        expect(after).to_contain_text("Regression check: round 2 fixed")
        expect(cell.locator(".widget-html", has_text="Refused corrections")).to_have_count(1)
        _wait_for_new_image(page, output, image0)
        cell.scroll_into_view_if_needed()
        for folder in _shot_folders(tmp_path):
            cell.screenshot(path=str(folder / "feedback_loop.png"))
    assert (tmp_path / "feedback_loop.png").stat().st_size > 10_000
    print(f"feedback browser flow took {time.monotonic() - started:.1f} s")
