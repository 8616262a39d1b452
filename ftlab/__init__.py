"""ftlab: a fine-tuning lab for learners.

Everything a notebook needs is re-exported here, but imported only on first use, so that
``import ftlab`` stays fast and pulls in neither matplotlib, ipywidgets, openai nor tiktoken.

>>> import ftlab
>>> round(float(ftlab.perplexity(0.0)), 3)
1.0
"""

from importlib import import_module

__version__ = "0.1.0"

# public name -> module that defines it (add a line here when a module gains a public name)
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
    # self-check exercises
    "check": "exercises",
    # instructor mode
    "presenter": "instructor",
    # runs: every recorded format read into one Run; the shipped recordings
    "Run": "runs",
    "load_run": "runs",
    "sample_runs": "samples",
    "load_sample": "samples",
    "poll_events": "event_polling",
    "polling_explorer": "run_widgets",
    # chat data
    "read_chat_jsonl": "chat_data",
    "iter_jsonl": "chat_data",
    "write_chat_jsonl": "chat_data",
    "to_chat": "chat_data",
    "ChatRecords": "chat_data",
    "split_chat": "chat_data",
    "validate_chat": "chat_validate",
    "ChatReport": "chat_validate",
    "count_tokens": "tokens",
    "get_encoding": "tokens",
    "encoding_name_for_model": "tokens",
    "estimate_training": "tokens",
    "default_epochs": "tokens",
    "chat_stats": "chat_summary",
    "distinct_n": "chat_summary",
    "find_duplicates": "duplicates",
    # data augmentation (user turns): EDA, noise, paraphrase
    "augment_chat": "augment_data",
    "augment_text": "augment",
    "ChatParaphraser": "augment_llm",
    "augmentation_experiment": "augment_experiment",
    # loss curves and early stopping (widgets: import ftlab.widgets)
    "smooth": "curves",
    "diagnose": "curves",
    "plot_run": "plots",
    "plot_runs": "plots",
    "plot_sweep": "plots",
    "simulate_early_stopping": "early_stopping",
    "sweep_early_stopping": "early_stopping",
    # inference parameters (the tiny model itself: ftlab.tinylm)
    "apply_temperature": "sampling",
    "top_k_filter": "sampling",
    "top_p_filter": "sampling",
    "sample": "sampling",
    # hosted fine-tuning (OpenAI / Azure OpenAI) and evaluating chat replies
    "get_client": "hosted",
    "plan_job": "hosted_jobs",
    "start_job": "hosted_jobs",
    "wait": "hosted_jobs",
    "fetch_run": "hosted_runs",
    "list_jobs": "hosted_runs",
    "evaluate_chat": "hosted_eval",
    "chat_model": "hosted_eval",
    "compare_chat": "hosted_eval",
}

# submodules reachable as attributes after a plain `import ftlab`, e.g. ftlab.tinylm.load_pretrained()
_SUBMODULES = ("tinylm",)

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"ftlab.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ftlab' has no attribute {name!r}")
    value = getattr(import_module(f"ftlab.{module}"), name)
    globals()[name] = value  # cache: the next lookup is a plain attribute
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
