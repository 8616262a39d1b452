"""Chat training data (notebook 05): JSONL files read and written safely, checks, tokens, cost, splits.

``read_chat_jsonl(path)`` reads a file and reports every line it cannot read; ``validate_chat``
checks it the way a fine-tuning service does and estimates tokens and cost; ``chat_stats`` and
``find_duplicates`` measure consistency, diversity and leakage; ``split_chat`` makes a leak-free
validation set. ``score_labels`` is the one rule that scores a classifier's labels;
``ticket_variants`` rewrites the ticket data with other instructions and metadata fields.
"""

from ftlab._lazy import lazy_exports

_EXPORTS = {
    "read_chat_jsonl": "files",
    "iter_jsonl": "files",
    "write_chat_jsonl": "files",
    "to_chat": "files",
    "ChatRecords": "files",
    "split_chat": "files",
    "content_text": "messages",
    "validate_chat": "validate",
    "ChatReport": "validate",
    "count_tokens": "tokens",
    "get_encoding": "tokens",
    "encoding_name_for_model": "tokens",
    "estimate_training": "tokens",
    "default_epochs": "tokens",
    "chat_stats": "summary",
    "distinct_n": "summary",
    "find_duplicates": "duplicates",
    "normalize_label": "labels",
    "score_labels": "labels",
    "labelled_examples": "labels",
    "TaskAccuracy": "labels",
    "ticket_variant": "variants",
    "ticket_variants": "variants",
    "read_preference_jsonl": "preference",
    "examples_from_corrections": "corrections",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
