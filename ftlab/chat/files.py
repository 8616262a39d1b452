"""Chat JSONL files: read them line by line, write them safely, convert legacy data.

A fine-tuning file has one JSON object per line, each ``{"messages": [{"role": ..., "content": ...},
...]}``. Real files break in boring ways — a stray BOM, a blank line, a line cut off by a crashed
export, a Windows-1252 character — and a reader that raises on the first one hides every other
problem. So the reader here *reports* what it cannot read (with the line number) and keeps going.

>>> recs = read_chat_jsonl(b'{"messages": []}\\n\\n{"messages": [1]}\\n')
>>> len(recs), recs.lines, [p.code for p in recs.problems]
(2, [1, 3], ['blank_line'])
"""

import io
import json
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from ftlab._report import plural
from ftlab._files import atomic_write

_BOM = b"\xef\xbb\xbf"
# Files above this size get a progress bar by default.
_PROGRESS_BYTES = 20_000_000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a chat file: where (``line``, JSON path ``field``), what and how to fix.

    ``severity`` is ``"error"`` (the fine-tuning service would reject the file, or the example
    would break training) or ``"warning"`` (it would train, probably badly).
    """

    line: int
    code: str
    message: str
    fix: str
    field: str = ""
    severity: str = "error"

    def to_dict(self):
        return asdict(self)

    def __str__(self):
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: [{self.code}] {self.message} Fix: {self.fix}"


class ChatRecords(list):
    """The examples of a chat file: a plain list of the parsed JSON values, plus where each came from.

    ``lines[i]`` is the 1-based line number of ``self[i]``; ``problems`` lists what could not be
    read (blank lines, invalid JSON or UTF-8, a truncated last line); ``source`` names the file.
    """

    def __init__(self, records=(), lines=None, problems=(), source="<records>"):
        super().__init__(records)
        self.lines = list(lines) if lines is not None else list(range(1, len(self) + 1))
        self.problems = list(problems)
        self.source = str(source)

    def line_of(self, index):
        """Line number in the source file of example ``index``."""
        return self.lines[index]

    def subset(self, indices):
        """A new ChatRecords with the examples at ``indices`` (their line numbers travel along)."""
        indices = list(indices)
        return ChatRecords([self[i] for i in indices], [self.lines[i] for i in indices],
                           source=self.source)

    def __repr__(self):
        name = self.source if self.source.startswith("<") else Path(self.source).name
        return (f"<ChatRecords: {plural(len(self), 'example')} from {name}"
                f"{f', {len(self.problems)} read problems' if self.problems else ''}>")


# ----------------------------------------------------------------------------- reading


def _open_source(source):
    """Return (binary file object, display name, size in bytes or None, must_close)."""
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(bytes(source)), "<bytes>", len(source), True
    if isinstance(source, io.TextIOBase):  # opened in text mode: read its bytes, or re-encode
        name = getattr(source, "name", "<stream>")
        if hasattr(source, "buffer"):
            return source.buffer, name, None, False
        return io.BytesIO(source.read().encode("utf-8", "surrogatepass")), name, None, True
    if hasattr(source, "read"):
        return source, getattr(source, "name", "<stream>"), None, False
    path = Path(source)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; pass the path of a .jsonl file inside it")
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; check the path (cwd is {Path.cwd()})")
    return open(path, "rb"), str(path), path.stat().st_size, True


def _reject_constant(name):
    # json.loads accepts NaN/Infinity; they are not JSON and the service rejects them.
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # one decoder, reused for every line


def _parse_line(raw, number, is_last):
    """Decode and parse one line: (value, None) or (None, Problem)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, Problem(
            number, "invalid_utf8",
            f"byte {exc.start + 1} of the line (0x{raw[exc.start]:02x}) is not valid UTF-8.",
            "Re-save the file as UTF-8 (in Python: open(path, 'w', encoding='utf-8')).")
    if not text.strip():
        return None, Problem(number, "blank_line", "the line is blank.",
                             "Delete blank lines; every line should be one JSON example.",
                             severity="warning")
    try:
        return _DECODER.decode(text), None
    except RecursionError:
        return None, Problem(number, "invalid_json", "the JSON is nested too deeply to read.",
                             "Flatten the example: chat examples need only a few levels of nesting.")
    except ValueError as exc:
        if is_last:
            return None, Problem(
                number, "truncated_last_line",
                f"the last line has no newline and is not complete JSON ({exc}).",
                "The file was probably cut off while writing: re-export it, or delete the last line.")
        return None, Problem(number, "invalid_json", f"not valid JSON: {exc}.",
                             "Each line must be exactly one JSON object; check quotes, commas and "
                             "brackets (a JSON object spread over several lines is not JSONL).")


def iter_jsonl(source, *, progress=None):
    """Stream a JSONL source: yield ``(line_number, value, problem)``, one of value/problem None.

    ``source`` is a path, ``bytes`` or a binary file object. Reading never raises for bad
    content: undecodable or unparsable lines come back as a :class:`Problem`. Only a missing or
    unreadable file raises (``FileNotFoundError``/``OSError``).

    >>> [(n, v, p and p.code) for n, v, p in iter_jsonl(b'{"a": 1}\\n{"a": ')]
    [(1, {'a': 1}, None), (2, None, 'truncated_last_line')]
    """
    f, name, size, must_close = _open_source(source)
    bar = None
    try:
        if progress is None:
            progress = size is not None and size > _PROGRESS_BYTES
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"reading {Path(name).name}")
        first = f.readline()
        if first.startswith((b"\xff\xfe", b"\xfe\xff")):
            yield 1, None, Problem(1, "invalid_utf8", "the file is UTF-16 (it starts with a UTF-16 "
                                   "byte order mark), not UTF-8.",
                                   "Re-save the file as UTF-8 (most editors: Save As → UTF-8).")
            return
        raw, number = first.removeprefix(_BOM), 1
        while raw:
            if bar is not None:
                bar.update(len(raw))
            is_last = not raw.endswith(b"\n")
            value, problem = _parse_line(raw.rstrip(b"\r\n"), number, is_last)
            yield number, value, problem
            raw, number = f.readline(), number + 1
    finally:
        if bar is not None:
            bar.close()
        if must_close:
            f.close()


def read_chat_jsonl(source, *, strict=False, progress=None):
    """Read a chat JSONL file into :class:`ChatRecords` (a list of the parsed examples).

    Lines that cannot be read are skipped and listed in ``.problems`` with their line number
    (blank lines too), and a warning summarises the unreadable ones; with ``strict=True`` they raise one ``ValueError`` listing all.
    The examples themselves are returned as parsed — check them with ``ftlab.validate_chat``.

    >>> recs = read_chat_jsonl(b'\\xef\\xbb\\xbf{"messages": [{"role": "user", "content": "hi"}]}\\n')
    >>> recs[0]["messages"][0]["content"], recs.lines
    ('hi', [1])
    """
    records, lines, problems = [], [], []
    name = source if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "<bytes>")
    for number, value, problem in iter_jsonl(source, progress=progress):
        if problem is not None:
            problems.append(problem)
        else:
            records.append(value)
            lines.append(number)
    out = ChatRecords(records, lines, problems, source=name)
    errors = [p for p in problems if p.severity == "error"]
    if errors and strict:
        listing = "\n".join(f"  {p}" for p in errors[:20])
        raise ValueError(f"{name}: {len(errors)} unreadable line(s):\n{listing}")
    if errors:
        kinds = sorted({p.code for p in errors})
        warnings.warn(f"{name}: skipped {len(errors)} unreadable line(s) ({', '.join(kinds)}), "
                      f"first at line {errors[0].line}; see .problems or ftlab.validate_chat",
                      stacklevel=2)
    return out


# ----------------------------------------------------------------------------- writing


def write_chat_jsonl(records, path, *, overwrite=False):
    """Write examples as UTF-8 JSONL atomically (temp file, then rename); return the path.

    Refuses to replace an existing file unless ``overwrite=True``, so an input is never lost.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> write_chat_jsonl([{"messages": []}], p).read_text()
    '{"messages": []}\\n'
    """
    return atomic_write(path, jsonl_writer(records), overwrite=overwrite, newline="\n")


def jsonl_writer(records):
    """A function that writes ``records`` as JSONL to an open text file (for ``write_all``, which
    writes several files as a set: split's train and valid, augment's output and provenance)."""
    def write(f):
        for i, record in enumerate(records):
            try:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
            except (TypeError, ValueError) as exc:
                raise ValueError(f"example {i} cannot be written as JSON: {exc}") from exc

    return write


# ----------------------------------------------------------------------------- legacy format

# Separators the old completions guide told people to end prompts / completions with.
_PROMPT_SEPARATORS = ("\n\n###\n\n", "\n\n###\n", "\n###\n", " ->", "->", "\n\n")
_COMPLETION_STOPS = (" END", "END", "\n###", "###", "\n")


def _common_suffix(texts, candidates):
    for suffix in candidates:
        if texts and all(t.endswith(suffix) for t in texts):
            return suffix
    return ""


def to_chat(records, *, system=None):
    """Convert legacy ``{"prompt", "completion"}`` examples to chat ``{"messages": [...]}``.

    A separator that every prompt ends with (such as ``"\\n\\n###\\n\\n"``) and a stop sequence
    every completion ends with are removed, as is the leading space of completions; ``system``
    adds a system message to each example. Chat examples pass through unchanged.

    >>> to_chat([{"prompt": "2+2 ->", "completion": " 4\\n"}], system="Add.")[0]["messages"]
    [{'role': 'system', 'content': 'Add.'}, {'role': 'user', 'content': '2+2'}, {'role': 'assistant', 'content': '4'}]
    """
    original, records = records, list(records)
    legacy = [r for r in records if isinstance(r, dict) and "prompt" in r and "completion" in r]
    sep = _common_suffix([str(r["prompt"]) for r in legacy], _PROMPT_SEPARATORS)
    stop = _common_suffix([str(r["completion"]) for r in legacy], _COMPLETION_STOPS)
    out = []
    for i, r in enumerate(records):
        if isinstance(r, dict) and "messages" in r:
            out.append(r)
            continue
        if not (isinstance(r, dict) and "prompt" in r and "completion" in r):
            raise ValueError(f"example {i} has neither 'messages' nor 'prompt'+'completion': "
                             f"{str(r)[:80]!r}")
        prompt, completion = str(r["prompt"]), str(r["completion"])
        prompt = prompt[: len(prompt) - len(sep)] if sep else prompt
        completion = completion[: len(completion) - len(stop)] if stop else completion
        messages = [{"role": "system", "content": system}] if system else []
        messages += [{"role": "user", "content": prompt.strip()},
                     {"role": "assistant", "content": completion.strip()}]
        out.append({"messages": messages})
    if isinstance(original, ChatRecords):
        return ChatRecords(out, original.lines, source=original.source)
    return out


# ----------------------------------------------------------------------------- splitting


def _label(record):
    """The last assistant reply, used to stratify a classification dataset."""
    msgs = record.get("messages") if isinstance(record, dict) else None
    replies = [m.get("content") for m in msgs or [] if isinstance(m, dict) and m.get("role") == "assistant"]
    return str(replies[-1]).strip().lower() if replies else ""


def split_chat(records, valid_fraction=0.2, seed=0, stratify=None, *, threshold=0.8):
    """Split examples into ``(train, valid)`` without leaking near-duplicates across the split.

    Exact and near duplicates (``ftlab.find_duplicates`` at ``threshold``) form groups, and a group
    goes to one side whole, so validation never scores a copy of a training example. Groups are
    shuffled with ``numpy.random.default_rng(seed)``: the same seed gives the same split in any
    process. ``stratify="label"`` keeps the share of each final assistant reply (a class label)
    the same on both sides; a function ``record -> key`` stratifies by anything else.
    Both results are :class:`ChatRecords` in file order, with their original line numbers.

    >>> recs = [{"messages": [{"role": "user", "content": f"question {i}"}]} for i in range(10)]
    >>> train, valid = split_chat(recs, 0.3, seed=1)
    >>> len(train), len(valid), valid.lines
    (7, 3, [5, 8, 9])
    """
    import numpy as np

    from ftlab.chat.duplicates import find_duplicates

    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be between 0 and 1, got {valid_fraction}")
    if not isinstance(records, ChatRecords):
        records = ChatRecords(records)
    n = len(records)
    if n < 2:
        raise ValueError(f"need at least 2 examples to split, got {n}")
    key = _label if stratify == "label" else stratify
    if key is not None and not callable(key):
        raise ValueError(f"stratify must be None, 'label' or a function, got {stratify!r}")
    dups = find_duplicates(records, threshold=threshold)
    group = np.where(dups.group_of >= 0, dups.group_of, n + np.arange(n))  # singletons: own group
    strata = {}
    for i in range(n):  # a group joins the stratum of its first member
        strata.setdefault(str(key(records[i])) if key else "", {}).setdefault(int(group[i]), []).append(i)
    rng = np.random.default_rng(seed)
    valid = []
    for name in sorted(strata):
        groups = list(strata[name].values())
        target = round(valid_fraction * sum(len(g) for g in groups))
        taken = 0
        for k in rng.permutation(len(groups)):
            if taken < target and taken + len(groups[k]) <= max(target, 1):
                valid += groups[k]
                taken += len(groups[k])
    chosen = np.zeros(n, dtype=bool)
    chosen[valid] = True
    return records.subset(np.flatnonzero(~chosen)), records.subset(np.flatnonzero(chosen))
