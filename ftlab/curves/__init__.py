"""Loss curves (notebooks 03 and 04): smoothing, a diagnosis with its evidence, early stopping, plots.

Everything here works on plain arrays and on any object with a run's columns, so ``runs/`` can
stand on it. Start with ``diagnose(run)``, ``plot_run(run)`` and ``simulate_early_stopping(values,
patience=...)``; ``presenter()`` switches every plot and explorer to projector size.
"""

from ftlab._lazy import lazy_exports

_EXPORTS = {
    "smooth": "smoothing",
    "diagnose": "diagnosis",
    "diagnose_curves": "diagnosis",
    "Diagnosis": "diagnosis",
    "curve_at": "replay",
    "simulate_early_stopping": "early_stopping",
    "run_early_stopping": "run_stopping",
    "sweep_early_stopping": "run_stopping",
    "checkpoint_steps": "run_stopping",
    "evaluation_noise": "min_delta",
    "min_delta_advice": "min_delta",
    "split_half_selection": "selection",
    "optimism_summary": "selection",
    "StopResult": "early_stopping",
    "plot_run": "plots",
    "plot_runs": "plots",
    "plot_sweep": "plots",
    "CurvePlot": "plots",
    "presenter": "style",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
