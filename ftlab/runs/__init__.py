"""Runs (notebook 03a): every fine-tuning log a learner may have, read into one ``Run``.

``load_run(source)`` recognises the format (OpenAI results CSV, events, printed logs, checkpoints,
Hugging Face ``trainer_state.json``, any table) and returns a ``Run``: a metrics table indexed by
step plus what is known about the job. ``load_sample(name)`` opens a shipped real recording;
``poll_events`` shows why a polled event log misses steps. A new reader goes in this wing.
"""

from ftlab._lazy import lazy_exports

_EXPORTS = {
    "Run": "run",
    "load_run": "run",
    "sample_runs": "samples",
    "sample_names": "samples",
    "load_sample": "samples",
    "poll_events": "polling",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
