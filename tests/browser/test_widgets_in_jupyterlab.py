"""Real browser: JupyterLab on 127.0.0.1 + Debian's Chromium (via Playwright), the two explorers of
notebooks 03/04 in a small notebook. Run All, move the replay's step slider with the keyboard and
the patience slider, and check that the readout text and the plot image change. Screenshots of
both explorers go to a temporary folder, and to docs/ when FTLAB_SCREENSHOTS=docs (for the README).

Skipped (with the reason) when Chromium or Playwright is missing; .ci/run installs Chromium.
"""

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 30_000
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]

CELLS = [
    "import ftlab.widgets.loss_curves\nreplay = ftlab.widgets.loss_curves.replay('patent-insights')\nreplay",
    "stopping = ftlab.widgets.loss_curves.early_stopping_explorer('patent-insights')\nstopping",
]

# The other explorers of the course, one cell each, photographed for the README's gallery.
GALLERY = {
    "probability_explorer": "from ftlab.widgets.losses import correct_probability_explorer\n"
                            "correct_probability_explorer(vocab_size=10)",
    "perplexity_explorer": "from ftlab.widgets.losses import loss_perplexity_explorer\n"
                           "loss_perplexity_explorer(vocab_size=50)",
    "polling_explorer": "import ftlab\nftlab.polling_explorer('marv')",
    "cost_explorer": "from ftlab.widgets.chat import cost_explorer\ncost_explorer()",
    "augmentation_explorer": "from ftlab._data import data_dir\n"
                             "from ftlab.widgets.augment import augmentation_explorer\n"
                             "augmentation_explorer(ftlab.read_chat_jsonl(data_dir() / 'chat' / 'marv_train.jsonl'))",
    "sampling_explorer": "from ftlab import tinylm\nfrom ftlab.widgets.sampling import sampling_explorer\n"
                         "sampling_explorer(tinylm.load_pretrained(), 'The quick brown fox ')",
}
TEXT_ONLY = {"augmentation_explorer"}  # shows its variants as HTML, no figure


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook(path, cells):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": src, "outputs": [],
                     "execution_count": None} for src in cells],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on loopback with a token; HOME/TMPDIR in a temp folder; stopped at the end."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does it)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed")
    home = tmp_path_factory.mktemp("lab-home")
    work = home / "work"
    work.mkdir()
    _notebook(work / "explorers.ipynb", CELLS)
    _notebook(work / "gallery.ipynb", list(GALLERY.values()))
    # no "get notified about Jupyter news?" toast over the screenshots (and no news fetch)
    settings = home / ".jupyter/lab/user-settings/@jupyterlab/apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    env.pop("JUPYTER_PATH", None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={work}", "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(home / "lab.log", "wb")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n"
                                       + (home / "lab.log").read_text(errors="replace")[-3000:])
                time.sleep(0.3)
        yield {"base": base, "token": token, "home": home}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _run_all(page, attempts=3, started=None):
    """Run > Run All Cells. Right after the kernel first reports idle, a click can be lost while
    the session is still connecting, so retry until the run shows it started: by default the
    first cell shows it was queued or ran; ``started(page)`` (raising if not) checks otherwise."""
    def first_cell_queued_or_ran(page):
        page.wait_for_function("(el) => /\\[(\\*|\\d+)\\]/.test(el.textContent)",
                               arg=page.locator(".jp-InputArea-prompt").first.element_handle(),
                               timeout=15_000)

    for attempt in range(attempts):
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator("li[data-command='runmenu:run-all']").click()
        try:
            (started or first_cell_queued_or_ran)(page)
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")


def _open_and_run_all(page, lab, notebook, n_cells):
    """Open a notebook in a fresh Lab workspace, wait for its kernel, Run All, and wait until the
    last cell has run; return the kernel-idle locator."""
    from playwright.sync_api import expect

    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{lab['base']}/lab/tree/{notebook}?reset&token={lab['token']}")
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    expect(idle).to_have_count(1, timeout=60_000)  # kernel started and idle
    expect(page.locator(".jp-Cell")).to_have_count(n_cells)
    expect(page.locator(".jp-StatusBar-Widget", has_text="Idle")).not_to_have_count(0)
    _run_all(page)
    last_prompt = page.locator(".jp-InputArea-prompt").nth(n_cells - 1)
    expect(last_prompt).to_contain_text(str(n_cells), timeout=90_000)
    return idle


def _image_src(output):
    return output.locator("img").first.get_attribute("src")


def _wait_for_new_image(page, output, old_src):
    """Wait until the Output widget ``output`` shows an image other than ``old_src``."""
    page.wait_for_function(
        "([el, old]) => el.querySelector('img') && el.querySelector('img').src !== old",
        arg=[output.element_handle(), old_src])


@contextlib.contextmanager
def _browser_page(tmp_path):
    """A Chromium page, 1300 × 1000; if the test fails, a screenshot of it goes to tmp_path."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            try:
                yield page
            except Exception:
                page.screenshot(path=str(tmp_path / "failure.png"))
                print(f"browser test failed; screenshot: {tmp_path / 'failure.png'}")
                raise
        finally:
            browser.close()


def _shot_folders(tmp_path):
    """Screenshots always go to the test's temp folder, and to docs/ with FTLAB_SCREENSHOTS=docs."""
    return [tmp_path] + ([ROOT / "docs"] if os.environ.get("FTLAB_SCREENSHOTS") == "docs" else [])


def test_explorers_respond_in_a_real_browser(lab, tmp_path):
    from playwright.sync_api import expect

    started = time.monotonic()
    shots = _shot_folders(tmp_path)
    with _browser_page(tmp_path) as page:
        idle = _open_and_run_all(page, lab, "explorers.ipynb", len(CELLS))
        # both cells executed and their widgets rendered
        expect(page.locator(".jp-OutputArea-output .widget-readout")).not_to_have_count(0,
                                                                                     timeout=60_000)
        expect(idle).to_have_count(1, timeout=60_000)
        replay_view, stopping_view = page.locator(".jp-Cell").nth(0), page.locator(".jp-Cell").nth(1)
        readout = replay_view.locator(".widget-html").first
        output = replay_view.locator(".widget-output").first
        expect(readout).to_contain_text("step 1665 of 1665")
        expect(output.locator("img")).to_have_count(1)
        for shot in shots:
            replay_view.screenshot(path=str(shot / "replay_explorer.png"))

        # move the step slider with the keyboard: Home, then 300 steps right (PageUp = 10 % ?)
        text0, image0 = readout.inner_text(), _image_src(output)
        handle = replay_view.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle").first
        handle.click()
        handle.press("Home")
        for _ in range(3):
            handle.press("ArrowRight")
        expect(readout).to_contain_text("step 4 of 1665")
        expect(readout).not_to_have_text(text0)
        _wait_for_new_image(page, output, image0)

        # the patience slider of the early-stopping explorer
        es_readout = stopping_view.locator(".widget-html").first
        es_output = stopping_view.locator(".widget-output").first
        expect(es_readout).to_contain_text("stops at step 300")
        es_image = _image_src(es_output)
        es_handle = stopping_view.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle").first
        es_handle.click()
        es_handle.press("ArrowRight")
        expect(es_readout).to_contain_text("stops at step 400")
        _wait_for_new_image(page, es_output, es_image)
        for shot in shots:
            stopping_view.screenshot(path=str(shot / "early_stopping_explorer.png"))
    assert (tmp_path / "replay_explorer.png").stat().st_size > 10_000
    print(f"browser flow took {time.monotonic() - started:.1f} s")


def test_every_explorer_renders_for_the_gallery(lab, tmp_path):
    """Each explorer of the course renders in JupyterLab (a readout and its plot or text); the
    screenshots are the README's gallery."""
    from playwright.sync_api import expect

    with _browser_page(tmp_path) as page:
        _open_and_run_all(page, lab, "gallery.ipynb", len(GALLERY))
        for index, name in enumerate(GALLERY):
            cell = page.locator(".jp-Cell").nth(index)
            expect(cell.locator(".jp-OutputArea-output .widget-html").first).not_to_be_empty(
                timeout=60_000)
            assert not cell.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']").count(), \
                f"{name} wrote to stderr"
            if name not in TEXT_ONLY:  # the plot itself, as an image inside the widget
                expect(cell.locator(".widget-output img")).to_have_count(1, timeout=30_000)
            cell.scroll_into_view_if_needed()
            for folder in _shot_folders(tmp_path):
                cell.screenshot(path=str(folder / f"{name}.png"))
            assert (tmp_path / f"{name}.png").stat().st_size > 5_000
