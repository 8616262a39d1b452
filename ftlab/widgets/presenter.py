"""Instructor mode, the explorers' side: larger readouts, wider sliders and a slower replay.

``ftlab.presenter()`` (in ``ftlab.curves.style``) switches the mode; the explorers ask here how to
size themselves while it is on.
"""

from ftlab.curves.style import is_on, scale

# Replay speed (milliseconds per frame of the Play button): a class needs time to see each step.
REPLAY_INTERVAL_MS = {False: 60, True: 250}
# Characters of a control's label that fit ipywidgets' default label width (80 px, 7 and 8);
# longer ones are cut ("temperat…") unless the label is widened to its text.
DESCRIPTION_FITS = 8


def readout_css():
    """Inline CSS for an explorer's text readout (bigger in instructor mode)."""
    return f"font-family:monospace;font-size:{1.0 * scale():.2f}em"


def slider_layout():
    """Keyword arguments that widen a slider and its label in instructor mode (ipywidgets 7 and 8)."""
    if not is_on():
        return {}
    import ipywidgets as widgets

    return {"layout": widgets.Layout(width="95%"), "style": {"description_width": "initial"}}


def replay_interval_ms():
    """Milliseconds per frame for Play buttons: slower in instructor mode."""
    return REPLAY_INTERVAL_MS[is_on()]


def fit_description(control):
    """Widen ``control``'s label to its text when the default width would cut it (a checkbox's
    label sits beside the box and is never cut). Works on ipywidgets 7 and 8; returns the control."""
    text = getattr(control, "description", "") or ""
    style = getattr(control, "style", None)
    if (len(text) > DESCRIPTION_FITS and hasattr(style, "description_width")
            and type(control).__name__ != "Checkbox"):
        style.description_width = "initial"
    return control
