"""Preference (DPO) data: OpenAI's JSONL read and checked, one pair of replies per prompt.

A line of a preference fine-tuning file is::

    {"input": {"messages": [{"role": "user",
                             "content": "Give one word that means the same as 'happy'."}]},
     "preferred_output": [{"role": "assistant", "content": "glad"}],
     "non_preferred_output": [{"role": "assistant", "content": "sad"}]}

(one line in the file; spread out here to read).

Reading goes through ``iter_jsonl`` (unreadable lines are reported with their number, not
raised one at a time) and each example through ``check_preference_example``, the very rules
``ftlab check --format preference`` applies, so a file this reader accepts is one the validator
calls clean of errors, and every error names the file, the line and the field.

>>> pairs = read_preference_jsonl(b'{"input": {"messages": [{"role": "user", "content": "Hi"}]}, '
...     b'"preferred_output": [{"role": "assistant", "content": "Hello"}], '
...     b'"non_preferred_output": [{"role": "assistant", "content": "Go away"}]}\\n')
>>> prompt, chosen, rejected = preference_pair(pairs[0])
>>> prompt[-1]["content"], chosen["content"], rejected["content"]
('Hi', 'Hello', 'Go away')
"""

import os
import warnings

from ftlab.chat.checks import check_preference_example
from ftlab.chat.files import ChatRecords, iter_jsonl

_LISTED = 20  # errors spelled out in one exception; the rest are counted


def _raise_or_warn(name, errors, strict, what):
    if not errors:
        return
    if strict:
        listing = "\n".join(f"  {name}: {p}" for p in errors[:_LISTED])
        more = f"\n  ... and {len(errors) - _LISTED} more" if len(errors) > _LISTED else ""
        raise ValueError(f"{name}: {len(errors)} {what}:\n{listing}{more}")
    warnings.warn(f"{name}: skipped {len(errors)} {what}, first at line {errors[0].line} "
                  f"({errors[0].field or errors[0].code}); see .problems", stacklevel=3)


def check_preference_records(records, *, source=None, strict=True):
    """Check preference examples already in memory; return them as :class:`ChatRecords`.

    ``records``: a list of parsed examples, or a ``ChatRecords`` (whose line numbers are then
    used in messages). Examples with errors raise one ``ValueError`` naming the source, each line
    and field (``strict=True``), or are dropped with a warning and kept in ``.problems``.
    Warnings (such as identical outputs) never drop an example.
    """
    if isinstance(records, (str, bytes, os.PathLike)):
        raise TypeError("check_preference_records takes parsed examples; read a file with "
                        "read_preference_jsonl(path)")
    if not isinstance(records, ChatRecords):
        records = ChatRecords(list(records), source=source or "<records>")
    name = source or records.source
    problems, keep = list(records.problems), []
    for i, example in enumerate(records):
        found = check_preference_example(example, records.line_of(i))
        problems += found
        if not any(p.severity == "error" for p in found):
            keep.append(i)
    errors = [p for p in problems if p.severity == "error"]
    _raise_or_warn(name, errors, strict, "preference example(s) with errors")
    out = records.subset(keep)
    out.problems, out.source = problems, str(name)
    return out


def read_preference_jsonl(source, *, strict=True, progress=None):
    """Read and check an OpenAI preference fine-tuning file; return :class:`ChatRecords`.

    ``source`` is a path, ``bytes`` or a binary stream. With ``strict=True`` (the default) any
    unreadable line or malformed example raises one ``ValueError`` that lists each problem as
    ``file: line N, field: [code] what. Fix: how``; with ``strict=False`` such lines are skipped
    and listed in ``.problems``. Each example stays the parsed JSON object; take it apart with
    :func:`preference_pair`.
    """
    name = source if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "<bytes>")
    records, lines, problems = [], [], []
    for number, value, problem in iter_jsonl(source, progress=progress):
        if problem is None:
            records.append(value)
            lines.append(number)
        else:
            problems.append(problem)
    read = ChatRecords(records, lines, problems, source=name)
    return check_preference_records(read, source=str(name), strict=strict)


def preference_pair(example):
    """``(prompt messages, preferred reply, non-preferred reply)`` of one checked example.

    The replies are the assistant message dicts (``{"role": "assistant", "content": ...}``).
    """
    return (list(example["input"]["messages"]), example["preferred_output"][0],
            example["non_preferred_output"][0])


def make_preference_example(messages, preferred, non_preferred):
    """One example in OpenAI's preference format from a prompt and two reply texts.

    >>> example = make_preference_example([{"role": "user", "content": "Hi"}], "Hello", "Bye")
    >>> example["preferred_output"], example["non_preferred_output"][0]["content"]
    ([{'role': 'assistant', 'content': 'Hello'}], 'Bye')
    """
    return {"input": {"messages": list(messages)},
            "preferred_output": [{"role": "assistant", "content": preferred}],
            "non_preferred_output": [{"role": "assistant", "content": non_preferred}]}


__all__ = ["read_preference_jsonl", "check_preference_records", "preference_pair",
           "make_preference_example"]
