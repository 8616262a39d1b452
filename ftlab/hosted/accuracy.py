"""Task accuracy: how often a model's reply is exactly the right label, with its uncertainty.

For a classification task such as routing a bookshop's tickets (``data/chat/tickets_test.jsonl``:
reply ``billing``, ``technical``, ``account`` or ``shipping``), the number that matters is the
share of messages sent to the right team. :func:`task_accuracy` asks a model for a reply to every
record's prompt and compares it with the record's reference reply (its last assistant message):

- **Normalisation** (:func:`~ftlab.chat.labels.normalize_label`): both sides are stripped of surrounding spaces,
  lower-cased, and stripped of trailing punctuation, so ``" Billing."`` counts as ``billing``.
  Nothing else is forgiven: ``"billing team"`` or ``"It is billing"`` is not a label and is
  counted as ``other``; a classifier should answer with the label alone.
- **Uncertainty**: 80 test messages only estimate the accuracy. The 95 % **Wilson score
  interval** (:func:`~ftlab._report.wilson_interval`) says which true accuracies fit what was seen; unlike
  p ± 1.96·√(p(1−p)/n) it stays inside [0, 1] and is not zero-width at 0 or n correct.
- **Baselines**: a model must beat always answering the most common label (the *majority*
  baseline, the share of that label among the references) and guessing uniformly (the *chance*
  baseline, 1 / number of labels).

>>> acc = task_accuracy(lambda messages: "Billing.", [
...     {"messages": [{"role": "user", "content": "I was charged twice."},
...                   {"role": "assistant", "content": "billing"}]},
...     {"messages": [{"role": "user", "content": "Where is my parcel?"},
...                   {"role": "assistant", "content": "shipping"}]}], progress=False)
>>> acc
accuracy 0.50 (95% CI 0.09–0.91) on 2 examples; majority 0.50, chance 0.50
>>> acc.mistakes.to_dict("records")
[{'message': 'Where is my parcel?', 'reference': 'shipping', 'reply': 'Billing.'}]

:func:`mean_token_accuracy` is the other accuracy a fine-tuning service reports: the share of the
reference reply's tokens that the model ranks first when it reads the chat (teacher forcing).
"""

from ftlab.chat.labels import (OTHER, TaskAccuracy, check_labels, labelled_examples,  # noqa: F401
                               normalize_label, score_labels)
from ftlab.hosted.evaluate import _as_generate, _is_local_model, _reply_fields, _run_all

# TaskAccuracy, normalize_label and OTHER live in ftlab.chat.labels (the scoring rule, which the
# experiments use without asking a hosted model); they are re-exported here, where they were first.


# ----------------------------------------------------------------------------- the functions


def task_accuracy(model_or_generate, records, *, labels=None, confidence=0.95, workers=None,
                  progress=None, name=None, max_tokens=32):
    """Exact-match accuracy of a model's replies against each record's reference label.

    ``model_or_generate``: a tiny ftlab model (anything with ``generate``; replies are greedy,
    at most ``max_tokens`` characters), a hosted model from ``chat_model(client, name)``, or any
    function ``messages -> str``. ``records``: chat records or a JSONL path; each record's last
    assistant message is its reference label and the messages before it are the prompt.
    ``labels``: the label set (default: every reference reply seen, sorted); a reply that is none
    of them counts as ``other``. ``workers``: requests in flight at once (default 1 for a tiny
    model, 4 otherwise); ``progress``: a tqdm bar (default: when there are more than 8 records).
    Returns a :class:`TaskAccuracy`.
    """
    local = _is_local_model(model_or_generate, score=False)
    generate, default_name = _as_generate(model_or_generate, max_tokens, score=False)
    _, examples = labelled_examples(records)
    references = [reference for _, _, reference in examples]
    labels = check_labels(references, labels)  # before any request: a bad label set costs nothing
    workers = workers or (1 if local else 4)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    name = name or default_name
    replies = _run_all(generate, [prompt for prompt, _, _ in examples], workers, progress, name)
    return score_labels(references, [_reply_fields(reply)[0] for reply in replies],
                        messages=[user for _, user, _ in examples], labels=labels,
                        confidence=confidence, name=name)


def mean_token_accuracy(model, records):
    """Share of the reference replies' tokens that ``model`` predicts exactly (argmax), reading
    each chat with the true tokens before them: the train / valid ``mean_token_accuracy`` of a
    hosted fine-tuning job, here for a tiny ftlab model.

    Counted tokens are those the model is trained on: every assistant message whose ``weight`` is
    not 0, including the end-of-message token that closes it. The tokens of all records are
    pooled (a long reply counts more than a short one). A hosted model or a plain function only
    returns text, not its next-token predictions, so it cannot be scored this way; read a hosted
    job's token accuracy from its results file instead (``ftlab.fetch_run``).

    >>> from ftlab.tinylm.model import load_pretrained
    >>> acc = mean_token_accuracy(load_pretrained(), [{"messages": [
    ...     {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there"}]}])
    >>> round(acc * 12, 9).is_integer()  # 12 counted tokens: 11 characters and <|end|>
    True
    """
    if not hasattr(model, "evaluate"):
        raise TypeError(f"mean_token_accuracy needs a tiny ftlab model (with .evaluate), got a "
                        f"{type(model).__name__}: a hosted model or a function returns text, not "
                        "next-token predictions; use task_accuracy for it, or read a hosted job's "
                        "token accuracy with ftlab.fetch_run")
    records, _ = labelled_examples(records, "mean_token_accuracy")
    return float(model.evaluate(records)["token_accuracy"])
