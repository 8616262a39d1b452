"""Paraphrases from any chat model through the ``openai`` client, cached, with a dry run first.

``base_url`` points the client at OpenAI, an Azure OpenAI resource or a local OpenAI-compatible
server (Ollama, vLLM, llama.cpp); pass ``client=AzureOpenAI(...)`` for Azure's own client. Every
answer is kept in a JSONL cache keyed by a SHA-256 of the request, so running a notebook again
sends nothing and gives the same paraphrases. ``dry_run`` shows the prompts and their token
counts (and which are already cached) before anything is sent. A failure of the endpoint (a
rejected key, a rate limit, a server error, a reset, an HTML page) is a :class:`ParaphraseError`
that says what to do and never shows the key.

>>> p = ChatParaphraser("gpt-4o-mini", cache=None, n=2)
>>> p.messages("Why is the sky blue?")[-1]["content"]
'Why is the sky blue?'
"""

import hashlib
import json
import os
import re
import sys
from pathlib import Path

from ftlab._secrets import redact, remember
from ftlab.augment.ops import Edit

SYSTEM_PROMPT = (
    "You rewrite a user's message for a training data set. Give {n} different paraphrases that "
    "keep its meaning, facts, numbers, names and language, and vary the wording and sentence "
    "shape. Answer with a JSON list of {n} strings and nothing else.")


class ParaphraseError(RuntimeError):
    """The paraphrase model's endpoint failed; the message says why and what to do, holds no key.
    ``status`` is the HTTP status when there was one. Nothing failed is cached."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


# What to do about an HTTP status, in one sentence (hosted/ has the long explanations).
_ADVICE = {401: "the API key was rejected: check OPENAI_API_KEY (or api_key=) for this endpoint",
           403: "this key may not use this model: check the project's allowed models",
           404: "no such model or endpoint: check model= and base_url= (on Azure: the deployment)",
           429: "rate limited or out of quota: wait a minute (or check billing) and run again",
           500: "the service failed: run again later"}


def _explain(err, where):
    """A :class:`ParaphraseError` for an exception of the ``openai`` client (None for others)."""
    openai = sys.modules.get("openai")
    if openai is None or not isinstance(err, openai.OpenAIError):
        return None
    status = getattr(err, "status_code", None)
    body = getattr(err, "body", None)
    said = body.get("error", body) if isinstance(body, dict) else None
    said = said.get("message") if isinstance(said, dict) else None
    said = " ".join(redact(said or getattr(err, "message", None) or err).split())[:300].rstrip(".")
    if isinstance(err, openai.APIConnectionError):  # includes timeouts and reset connections
        what_to_do = ("could not reach it: check base_url and the network (is the local server "
                      "running?)")
    elif status is None:
        what_to_do = "its answer was not a chat completion: check that base_url points at the API"
    elif status >= 500:
        what_to_do = _ADVICE[500]
    else:
        what_to_do = _ADVICE.get(status, "the request was refused: the message names the problem")
    code = f" (HTTP {status})" if status else ""
    return ParaphraseError(f"The paraphrase model at {where} failed{code}: {said}. What to do: "
                           f"{what_to_do}; paraphrases already cached are not asked for again.",
                           status=status)


def _request_key(request):
    blob = json.dumps(request, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def parse_paraphrases(reply, original):
    """Read the model's reply: a JSON list of strings, else one paraphrase per non-empty line
    (list markers and quotes removed). The original and duplicates are dropped.

    >>> parse_paraphrases('["A?", "B?", "A?"]', "C?")
    ['A?', 'B?']
    >>> parse_paraphrases('1. "A?"\\n2) B?', "B?")
    ['A?']
    """
    reply = reply.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", reply, re.S)
    reply = fenced.group(1) if fenced else reply
    try:
        items = json.loads(reply)
        items = items if isinstance(items, list) else [items]
    except ValueError:
        items = reply.splitlines()
    out = []
    for item in items:
        text = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", str(item)).strip().strip('"').strip()
        if text and text != original.strip() and text not in out:
            out.append(text)
    return out


class ChatParaphraser:
    """Paraphrase user messages with a chat model; use as ``augment_chat(..., paraphraser=p)``.

    ``cache`` is a JSONL file (created on first use; ``None`` keeps answers in memory only).
    ``client`` is any object with ``chat.completions.create`` (an ``openai.OpenAI`` or
    ``AzureOpenAI``); without it one is made from ``base_url`` and ``api_key`` (default: the
    ``OPENAI_API_KEY`` environment variable), only when something is not in the cache.
    """

    def __init__(self, model="gpt-4o-mini", *, client=None, base_url=None, api_key=None, n=3,
                 temperature=0.9, max_tokens=400, cache="paraphrase_cache.jsonl", timeout=60.0,
                 max_retries=2):
        self.model, self.n, self.temperature, self.max_tokens = model, n, temperature, max_tokens
        self.base_url, self._api_key, self._client = base_url, api_key, client
        self.timeout, self.max_retries = timeout, max_retries
        remember(api_key)  # so that redact() hides it, whatever its shape
        remember(getattr(client, "api_key", None))
        self.cache_path = Path(cache) if cache is not None else None
        self.cache = {}
        self.sent = 0  # requests actually sent (not answered from the cache)
        if self.cache_path is not None and self.cache_path.exists():
            self._load_cache()

    # ------------------------------------------------------------------------- cache

    def _load_cache(self):
        with open(self.cache_path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                try:
                    entry = json.loads(line)
                    self.cache[entry["key"]] = entry["paraphrases"]
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut off by an interrupted run: that request is sent again

    def _remember(self, key, text, paraphrases):
        self.cache[key] = paraphrases
        if self.cache_path is None:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"key": key, "model": self.model, "text": text, "paraphrases": paraphrases}
        with open(self.cache_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    # ------------------------------------------------------------------------- requests

    def messages(self, text):
        """The chat messages sent for one text."""
        return [{"role": "system", "content": SYSTEM_PROMPT.format(n=self.n)},
                {"role": "user", "content": text}]

    def request(self, text):
        """The full request body for one text (what the cache key is computed from)."""
        return {"model": self.model, "messages": self.messages(text), "n": 1,
                "temperature": self.temperature, "max_tokens": self.max_tokens}

    def is_cached(self, text):
        return _request_key(self.request(text)) in self.cache

    def client(self):
        if self._client is None:
            from openai import OpenAI

            key = self._api_key or os.environ.get("OPENAI_API_KEY")
            if not key:
                raise ValueError("no API key for the paraphrase model: set OPENAI_API_KEY (or pass "
                                 "api_key=..., or client=...); for a local server any string works")
            remember(key)
            self._client = OpenAI(api_key=key, base_url=self.base_url, timeout=self.timeout,
                                  max_retries=self.max_retries)
        return self._client

    def _ask(self, body):
        """The reply's text; any failure of the endpoint is a :class:`ParaphraseError`."""
        client, where = self.client(), redact(self.base_url or "OpenAI")
        try:
            reply = client.chat.completions.create(**body)
        except json.JSONDecodeError:  # an answer cut off
            reply = None
        except Exception as err:
            friendly = _explain(err, where)
            if friendly is None:
                raise
            raise friendly from None  # the original's message may quote the key
        choices = getattr(reply, "choices", None)  # a gateway's HTML page comes back as a str
        if not choices or not hasattr(choices[0], "message"):
            raise ParaphraseError(f"The paraphrase model at {where} answered with something that is "
                                  "not a chat completion. What to do: check that base_url points at "
                                  "an OpenAI-compatible API (often ending in /v1), then run again.")
        return choices[0].message.content or ""

    def paraphrases(self, text):
        """Paraphrases of ``text`` (from the cache when asked before, else from the model).
        Raises :class:`ParaphraseError` when the endpoint fails; nothing failed is cached."""
        body = self.request(text)
        key = _request_key(body)
        if key not in self.cache:
            content = self._ask(body)
            self.sent += 1
            self._remember(key, text, parse_paraphrases(content, text))
        return list(self.cache[key])

    def __call__(self, text, rate, rng, lexicon=None):
        """The ``"paraphrase"`` operation: one of the model's paraphrases, chosen by ``rng``."""
        options = self.paraphrases(text)
        if not options:
            return text, []
        new = options[int(rng.integers(len(options)))]
        return new, [Edit("paraphrase", 0, text, new)]

    # ------------------------------------------------------------------------- dry run

    def dry_run(self, texts):
        """What would be sent, without sending: one row per distinct text with its prompt tokens,
        an estimate of the reply's tokens (``n`` paraphrases about as long as the text, plus JSON
        punctuation) and whether it is cached. ``texts``: strings, or chat records (their user
        turns). Token counts are exact for OpenAI models (tiktoken), else o200k_base's."""
        import pandas as pd

        from ftlab.chat.tokens import count_tokens

        rows, seen = [], []
        for text in _texts_of(texts):
            if text in seen:
                continue
            seen.append(text)
            prompt = count_tokens(self.messages(text), model=self.model)
            reply = self.n * (int(count_tokens(text, model=self.model)) + 3) + 2
            rows.append({"text": text, "prompt_tokens": int(prompt),
                         "est_reply_tokens": min(reply, self.max_tokens),
                         "cached": self.is_cached(text)})
        frame = pd.DataFrame(rows, columns=["text", "prompt_tokens", "est_reply_tokens", "cached"])
        frame.attrs["to_send"] = int((~frame["cached"]).sum()) if len(frame) else 0
        return frame

    def __repr__(self):
        where = self.base_url or "OpenAI"
        return (f"<ChatParaphraser {self.model} at {where}, n={self.n}, "
                f"{len(self.cache)} cached, cache={self.cache_path}>")


def _texts_of(items):
    for item in items:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for m in item.get("messages", []):
                if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str):
                    yield m["content"]
