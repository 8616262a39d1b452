"""The explorers: ipywidgets controls over a computation and a plot (the only wing that imports ipywidgets).

Each follows ``explorer.Explorer``: a pure function from the controls' values to numbers, a draw
function, and core ipywidgets wiring that works in Colab (ipywidgets 7) and JupyterLab (8). One
module per notebook topic; the two cost explorers (``chat`` for notebook 05, ``hosted`` for 09) are
reached through their modules. A new explorer goes in this wing.
"""

from ftlab._lazy import lazy_exports

_EXPORTS = {
    "correct_probability_explorer": "losses",
    "uniform_choice_explorer": "losses",
    "loss_perplexity_explorer": "losses",
    "replay": "loss_curves",
    "early_stopping_explorer": "loss_curves",
    "polling_explorer": "runs",
    "duplicate_threshold_explorer": "chat",
    "augmentation_explorer": "augment",
    "sampling_explorer": "sampling",
    "training_lab": "lab",
    "feedback_loop": "feedback",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
