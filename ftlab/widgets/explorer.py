"""The one pattern every ftlab explorer follows (DESIGN.md: "Widgets are thin").

An explorer is three things: ``compute(**control_values) -> result`` (pure, tested on its own),
``draw(result) -> readout text`` (updates artists of one persistent matplotlib figure), and the
ipywidgets wiring below. It works on ipywidgets 7.7.1 (Colab) and 8 (JupyterLab 4, Notebook 7):
only core widgets, ``observe``, and a figure shown inside an ``Output`` with ``display``.

Tests drive an explorer from Python: set ``explorer.controls["name"].value`` and read
``explorer.result``, ``explorer.readout.value`` and ``explorer.figure``.
"""

import base64
import html
import io

from ftlab._report import plural  # noqa: F401  (the explorers import it from here)
from ftlab.widgets.presenter import fit_description, readout_css


class Explorer:
    """Wire controls to a pure ``compute`` and a ``draw`` that updates ``figure`` in place."""

    def __init__(self, controls, compute, draw, figure, layout=None):
        import ipywidgets as widgets

        self.controls = dict(controls)
        self.figure = figure
        self._compute, self._draw = compute, draw
        self.readout = widgets.HTML()
        self.out = widgets.Output()
        self.result = None
        for control in self.controls.values():
            fit_description(control)
            control.observe(self._on_change, names="value")
        top = layout if layout is not None else widgets.HBox(list(self.controls.values()))
        self.widget = widgets.VBox([top, self.readout, self.out])
        self.update()

    def values(self):
        return {name: control.value for name, control in self.controls.items()}

    def update(self):
        """Recompute, redraw the artists, refresh the readout and the shown figure."""
        self.result = self._compute(**self.values())
        text = self._draw(self.result)
        self.readout.value = f"<span style='{readout_css()}'>{html.escape(text)}</span>"
        self._show()

    def _on_change(self, change):
        self.update()

    def render(self):
        """Bring the figure up to date (subclasses that redraw cleverly do it here)."""

    def png(self):
        """The figure as PNG bytes: what the explorer shows below its controls."""
        return figure_png(self.figure)

    def _show(self):
        self.render()
        show_figure(self.out, self.figure)

    def _repr_mimebundle_(self, include=None, exclude=None):
        # the readout as text: what GitHub's notebook preview shows beside the PNG
        return widget_bundle(self.widget, self.figure, html.unescape(
            self.readout.value.split(">", 1)[1].rsplit("<", 1)[0]))


def figure_png(figure):
    """A matplotlib figure as PNG bytes."""
    out = io.BytesIO()
    figure.savefig(out, format="png", bbox_inches="tight")
    return out.getvalue()


def show_figure(out, figure):
    """Show ``figure`` as a PNG in the ``Output`` widget ``out``, replacing what it showed."""
    from IPython import get_ipython
    from IPython.display import Image, display

    if get_ipython() is None:  # plain Python (tests, scripts): nothing to show the figure in
        return
    with out:
        out.clear_output(wait=True)
        # PNG bytes, not the Figure: a bare Figure only displays as an image once pyplot's
        # inline backend is loaded, which an explorer must not depend on.
        display(Image(data=figure_png(figure), format="png"))


def widget_bundle(widget, figure, text):
    """A widget's display data: the live widget for Jupyter and Colab, plus a PNG of ``figure``
    and ``text``, which is what viewers that cannot run widgets (GitHub) show."""
    return {
        "application/vnd.jupyter.widget-view+json": {
            "version_major": 2, "version_minor": 0, "model_id": widget.model_id},
        "image/png": base64.b64encode(figure_png(figure)).decode("ascii"),
        "text/plain": text,
    }
