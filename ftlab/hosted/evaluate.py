"""Score a chat model's replies against the reference replies of a validation set.

``generate`` is anything that answers a list of messages: a plain function ``messages -> str``, a
tiny ftlab model (``ftlab.tinylm``), or :func:`chat_model` for any OpenAI-compatible endpoint
(OpenAI, Azure OpenAI, a local server via ``base_url``). Each reply is scored against the
reference with

- ``exact``: the same text (spaces at the ends ignored);
- ``normalized``: the same after lower-casing and removing punctuation, articles and extra spaces;
- ``f1``: overlap of the normalized words (precision and recall of the reply's words), so a reply
  that is nearly right gets partial credit;

and, when the model reports token log-probabilities, the mean **surprisal** of its own reply
(−mean log p, nats per token) and its perplexity e^surprisal: how sure it was of what it said.

>>> ev = evaluate_chat(lambda messages: "Paris.", [
...     {"messages": [{"role": "user", "content": "Capital of France?"},
...                   {"role": "assistant", "content": "paris"}]}], progress=False)
>>> ev.summary["exact"], ev.summary["normalized"], ev.summary["f1"]
(0.0, 1.0, 1.0)
"""

import hashlib
import json
import math
import re
import string
import threading
import unicodedata
from collections import Counter

from ftlab.hosted.client import request, require_client

METRICS = ("exact", "normalized", "f1")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CACHE, _CACHE_LOCK = {}, threading.Lock()


# ----------------------------------------------------------------------------- scores


def normalize(text):
    """Lower case, no punctuation, no articles, single spaces (the SQuAD answer normalisation).

    >>> normalize("  The Answer, is: 42!  ")
    'answer is 42'
    """
    text = "".join(" " if unicodedata.category(c).startswith("P") or c in string.punctuation else c
                   for c in str(text).lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def f1_score(output, reference):
    """Word-overlap F1 of the normalized texts (1 when both are empty).

    >>> round(f1_score("a cat sat down", "the cat sat"), 3)
    0.8
    """
    out, ref = normalize(output).split(), normalize(reference).split()
    if not out or not ref:
        return float(out == ref)
    common = sum((Counter(out) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(out), common / len(ref)
    return 2 * precision * recall / (precision + recall)


SCORERS = {
    "exact": lambda out, ref: float(str(out).strip() == str(ref).strip()),
    "normalized": lambda out, ref: float(normalize(out) == normalize(ref)),
    "f1": f1_score,
}


# ----------------------------------------------------------------------------- an endpoint as generate


class ChatModel:
    """``messages -> {"text", "logprobs", "finish_reason"}`` for one model of an OpenAI-compatible
    endpoint. Replies are cached by (endpoint, model, messages, parameters), so scoring the same set
    again costs nothing; ``calls`` counts real requests, ``hits`` cached answers."""

    def __init__(self, client, model_name, *, temperature=0, max_tokens=256, logprobs=False,
                 seed=None, cache=True, **params):
        self.client = require_client(client, f"ask {model_name}")
        self.name = model_name
        self.params = {"temperature": temperature, "max_tokens": max_tokens, **params}
        if logprobs:
            self.params["logprobs"] = True
        if seed is not None:
            self.params["seed"] = seed
        self.cache, self.calls, self.hits = cache, 0, 0

    def __repr__(self):
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"chat_model({self.name!r}, {shown})"

    def _key(self, messages):
        blob = json.dumps([str(self.client.base_url), self.name, messages, self.params],
                          sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def __call__(self, messages):
        key = self._key(messages)
        if self.cache:
            with _CACHE_LOCK:
                if key in _CACHE:
                    self.hits += 1
                    return dict(_CACHE[key])
        response = request(f"get a reply from {self.name}", self.client.chat.completions, "create",
                           model=self.name, messages=messages, expect=("choices",), **self.params)
        with _CACHE_LOCK:  # several threads may be asking at once
            self.calls += 1
        choice = response.choices[0]
        content = getattr(getattr(choice, "logprobs", None), "content", None)
        reply = {"text": choice.message.content or "", "finish_reason": choice.finish_reason,
                 "logprobs": [t.logprob for t in content] if content else None}
        if self.cache:
            with _CACHE_LOCK:
                _CACHE[key] = dict(reply)
        return reply


def chat_model(client, model_name, *, temperature=0, max_tokens=256, logprobs=False, seed=None,
               cache=True, **params):
    """A ``generate`` for :func:`evaluate_chat` backed by ``client.chat.completions`` (see
    :class:`ChatModel`). ``temperature=0`` makes the replies (nearly) repeatable; ``logprobs=True``
    asks for token log-probabilities where the endpoint supports them."""
    return ChatModel(client, model_name, temperature=temperature, max_tokens=max_tokens,
                     logprobs=logprobs, seed=seed, cache=cache, **params)


def _tinylm_generate(model, max_tokens, *, score=True):
    """Greedy replies of a tiny ftlab model, with the surprisal of each reply under the model
    (``score=False``: the text alone, from any object with ``generate(messages, temperature=,
    max_tokens=)``)."""
    def generate(messages):
        if not score:
            return model.generate(messages, temperature=0, max_tokens=max_tokens)
        reply = model.generate(messages, temperature=0, max_tokens=max_tokens, details=True)
        text = reply["text"]
        scored = model.evaluate({"messages": [*messages, {"role": "assistant", "content": text}]})
        total, n = scored["loss"] * scored["n_tokens"], scored["n_tokens"]
        if reply["finish_reason"] == "length" and text:
            # evaluate also scores the <|end|> that closes a reply; a reply cut off at max_tokens
            # never wrote it, so leave it out: the surprisal is of what the model said
            total -= _end_token_loss(model, messages, text)
            n -= 1
        return {"text": text, "surprisal": total / n, "n_tokens": n}
    return generate


def _end_token_loss(model, messages, text):
    """-log p(<|end|>) after ``text``, the reply so far, in nats."""
    from ftlab.losses import log_softmax
    from ftlab.tinylm.text import END

    return -float(log_softmax(model.next_token_logits(messages, reply_so_far=text))[END])


def _is_local_model(obj, *, score=True):
    """A tiny ftlab model: it generates, and (when its replies are scored) evaluates."""
    return hasattr(obj, "generate") and (hasattr(obj, "evaluate") or not score)


def _as_generate(generate, max_tokens, *, score=True):
    """``(messages -> reply, name)`` for a function, a ``chat_model(...)`` or a tiny model.

    ``score=False`` asks a tiny model for its text only (no surprisal); then any object with a
    ``generate`` method counts as one."""
    if _is_local_model(generate, score=score):
        return _tinylm_generate(generate, max_tokens, score=score), getattr(generate, "name", "tinylm")
    if not callable(generate):
        raise TypeError(f"generate must be a function messages -> reply, a chat_model(...) or a "
                        f"tinylm model; got a {type(generate).__name__}")
    return generate, getattr(generate, "name", getattr(generate, "__name__", "model"))


# ----------------------------------------------------------------------------- evaluation


def _examples(records):
    """(prompt messages, reference reply) of each record: the chat up to its last assistant turn."""
    if isinstance(records, (str, bytes)) or hasattr(records, "__fspath__"):
        from ftlab.chat.files import read_chat_jsonl

        records = read_chat_jsonl(records)
    lines = getattr(records, "lines", None)
    out = []
    for i, record in enumerate(records):
        where = f"line {lines[i]}" if lines else f"record {i}"
        messages = record.get("messages") if isinstance(record, dict) else None
        if not isinstance(messages, list) or not messages:
            raise ValueError(f"{where}: no 'messages' list; evaluate_chat needs chat records "
                             "{'messages': [..., {'role': 'assistant', 'content': reference}]}")
        last = max((n for n, m in enumerate(messages) if isinstance(m, dict)
                    and m.get("role") == "assistant"), default=None)
        if last is None or not isinstance(messages[last].get("content"), str):
            raise ValueError(f"{where}: no assistant message with text content to compare with; "
                             "each record needs the reference reply as its last assistant message")
        out.append((messages[:last], messages[last]["content"]))
    if not out:
        raise ValueError("no records to evaluate")
    return out


def _reply_fields(reply):
    """Text, token count and summed surprisal (nats) of a reply: a str or a dict."""
    if isinstance(reply, str):
        return reply, None, None
    if not isinstance(reply, dict) or "text" not in reply:
        raise TypeError(f"generate must return a str or a dict with 'text', got {type(reply).__name__}")
    if reply.get("logprobs"):
        lps = reply["logprobs"]
        return reply["text"], len(lps), -float(sum(lps))
    if reply.get("surprisal") is not None and reply.get("n_tokens"):
        return reply["text"], int(reply["n_tokens"]), float(reply["surprisal"]) * reply["n_tokens"]
    return reply["text"], None, None


class ChatEvaluation:
    """Per-example ``table`` (prompt, reference, output, one column per metric, and surprisal /
    perplexity when known) and ``summary`` (mean of each metric; perplexity over all reply tokens)."""

    def __init__(self, name, table, metrics):
        self.name, self.table, self.metrics = name, table, tuple(metrics)
        self.summary = {"n": len(table), **{m: float(table[m].mean()) for m in self.metrics}}
        if "surprisal" in table and table["n_tokens"].notna().any():
            known = table.dropna(subset=["n_tokens"])
            mean = float((known["surprisal"] * known["n_tokens"]).sum() / known["n_tokens"].sum())
            self.summary.update(surprisal=mean, perplexity=math.exp(mean))

    def __repr__(self):
        scores = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in self.summary.items())
        return f"ChatEvaluation {self.name!r}: {scores}"

    def _repr_html_(self):
        import html

        return (f"<p><b>{html.escape(repr(self))}</b></p>"
                + self.table.head(10).to_html(index=False, float_format=lambda x: f"{x:.3f}"))


def evaluate_chat(generate, records, *, metrics=METRICS, workers=None, progress=None, name=None,
                  max_tokens=200):
    """Ask ``generate`` for a reply to every record's prompt and score it against the record's
    reference reply (its last assistant message). Returns a :class:`ChatEvaluation`.

    ``records``: chat records or a JSONL path. ``workers``: requests in flight at once (default 4 for
    functions and endpoints, 1 for a tiny model); ``max_tokens`` only applies to tiny models.
    """
    import pandas as pd

    unknown = [m for m in metrics if m not in SCORERS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {', '.join(SCORERS)}")
    local = _is_local_model(generate)
    generate, default_name = _as_generate(generate, max_tokens)
    examples = _examples(records)
    workers = workers or (1 if local else 4)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    replies = _run_all(generate, [p for p, _ in examples], workers, progress, name or default_name)
    rows = []
    for (prompt, reference), reply in zip(examples, replies):
        text, n_tokens, total = _reply_fields(reply)
        user = next((m.get("content") for m in reversed(prompt) if m.get("role") == "user"), "")
        row = {"prompt": user, "reference": reference, "output": text}
        row.update({m: SCORERS[m](text, reference) for m in metrics})
        if n_tokens:
            row.update(n_tokens=n_tokens, surprisal=total / n_tokens,
                       perplexity=math.exp(total / n_tokens))
        rows.append(row)
    return ChatEvaluation(name or default_name, pd.DataFrame(rows), metrics)


def _run_all(generate, prompts, workers, progress, label):
    """Replies in prompt order; at most ``workers`` calls at once; a tqdm bar when slow-ish."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    show = progress if progress is not None else len(prompts) > 8
    bar = tqdm(total=len(prompts), desc=f"asking {label}", disable=not show)
    replies = [None] * len(prompts)

    def one(i):
        replies[i] = generate(prompts[i])
        bar.update(1)

    try:
        if workers == 1:
            for i in range(len(prompts)):
                one(i)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for future in [pool.submit(one, i) for i in range(len(prompts))]:
                    future.result()  # re-raises the first failure
    finally:
        bar.close()
    return replies


class ChatComparison:
    """Several models on the same records: ``summary`` (one row per model) and ``table`` (one row per
    example: prompt, reference, then each model's output and scores)."""

    def __init__(self, evaluations):
        import pandas as pd

        self.evaluations = evaluations
        self.summary = pd.DataFrame([{"model": n, **e.summary} for n, e in evaluations.items()]
                                    ).set_index("model")
        first = next(iter(evaluations.values())).table
        parts = [first[["prompt", "reference"]]]
        for n, e in evaluations.items():
            cols = [c for c in e.table.columns if c not in ("prompt", "reference")]
            parts.append(e.table[cols].add_prefix(f"{n}: "))
        self.table = pd.concat(parts, axis=1)

    def __repr__(self):
        return "ChatComparison\n" + self.summary.round(3).to_string()

    def _repr_html_(self):
        return "<p><b>ChatComparison</b></p>" + self.summary.to_html(float_format=lambda x: f"{x:.3f}")


def compare_chat(models, records, **options):
    """Evaluate several models (``{"base": g1, "fine-tuned": g2}``) on the same records; see
    :func:`evaluate_chat` for the options. Returns a :class:`ChatComparison`."""
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a dict of name -> generate, e.g. {'base': ..., 'fine-tuned': ...}")
    return ChatComparison({name: evaluate_chat(g, records, name=name, **options)
                           for name, g in models.items()})
