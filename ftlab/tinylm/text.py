"""Text side of the tiny language model: a character vocabulary and a fixed chat template.

The model reads characters, not subword tokens, so its vocabulary is small enough to print: the 95
printable ASCII characters, the newline, and six special tokens. Other characters are folded to a
close ASCII spelling where one exists ("é" → "e", "’" → "'") and to ``<|unk|>`` otherwise.

A chat is rendered with a fixed template, one special token per role and ``<|end|>`` after each
message::

    <|system|>You are Marv.<|end|><|user|>Hi<|end|><|assistant|>Oh. Hi.<|end|>

Fine-tuning on chats trains **only the assistant tokens**: the reply's characters and its closing
``<|end|>`` (so the model learns when to stop). Every other position gets the target
``IGNORE_INDEX``, which ``ftlab.cross_entropy`` skips. An assistant message with ``"weight": 0``
is kept as context but not trained on, as in OpenAI's fine-tuning format.
"""

import json
import unicodedata

import numpy as np

IGNORE_INDEX = -100

PAD, UNK, SYSTEM, USER, ASSISTANT, END = range(6)
SPECIALS = ["<|pad|>", "<|unk|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
CHARS = "\n" + "".join(chr(c) for c in range(32, 127))
VOCAB = SPECIALS + list(CHARS)
VOCAB_SIZE = len(VOCAB)

_CHAR_ID = {c: i + len(SPECIALS) for i, c in enumerate(CHARS)}
_ROLE_TOKEN = {"system": SYSTEM, "developer": SYSTEM, "user": USER, "tool": USER,
               "function": USER, "assistant": ASSISTANT}
# Typography that Unicode decomposition leaves alone, spelled in ASCII.
_ASCII_SPELLING = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                                 "…": "...", "\t": "    ", "\r": None, "\u00a0": " ", "×": "x",
                                 "−": "-", "•": "*"})


def normalise(text):
    """Fold text onto the model's characters: drop accents, spell typography in ASCII.

    >>> normalise("Café — “quoted”")
    'Cafe - "quoted"'
    """
    text = unicodedata.normalize("NFKD", str(text).translate(_ASCII_SPELLING))
    return "".join(c for c in text if not unicodedata.combining(c))


def encode(text):
    """Character ids of ``text`` (after ``normalise``); unknown characters become ``UNK``.

    >>> encode("Hi!").tolist()
    [47, 80, 8]
    """
    return np.array([_CHAR_ID.get(c, UNK) for c in normalise(text)], dtype=np.int64)


def decode(ids, *, specials=False):
    """Text of token ids. Special tokens are dropped unless ``specials=True``.

    >>> decode(encode("Hi!"))
    'Hi!'
    """
    parts = []
    for i in np.asarray(ids, dtype=np.int64).ravel().tolist():
        if not 0 <= i < VOCAB_SIZE:
            raise ValueError(f"token id {i} is outside the vocabulary (0..{VOCAB_SIZE - 1})")
        if i >= len(SPECIALS) or specials:
            parts.append(VOCAB[i])
    return "".join(parts)


def token_label(i):
    """A printable label for a token id, for plots: space as '␣', newline as '⏎'.

    >>> [token_label(i) for i in (END, *encode(" \\nA"))]
    ['<|end|>', '␣', '⏎', 'A']
    """
    return {" ": "␣", "\n": "⏎"}.get(VOCAB[i], VOCAB[i])


# ----------------------------------------------------------------------------- chats


def _messages_of(record, where):
    """The message list of a chat record: a dict with "messages", an object with .messages, or a list."""
    messages = getattr(record, "messages", None)
    if messages is None and isinstance(record, dict):
        messages = record.get("messages")
    if messages is None and isinstance(record, (list, tuple)):
        messages = record
    if not isinstance(messages, (list, tuple)) or not messages:
        raise ValueError(f"{where}: expected a chat record with a non-empty 'messages' list, "
                         f"got {type(record).__name__}")
    return messages


def _content_text(message, where):
    content = message.get("content")
    if content is None:
        content = ""
    if isinstance(content, list):  # typed parts: keep the text ones
        content = "".join(part.get("text", "") for part in content
                          if isinstance(part, dict) and part.get("type") == "text")
    if not isinstance(content, str):
        raise ValueError(f"{where}.content: must be a string or a list of text parts, "
                         f"got {type(content).__name__}")
    if message.get("tool_calls"):  # a function call is text the assistant writes
        content += json.dumps(message["tool_calls"], sort_keys=True, ensure_ascii=True)
    return content


def render_chat(record, *, where="chat", add_generation_prompt=False):
    """Token ids and training targets of one chat, rendered with the fixed template.

    ``targets[t]`` is ``tokens[t]`` at the positions the loss counts (assistant replies whose
    ``weight`` is not 0, and their ``<|end|>``) and ``IGNORE_INDEX`` elsewhere. With
    ``add_generation_prompt=True`` an ``<|assistant|>`` token is appended, ready for generation.

    >>> tokens, targets = render_chat({"messages": [{"role": "user", "content": "Hi"},
    ...                                             {"role": "assistant", "content": "Yo"}]})
    >>> decode(tokens, specials=True)
    '<|user|>Hi<|end|><|assistant|>Yo<|end|>'
    >>> int((targets != IGNORE_INDEX).sum())  # "Y", "o" and <|end|>
    3
    """
    tokens, targets = [], []
    for k, message in enumerate(_messages_of(record, where)):
        here = f"{where}: messages[{k}]"
        if not isinstance(message, dict):
            raise ValueError(f"{here}: must be an object with 'role' and 'content'")
        role = message.get("role")
        if role not in _ROLE_TOKEN:
            raise ValueError(f"{here}.role: {role!r} is not one of {sorted(_ROLE_TOKEN)}")
        body = np.append(encode(_content_text(message, here)), END)
        trained = role == "assistant" and message.get("weight", 1) != 0
        tokens += [_ROLE_TOKEN[role], *body.tolist()]
        targets += [IGNORE_INDEX, *(body.tolist() if trained else [IGNORE_INDEX] * len(body))]
    if add_generation_prompt:
        tokens.append(ASSISTANT)
        targets.append(IGNORE_INDEX)
    return np.array(tokens, dtype=np.int64), np.array(targets, dtype=np.int64)


def render_prompt(record, *, where="chat"):
    """Tokens that ask for the next assistant reply: the chat up to (not including) its last
    assistant message when it ends with one, then ``<|assistant|>``."""
    messages = list(_messages_of(record, where))
    if messages[-1].get("role") == "assistant":
        messages = messages[:-1]
    if not messages:
        return np.array([ASSISTANT], dtype=np.int64)
    tokens, _ = render_chat({"messages": messages}, where=where, add_generation_prompt=True)
    return tokens


def contexts(tokens, context_size):
    """Matrix of the ``context_size`` tokens before each position, padded with ``PAD`` at the start.

    Row t holds tokens[t-C : t]: what the model sees when it predicts tokens[t].

    >>> contexts(np.array([7, 8, 9]), 2).tolist()
    [[0, 0], [0, 7], [7, 8]]
    """
    padded = np.concatenate([np.full(context_size, PAD, dtype=np.int64), np.asarray(tokens)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, context_size)
    return np.ascontiguousarray(windows[: len(tokens)])
