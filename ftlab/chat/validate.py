"""``validate_chat``: every reason a fine-tuning file would be rejected or train badly, with a fix.

It streams the file once: each line is parsed, checked (``chat_checks``), token-counted with the
model's real encoding, and reduced to a few integers (its token count and content hashes), so memory
stays flat however large the file. File-level checks — duplicates, validation leakage, system-prompt
consistency, length outliers — run on those integers at the end.

>>> report = validate_chat(b'{"messages": [{"role": "user", "content": "hi"}]}\\n')
>>> report.ok, [p.code for p in report.errors]
(False, ['too_few_examples', 'example_missing_assistant_message'])
"""

import hashlib
import html
import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from ftlab._report import plural
from ftlab.chat.checks import (FIXES, check_chat_example, check_preference_example, detect_format,
                               problem)
from ftlab.chat.files import ChatRecords, Problem, iter_jsonl
from ftlab.chat.messages import content_text
from ftlab.chat.tokens import (TOKENS_PER_MESSAGE, TOKENS_REPLY_PRIMING, encoding_name_for_model,
                               get_encoding, message_tokens, token_limit)

MIN_EXAMPLES = 10
# Length outliers: an example whose user/assistant text is this many times longer (shorter) than
# the median is flagged.
OUTLIER_RATIO = 5
_MAX_LISTED = 30  # problems shown in repr; the rest are in to_frame()
# Assistant replies at least this long (normalised characters) count as leaked when repeated: a
# short reply such as a label ("billing") is shared by design, not leaked.
MIN_LEAK_CHARS = 40


@dataclass
class ChatReport:
    """What ``validate_chat`` found. ``ok`` is True when there are no errors (warnings allowed)."""

    source: str
    format: str
    n_examples: int
    problems: list
    example_tokens: object  # array of the billed tokens of each countable example, in file order
    encoding: str
    tokens_exact: bool
    model: str | None
    token_limit: int
    valid: "ChatReport | None" = None
    notes: list = field(default_factory=list)
    path: str | None = None  # the file's full path when it was read from one (to count it again)

    @property
    def errors(self):
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self):
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self):
        return not self.errors and (self.valid is None or self.valid.ok)

    @property
    def n_tokens(self):
        return sum(self.example_tokens)

    def counts(self):
        """Number of problems of each code, errors first."""
        out = {}
        for p in sorted(self.problems, key=lambda p: p.severity != "error"):
            out[p.code] = out.get(p.code, 0) + 1
        return out

    def all_problems(self):
        """(file, problem) pairs of this report and of its validation file's report."""
        pairs = [(self.source, p) for p in self.problems]
        return pairs + ([(self.valid.source, p) for p in self.valid.problems] if self.valid else [])

    def to_frame(self):
        """One row per problem: file, line, severity, code, field, message, fix."""
        import pandas as pd

        cols = ["file", "line", "severity", "code", "field", "message", "fix"]
        return pd.DataFrame([{"file": f, **p.to_dict()} for f, p in self.all_problems()], columns=cols)

    def to_dict(self):
        """Plain data for ``ftlab check --json``."""
        d = {"source": self.source, "ok": self.ok, "format": self.format, "n_examples": self.n_examples,
             "n_errors": len(self.errors), "n_warnings": len(self.warnings), "n_tokens": self.n_tokens,
             "encoding": self.encoding, "tokens_exact": self.tokens_exact, "model": self.model,
             "token_limit": self.token_limit, "problems": [p.to_dict() for p in self.problems]}
        if self.valid is not None:
            d["valid"] = self.valid.to_dict()
        return d

    def estimate(self, *, n_epochs="auto", prices=None, model=None, provider="openai"):
        """Billed tokens, epochs and cost of training on this file (see ``estimate_training``)."""
        from ftlab.chat.tokens import estimate_training

        return estimate_training(self, model=model or self.model, n_epochs=n_epochs, prices=prices,
                                 provider=provider)

    def summary(self):
        verdict = "OK" if not self.errors else "NOT OK"
        exact = "exact" if self.tokens_exact else "ESTIMATED: no tokenizer"
        return (f"{_display_name(self.source)}: {plural(self.n_examples, 'example')} ({self.format}), "
                f"{plural(len(self.errors), 'error')}, "
                f"{plural(len(self.warnings), 'warning')} — {verdict}\n"
                f"tokens: {self.n_tokens:,} ({self.encoding}, {exact}), limit {self.token_limit:,} "
                f"per example")

    def __repr__(self):
        parts = [self.summary()] + [f"  {_where(p)}  [{p.code}] {p.message} Fix: {p.fix}"
                                    for p in self.problems[:_MAX_LISTED]]
        if len(self.problems) > _MAX_LISTED:
            parts.append(f"  … {len(self.problems) - _MAX_LISTED} more: report.to_frame()")
        parts += self.notes
        if self.valid is not None:
            parts.append("validation file: " + repr(self.valid))
        return "\n".join(parts)

    def _repr_html_(self):
        colour = "#1b7f3b" if not self.errors else "#b3261e"
        rows = "".join(
            f"<tr><td>{_where(p)}</td><td style='color:{'#b3261e' if p.severity == 'error' else '#8a6d00'}'>"
            f"{p.severity}</td><td><code>{p.code}</code></td><td><code>{html.escape(p.field)}</code></td>"
            f"<td>{html.escape(p.message)}</td><td>{html.escape(p.fix)}</td></tr>"
            for p in self.problems[:_MAX_LISTED])
        more = (f"<p>… {len(self.problems) - _MAX_LISTED} more: <code>report.to_frame()</code></p>"
                if len(self.problems) > _MAX_LISTED else "")
        table = ("<table><tr><th>where</th><th>severity</th><th>code</th><th>field</th><th>problem</th>"
                 f"<th>fix</th></tr>{rows}</table>") if rows else ""
        valid = f"<h4>validation file</h4>{self.valid._repr_html_()}" if self.valid is not None else ""
        summary = html.escape(self.summary()).replace("\n", "<br>")
        return f"<div style='border-left:4px solid {colour};padding:4px 10px'>{summary}{table}{more}</div>{valid}"


def _display_name(source):
    """The file name only: reports stay readable and never show a user's folders."""
    from pathlib import PurePath

    return source if source.startswith("<") else PurePath(source).name


def _where(p):
    return "file" if p.line == 0 else f"line {p.line}"


def _hash(text):
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                          "little")


def _norm(text):
    return " ".join(text.lower().split())


class _Scan:
    """State of one pass over a file: the problems and a few integers per example."""

    def __init__(self, enc, limit, fmt, leak_index, collect):
        self.enc, self.limit, self.fmt, self.leak_index = enc, limit, fmt, leak_index
        self.problems, self.n_examples = [], 0
        # a few numbers per example, in compact arrays (about 28 bytes per example): memory stays flat
        self.tokens, self.lines = array("I"), array("I")
        self.example_hash, self.system_hash = array("Q"), array("Q")
        self.prompt_hash, self.reply_hash = array("Q"), array("Q")  # for conflicting replies
        self.chars = array("I")  # characters of non-system text: the yardstick for length outliers
        self.last_system = (None, 0)  # most files repeat one system prompt: hash it once
        # validation file only: hash of each conversation and long reply -> first line
        self.collect, self.leak_keys = collect, {}
        self.role_tokens = {}

    def add(self, line, ex):
        self.n_examples += 1
        if self.fmt == "auto":
            self.fmt = detect_format(ex)
        try:
            if self.fmt == "preference":
                found = check_preference_example(ex, line)
            else:
                found = check_chat_example(ex, line)
        except RecursionError:
            found = [problem(line, "data_type", "the example is nested too deeply to check.")]
        self.problems += found
        if any(p.severity == "error" and p.code != "too_many_tokens" for p in found):
            return  # structure is broken: counting or comparing it would mean nothing
        messages, extra = self._messages(ex)
        n = self._count(messages) + extra
        if n > self.limit:
            self.problems.append(problem(line, "too_many_tokens",
                                         f"{n:,} tokens, over the limit of {self.limit:,}.", "messages"))
        self.tokens.append(n)
        self.lines.append(line)
        self._remember(line, messages)

    def _messages(self, ex):
        if self.fmt == "preference":
            outs = [ex["preferred_output"][0], ex["non_preferred_output"][0]]
            longest = max(len(self.enc.encode_ordinary(o["content"])) for o in outs)
            return ex["input"]["messages"] + [ex["preferred_output"][0]], longest - len(
                self.enc.encode_ordinary(ex["preferred_output"][0]["content"]))
        extra = 0
        if ex.get("tools"):
            import json

            extra = len(self.enc.encode_ordinary(json.dumps(ex["tools"], ensure_ascii=False)))
        return ex["messages"], extra

    def _count(self, messages):
        # the cookbook's count, with a cache for role strings (this loop is the hot path)
        n, enc, cache = TOKENS_REPLY_PRIMING, self.enc, self.role_tokens
        for m in messages:
            if len(m) == 2 and type(m.get("content")) is str and type(m.get("role")) is str:
                role = m["role"]
                if role not in cache:
                    cache[role] = len(enc.encode_ordinary(role))
                n += TOKENS_PER_MESSAGE + cache[role] + len(enc.encode_ordinary(m["content"]))
            else:
                n += message_tokens(m, enc)
        return n

    def _remember(self, line, messages):
        texts, system, chars, leak = [], 0, 0, None
        for m in messages:
            role, text = m.get("role"), content_text(m.get("content"))
            if role == "system":
                system = system or self._system_hash(text)
                continue
            text = _norm(text)
            texts.append(f"{role}\x1f{text}")
            chars += len(text)
            # short replies (labels such as "billing") are meant to repeat; longer ones are not
            if role == "assistant" and len(text) >= MIN_LEAK_CHARS and (self.collect or self.leak_index):
                h = _hash(text)
                if self.collect:
                    self.leak_keys.setdefault(h, line)
                elif self.leak_index and h in self.leak_index:
                    leak = f"this assistant reply is also in the validation file (line {self.leak_index[h]})."
        h = _hash("\x1e".join(texts))  # system prompt left out: same conversation = duplicate
        if self.collect:
            self.leak_keys.setdefault(h, line)
        elif self.leak_index and h in self.leak_index:
            leak = f"the same conversation is in the validation file (line {self.leak_index[h]})."
        if leak:
            self.problems.append(problem(line, "leakage", leak, "messages", "warning"))
        last = max((i for i, t in enumerate(texts) if t.startswith("assistant\x1f")), default=None)
        self.prompt_hash.append(0 if last is None else _hash("\x1e".join(texts[:last])))
        self.reply_hash.append(0 if last is None else _hash(texts[last]))
        self.example_hash.append(h)
        self.system_hash.append(system)
        self.chars.append(chars)

    def _system_hash(self, text):
        if self.last_system[0] != text:
            self.last_system = (text, _hash(_norm(text)) or 1)
        return self.last_system[1]

    def finish(self, is_training, min_examples):
        import numpy as np

        errors = any(p.severity == "error" for p in self.problems)
        if self.n_examples == 0 and not errors:
            self.problems.append(problem(0, "empty_file", "the file has no examples."))
        elif is_training and 0 < self.n_examples < min_examples:
            self.problems.append(problem(0, "too_few_examples",
                                         f"{plural(self.n_examples, 'example')}; at least {min_examples} are needed."))
        if not self.lines:
            return
        lines = np.frombuffer(self.lines, dtype=np.uint32)
        self._duplicates(np.frombuffer(self.example_hash, dtype=np.uint64), lines)
        self._conflicts(np.frombuffer(self.prompt_hash, dtype=np.uint64),
                        np.frombuffer(self.reply_hash, dtype=np.uint64), lines)
        self._system_prompts(np.frombuffer(self.system_hash, dtype=np.uint64), lines)
        self._outliers(np.frombuffer(self.chars, dtype=np.uint32).astype(np.int64), lines)

    def _duplicates(self, hashes, lines):
        import numpy as np

        order = np.argsort(hashes, kind="stable")  # stable: the first occurrence comes first
        sorted_h = hashes[order]
        first = np.searchsorted(sorted_h, sorted_h, side="left")  # start of each one's group
        for k in np.flatnonzero(first != np.arange(len(sorted_h))):
            self.problems.append(problem(int(lines[order[k]]), "duplicate_example",
                                         f"same as line {int(lines[order[first[k]]])}.", "messages",
                                         "warning"))

    def _conflicts(self, prompts, replies, lines):
        """The same prompt (every turn before the last reply) with a different last reply: the data
        contradict themselves, and the model learns to hedge between the answers."""
        import numpy as np

        order = np.lexsort((np.arange(len(prompts)), prompts))  # by prompt, then file order
        sorted_p = prompts[order]
        first = np.searchsorted(sorted_p, sorted_p, side="left")
        for k in np.flatnonzero((first != np.arange(len(sorted_p))) & (sorted_p != 0)):
            i, head = order[k], order[first[k]]
            if replies[i] != replies[head]:
                self.problems.append(problem(
                    int(lines[i]), "conflicting_replies",
                    f"the same prompt as line {int(lines[head])}, with a different reply.",
                    "messages", "warning"))

    def _system_prompts(self, system, lines):
        import numpy as np

        with_system = system[system != 0]
        if len(with_system) == 0:
            return
        values, first_index, counts = np.unique(with_system, return_index=True, return_counts=True)
        top = values[np.lexsort((first_index, -counts))[0]]  # most common, earliest on ties
        if counts.max() * 2 < len(system):
            return  # no prompt is used by most examples: nothing to be consistent with
        for i in np.flatnonzero(system != top):
            code, what = (("missing_system_prompt", "no system prompt, unlike most examples.")
                          if system[i] == 0 else
                          ("system_prompt_variant", "a different system prompt from most examples."))
            self.problems.append(problem(int(lines[i]), code, what, "messages[0]", "warning"))

    def _outliers(self, chars, lines):
        import numpy as np

        if len(chars) < MIN_EXAMPLES:
            return
        median = float(np.median(chars))
        what = "characters of user/assistant text"
        for i in np.flatnonzero(chars > OUTLIER_RATIO * median):
            self.problems.append(problem(int(lines[i]), "long_example", f"{int(chars[i]):,} {what}, "
                                         f"{chars[i] / median:.0f}× the median ({median:.0f}).",
                                         "messages", "warning"))
        for i in np.flatnonzero(chars * OUTLIER_RATIO < median):
            self.problems.append(problem(int(lines[i]), "short_example", f"{int(chars[i])} {what}, "
                                         f"under 1/{OUTLIER_RATIO} of the median ({median:.0f}).",
                                         "messages", "warning"))


def _items(source, progress):
    """(line, value, problem) triples from a path/bytes/stream or from records in memory."""
    if isinstance(source, ChatRecords):
        for p in source.problems:
            yield p.line, None, p
        yield from ((line, r, None) for line, r in zip(source.lines, source))
    elif isinstance(source, (list, tuple)):
        yield from ((i + 1, r, None) for i, r in enumerate(source))
    else:
        yield from iter_jsonl(source, progress=progress)


def _name(source):
    if isinstance(source, ChatRecords):
        return source.source
    if isinstance(source, (list, tuple)):
        return "<records>"
    if isinstance(source, (bytes, bytearray)):
        return "<bytes>"
    return str(getattr(source, "name", source))


def _path(source):
    if isinstance(source, (str, os.PathLike)):
        return str(Path(source).resolve())
    return None


def _validate(source, *, model, fmt, encoding, is_training, min_examples, leak_index, progress):
    encoding = encoding or encoding_name_for_model(model)
    enc = get_encoding(encoding)
    scan = _Scan(enc, token_limit(model), fmt, leak_index, collect=not is_training)
    for line, value, read_problem in _items(source, progress):
        if read_problem is not None:
            scan.problems.append(read_problem)
        else:
            scan.add(line, value)
    scan.finish(is_training, min_examples)
    scan.problems.sort(key=lambda p: p.line)
    notes = []
    if scan.fmt == "prompt_completion":
        notes.append("This file is in the legacy prompt/completion format: ftlab.to_chat(records) converts it.")
    report = ChatReport(_name(source), scan.fmt if scan.fmt != "auto" else "chat", scan.n_examples,
                        scan.problems, scan.tokens, encoding, getattr(enc, "exact", True), model,
                        scan.limit, notes=notes, path=_path(source))
    return report, scan.leak_keys


def validate_chat(source, *, model=None, format="auto", valid=None, encoding=None,
                  min_examples=MIN_EXAMPLES, progress=None):
    """Check a fine-tuning dataset and return a :class:`ChatReport`.

    ``source``: a path, ``bytes``, a binary stream, or records (a list / ``read_chat_jsonl`` result).
    ``model`` picks the encoding and per-example token limit (default gpt-4o-mini's).
    ``format``: ``"auto"`` (detected from the first example), ``"chat"`` or ``"preference"``.
    ``valid``: the validation file; it is checked too (``report.valid``), and training examples whose
    assistant reply appears in it are flagged as ``leakage``.

    Never raises for bad *content* — every problem is reported with its line, field and fix. A
    missing file raises ``FileNotFoundError``.
    """
    if format not in ("auto", "chat", "preference"):
        raise ValueError(f"format must be 'auto', 'chat' or 'preference', got {format!r}")
    kwargs = dict(model=model, fmt=format, encoding=encoding, min_examples=min_examples, progress=progress)
    valid_report, leak_index = None, None
    if valid is not None:
        valid_report, leak_index = _validate(valid, is_training=False, leak_index=None, **kwargs)
    report, _ = _validate(source, is_training=True, leak_index=leak_index, **kwargs)
    report.valid = valid_report
    return report


__all__ = ["validate_chat", "ChatReport", "Problem", "FIXES"]
