"""Instructor mode: large fonts, thick lines and calmer replays for a projector.

    import ftlab
    ftlab.presenter()          # every plot and explorer made after this is projector-sized
    ftlab.presenter(False)     # back to normal

It changes matplotlib's rcParams (restored exactly when switched off), makes ftlab's loss plots use
their projector style, and tells the explorers (``ftlab.widgets.presenter``) to use larger readouts,
wider sliders and a slower replay. Explorers and figures made before the switch keep their size.

The switch lives here, with the plot styles, because the loss plots of this wing follow it and a
wing may not import ``widgets/``, which stands above it.
"""

_SAVED_RC = {}
_STATE = {"on": False, "scale": 1.0}

DEFAULT_SCALE = 1.6


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


def scale():
    """How much instructor mode enlarges text (1.0 when it is off)."""
    return _STATE["scale"]
