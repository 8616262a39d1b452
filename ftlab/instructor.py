"""Instructor mode: large fonts, thick lines and calmer replays for a projector.

    import ftlab
    ftlab.presenter()          # every plot and explorer made after this is projector-sized
    ftlab.presenter(False)     # back to normal

It changes matplotlib's rcParams (restored exactly when switched off), makes ftlab's loss plots use
their projector style, and tells the explorers to use larger readouts, wider sliders and a slower
replay. Explorers and figures made before the switch keep their size.
"""

_SAVED_RC = {}
_STATE = {"on": False, "scale": 1.0}

DEFAULT_SCALE = 1.6

# Replay speed (milliseconds per frame of the Play button): a class needs time to see each step.
REPLAY_INTERVAL_MS = {False: 60, True: 250}


def projector_rc(scale=None):
    """The rcParams of instructor mode (at the current scale, or ``scale``)."""
    scale = scale or (_STATE["scale"] if _STATE["on"] else DEFAULT_SCALE)
    return {
        "font.size": 10 * scale,
        "axes.titlesize": 11 * scale,
        "axes.labelsize": 10 * scale,
        "xtick.labelsize": 9 * scale,
        "ytick.labelsize": 9 * scale,
        "legend.fontsize": 9 * scale,
        "lines.linewidth": 1.5 * scale,
        "lines.markersize": 6 * scale,
        "axes.linewidth": 0.8 * scale,
        "figure.dpi": 100,
    }


def presenter(on=True, scale=None):
    """Switch instructor mode on (or off with ``presenter(False)``); returns whether it is on.

    >>> import matplotlib
    >>> before = matplotlib.rcParams["font.size"]
    >>> presenter(scale=2.0)
    True
    >>> matplotlib.rcParams["font.size"] == 20.0
    True
    >>> presenter(False)
    False
    >>> matplotlib.rcParams["font.size"] == before
    True
    """
    import matplotlib

    scale = scale or DEFAULT_SCALE
    if on:
        if not _STATE["on"]:
            _SAVED_RC.update({k: matplotlib.rcParams[k] for k in projector_rc(1.0)})
        matplotlib.rcParams.update(projector_rc(scale))
    elif _STATE["on"]:
        matplotlib.rcParams.update(_SAVED_RC)
        _SAVED_RC.clear()
    _STATE.update(on=bool(on), scale=scale if on else 1.0)
    return _STATE["on"]


def is_on():
    """Whether instructor mode is on."""
    return _STATE["on"]


def readout_css():
    """Inline CSS for an explorer's text readout (bigger in instructor mode)."""
    size = f"{1.0 * _STATE['scale']:.2f}em"
    return f"font-family:monospace;font-size:{size}"


def slider_layout():
    """Keyword arguments that widen a slider and its label in instructor mode (ipywidgets 7 and 8)."""
    if not _STATE["on"]:
        return {}
    import ipywidgets as widgets

    return {"layout": widgets.Layout(width="95%"), "style": {"description_width": "initial"}}


def replay_interval_ms():
    """Milliseconds per frame for Play buttons: slower in instructor mode."""
    return REPLAY_INTERVAL_MS[_STATE["on"]]
