"""ftlab: a fine-tuning lab for learners.

The package is built in wings, one per chapter of the course (``docs/architecture.md``):
``curves``, ``runs``, ``chat``, ``tinylm``, ``augment``, ``hosted``, ``widgets``, ``course``.
Everything a notebook needs is re-exported here, but imported only on first use, so that
``import ftlab`` stays fast and pulls in neither matplotlib, ipywidgets, openai nor tiktoken.

>>> import ftlab
>>> round(float(ftlab.perplexity(0.0)), 3)
1.0
>>> ftlab.tinylm.load_pretrained().generate("The", max_tokens=0)
''
"""

from importlib import import_module

from ftlab._lazy import lazy_exports

__version__ = "0.1.0"

# The wings, importable as attributes after a plain `import ftlab` (ftlab.tinylm.load_pretrained()).
WINGS = ("curves", "runs", "chat", "tinylm", "augment", "hosted", "widgets", "course")

# public name -> the module or wing that defines it (a wing resolves it to its own module)
_EXPORTS = {
    # losses
    "softmax": "losses",
    "log_softmax": "losses",
    "cross_entropy": "losses",
    "cross_entropy_from_probs": "losses",
    "perplexity": "losses",
    "nats_to_bits": "losses",
    "bits_to_nats": "losses",
    "loss_from_perplexity": "losses",
    "token_accuracy": "losses",
    # inference parameters (the tiny model itself: ftlab.tinylm)
    "apply_temperature": "sampling",
    "top_k_filter": "sampling",
    "top_p_filter": "sampling",
    "sample": "sampling",
    # loss curves, early stopping, instructor mode
    "smooth": "curves",
    "diagnose": "curves",
    "plot_run": "curves",
    "plot_runs": "curves",
    "plot_sweep": "curves",
    "simulate_early_stopping": "curves",
    "sweep_early_stopping": "curves",
    "presenter": "curves",
    # runs: every recorded format read into one Run; the shipped recordings
    "Run": "runs",
    "load_run": "runs",
    "sample_runs": "runs",
    "load_sample": "runs",
    "poll_events": "runs",
    # chat data
    "read_chat_jsonl": "chat",
    "iter_jsonl": "chat",
    "write_chat_jsonl": "chat",
    "to_chat": "chat",
    "ChatRecords": "chat",
    "split_chat": "chat",
    "validate_chat": "chat",
    "ChatReport": "chat",
    "count_tokens": "chat",
    "get_encoding": "chat",
    "encoding_name_for_model": "chat",
    "estimate_training": "chat",
    "default_epochs": "chat",
    "chat_stats": "chat",
    "distinct_n": "chat",
    "find_duplicates": "chat",
    # data augmentation (user turns): EDA, noise, paraphrase
    "augment_chat": "augment",
    "augment_text": "augment",
    "ChatParaphraser": "augment",
    "augmentation_experiment": "augment",
    # hosted fine-tuning (OpenAI / Azure OpenAI) and evaluating chat replies
    "get_client": "hosted",
    "plan_job": "hosted",
    "start_job": "hosted",
    "wait": "hosted",
    "fetch_run": "hosted",
    "list_jobs": "hosted",
    "evaluate_chat": "hosted",
    "chat_model": "hosted",
    "compare_chat": "hosted",
    "task_accuracy": "hosted",
    "mean_token_accuracy": "hosted",
    "prompt_baseline": "hosted",
    "few_shot_prompt": "hosted",
    "read_preference_jsonl": "chat",
    # explorers (all of them: ftlab.widgets)
    "polling_explorer": "widgets",
    "training_lab": "widgets",
    "feedback_loop": "widgets",
    # self-check exercises
    "data_dir": "_data",
    "wilson_interval": "_report",
    "t_quantile": "_report",
    "paired_interval": "_report",
    "accuracy_interval": "_report",
    "check": "course",
    "solution": "course",
    "exercises": "course",
}

_getattr, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)


def __getattr__(name):
    if name in WINGS:
        return import_module(f"{__name__}.{name}")
    return _getattr(name)
