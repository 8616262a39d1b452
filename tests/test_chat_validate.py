"""validate_chat: one-line fixtures for every problem code, file-level checks, and fuzzing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftlab._data import data_dir
from ftlab.chat.checks import FIXES
from ftlab.chat.files import read_chat_jsonl
from ftlab.chat.validate import validate_chat

CHAT = data_dir() / "chat"
READER_CODES = {"invalid_json", "invalid_utf8", "truncated_last_line", "blank_line"}


def ex(user="What is 2+2?", reply="4, obviously.", system=None, **extra):
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    return {"messages": msgs, **extra}


def good_lines(n=12, system="Be brief."):
    return [json.dumps(ex(f"Question number {i} about topic {i * 7}?", f"Answer {i}: it is {i * 3}.",
                          system)) for i in range(n)]


def validate_lines(lines, **kw):
    return validate_chat(("\n".join(lines) + "\n").encode(), **kw)


U = {"role": "user", "content": "hi"}
A = {"role": "assistant", "content": "hello"}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}


def line(obj):
    return json.dumps(obj).encode() + b"\n"


# (code, one-line fixture, expected field); every line is added after 12 good examples.
ONE_LINE = [
    ("data_type", line([1, 2]), ""),
    ("data_type", line({"messages": ["hi", A]}), "messages[0]"),
    ("missing_messages_list", line({"messages": []}), "messages"),
    ("missing_messages_list", line({"chat": [U, A]}), "messages"),
    ("message_missing_key", line({"messages": [{"content": "hi"}, A]}), "messages[0].role"),
    ("message_missing_key", line({"messages": [{"role": "user"}, A]}), "messages[0].content"),
    ("message_unrecognized_key", line({"messages": [{**U, "mood": "ok"}, A]}), "messages[0].mood"),
    ("unrecognized_role", line({"messages": [{"role": "human", "content": "hi"}, A]}), "messages[0].role"),
    ("missing_content", line({"messages": [{"role": "user", "content": "  "}, A]}), "messages[0].content"),
    ("example_missing_assistant_message", line({"messages": [U]}), "messages"),
    ("invalid_json", b'{"messages": [}\n', ""),
    ("invalid_utf8", b'{"messages": "caf\xe9"}\n', ""),
    ("truncated_last_line", b'{"messages": [{"role": "user", "co', ""),
    ("content_type", line({"messages": [{"role": "user", "content": 42}, A]}), "messages[0].content"),
    ("content_type", line({"messages": [{"role": "user", "content": [{"text": "x"}]}, A]}),
     "messages[0].content[0]"),
    ("invalid_weight", line({"messages": [U, {**A, "weight": 2}]}), "messages[1].weight"),
    ("invalid_weight", line({"messages": [{**U, "weight": 1}, A]}), "messages[0].weight"),
    ("invalid_tool_calls", line({"messages": [U, {"role": "assistant", "tool_calls": [{"type": "function"}]}]}),
     "messages[1].tool_calls[0].id"),
    ("tool_arguments_not_json", line({"messages": [U, {"role": "assistant", "tool_calls": [
        {**CALL, "function": {"name": "f", "arguments": {"a": 1}}}]}]}), "messages[1].tool_calls[0].function.arguments"),
    ("tool_call_id_mismatch", line({"messages": [U, {"role": "assistant", "tool_calls": [CALL]},
                                                 {"role": "tool", "tool_call_id": "call_9", "content": "12:00"}, A]}),
     "messages[2].tool_call_id"),
    ("invalid_tools", line({"messages": [U, A], "tools": [{"type": "function"}]}), "tools[0]"),
    ("legacy_prompt_completion", line({"prompt": "2+2 ->", "completion": " 4"}), ""),
    ("preference_missing_key", line({"input": {"messages": [U]}, "preferred_output": [A]}), "non_preferred_output"),
    ("preference_invalid_output", line({"input": {"messages": [U]}, "preferred_output": "hello",
                                        "non_preferred_output": [A]}), "preferred_output"),
    ("too_many_tokens", line({"messages": [U, {"role": "assistant", "content": "word " * 5000}]}), "messages"),
    # warnings
    ("blank_line", b"   \n", ""),
    ("unrecognized_key", line({"messages": [U, A], "id": 7}), "id"),
    ("deprecated_functions", line({"messages": [U, {"role": "assistant", "content": None,
                                                    "function_call": {"name": "f", "arguments": "{}"}}],
                                   "functions": [{"name": "f"}]}), "functions"),
    ("no_trained_assistant_turns", line({"messages": [U, {**A, "weight": 0}]}), "messages"),
    ("last_message_not_assistant", line({"messages": [U, A, U]}), "messages[2]"),
    ("preference_identical_outputs", line({"input": {"messages": [U]}, "preferred_output": [A],
                                           "non_preferred_output": [A]}), "non_preferred_output"),
    ("missing_system_prompt", line({"messages": [U, A]}), "messages[0]"),
    ("system_prompt_variant", line(ex(system="Be verbose.")), "messages[0]"),
    ("long_example", line(ex(reply="Very long answer. " * 200, system="Be brief.")), "messages"),
    ("duplicate_example", line(ex("Question number 3 about topic 21?", "Answer 3: it is 9.", "Be brief.")),
     "messages"),
]


@pytest.mark.parametrize("code,fixture,field", ONE_LINE, ids=[c for c, _, _ in ONE_LINE])
def test_each_code_is_reported_on_its_line(code, fixture, field):
    preference = code.startswith("preference")
    if preference:
        body = [json.dumps({"input": {"messages": [{"role": "user", "content": f"q{i}"}]},
                            "preferred_output": [{"role": "assistant", "content": f"good {i}"}],
                            "non_preferred_output": [{"role": "assistant", "content": f"bad {i}"}]})
                for i in range(12)]
    else:
        body = good_lines()
    data = ("\n".join(body) + "\n").encode() + fixture
    report = validate_chat(data, model="gpt-3.5-turbo-0613" if code == "too_many_tokens" else None,
                           format="preference" if preference else "auto")
    hits = [p for p in report.problems if p.code == code and p.line == 13]
    assert hits, f"{code} not reported on line 13: {report}"
    assert hits[0].field == field
    assert hits[0].fix and hits[0].message
    severity = "warning" if code in {"blank_line", "unrecognized_key", "deprecated_functions",
                                     "no_trained_assistant_turns", "last_message_not_assistant",
                                     "preference_identical_outputs", "missing_system_prompt",
                                     "system_prompt_variant", "long_example", "duplicate_example"} else "error"
    assert hits[0].severity == severity
    assert report.ok == (severity == "warning")


def test_file_level_codes():
    assert [p.code for p in validate_chat(b"").problems] == ["empty_file"]
    assert [p.code for p in validate_chat(b"\n\n").problems] == ["empty_file", "blank_line", "blank_line"]
    few = validate_lines(good_lines(3))
    assert [(p.line, p.code) for p in few.errors] == [(0, "too_few_examples")]
    assert "3 examples" in few.errors[0].message
    short = validate_lines(good_lines(12) + [json.dumps(ex("a", "b", "Be brief."))])
    assert [(p.line, p.code) for p in short.problems] == [(13, "short_example")]


def test_leakage_between_train_and_valid(tmp_path):
    train, valid = tmp_path / "t.jsonl", tmp_path / "v.jsonl"
    lines = good_lines(12)
    lines[5] = json.dumps(ex("Why is the sky blue?", "Rayleigh scattering: air scatters blue light most.", "Be brief."))
    train.write_text("\n".join(lines) + "\n")
    valid.write_text(json.dumps(ex("Sky colour, why?", "rayleigh scattering:  air scatters BLUE light most.")) + "\n"
                     + lines[8] + "\n")
    report = validate_chat(train, valid=valid)
    leaks = [p for p in report.problems if p.code == "leakage"]
    assert [(p.line, p.severity) for p in leaks] == [(6, "warning"), (9, "warning")]
    assert "line 1" in leaks[0].message and "line 2" in leaks[1].message  # names the validation line
    assert report.valid.n_examples == 2 and report.valid.ok  # no minimum for a validation file
    # short label replies repeat by design: never leakage
    labels = [json.dumps(ex(f"message {i}", "billing")) for i in range(12)]
    assert not validate_lines(labels[:10], valid=("\n".join(labels[10:]) + "\n").encode()).problems


def test_every_code_has_a_fixture():
    tested = {c for c, _, _ in ONE_LINE} | {"empty_file", "too_few_examples", "short_example", "leakage",
                                            "conflicting_replies"}
    assert tested == set(FIXES) | READER_CODES


def test_valid_tool_calling_and_parts_and_weights_pass():
    tool_ex = {"messages": [
        {"role": "system", "content": "Use tools."}, U,
        {"role": "assistant", "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": "12:00"},
        {"role": "assistant", "content": [{"type": "text", "text": "It is noon."}], "weight": 1}],
        "tools": [{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]}
    multi = {"messages": [{"role": "system", "content": "Use tools."}, U, {**A, "weight": 0}, U, A]}
    lines = [json.dumps(tool_ex if i % 2 else multi) for i in range(12)]
    report = validate_lines(lines)
    assert report.ok and [p.code for p in report.problems] == ["duplicate_example"] * 10


def test_report_frame_repr_html_and_dict():
    report = validate_chat(CHAT / "broken_train.jsonl", valid=CHAT / "marv_valid.jsonl")
    frame = report.to_frame()
    assert list(frame.columns) == ["file", "line", "severity", "code", "field", "message", "fix"]
    assert len(frame) == len(report.problems) + len(report.valid.problems)
    assert "NOT OK" in repr(report) and "<table>" in report._repr_html_()
    d = report.to_dict()
    assert d["ok"] is False and d["n_errors"] == len(report.errors)
    json.dumps(d)  # serialisable for --json


def test_broken_file_exercises_most_codes():
    report = validate_chat(CHAT / "broken_train.jsonl", valid=CHAT / "marv_valid.jsonl")
    codes = {p.code for p in report.problems}
    assert len(codes & set(FIXES) | codes & READER_CODES) >= 20, sorted(codes)
    assert not report.ok


def test_shipped_datasets_are_clean():
    for train, valid in [("marv_train", "marv_valid"), ("tickets_train", "tickets_valid"),
                         ("tutor_train", "tutor_valid")]:
        report = validate_chat(CHAT / f"{train}.jsonl", valid=CHAT / f"{valid}.jsonl")
        assert report.ok and not report.problems and not report.valid.problems, report


def test_records_in_memory_keep_their_line_numbers():
    recs = read_chat_jsonl(("\n".join(good_lines(11)) + "\n" + json.dumps({"messages": [U]}) + "\n").encode())
    report = validate_chat(recs)
    assert [(p.line, p.code) for p in report.errors] == [(12, "example_missing_assistant_message")]
    assert validate_chat(list(recs)).errors[0].line == 12


def test_legacy_file_suggests_to_chat():
    from ftlab.chat.files import to_chat

    lines = [json.dumps({"prompt": f"q{i} ->", "completion": f" a{i}\n"}) for i in range(12)]
    report = validate_lines(lines)
    assert report.format == "prompt_completion" and len(report.errors) == 12
    assert "to_chat" in repr(report)
    converted = to_chat(read_chat_jsonl(("\n".join(lines) + "\n").encode()))
    assert validate_chat(converted).ok


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["user", "assistant", "tool", "system", "function"]),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["messages", "role", "content", "weight", "tool_calls", "tool_call_id", "id",
                         "type", "function", "name", "arguments", "tools", "input", "text",
                         "preferred_output", "non_preferred_output", "prompt", "completion"])
        | st.text(max_size=5), kids, max_size=5),
    max_leaves=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(json_values, max_size=6), st.sampled_from(["auto", "chat", "preference"]))
def test_random_json_never_raises(values, fmt):
    data = "\n".join(json.dumps(v) for v in values).encode()
    report = validate_chat(data, format=fmt)
    assert isinstance(report.ok, bool)
    assert all(p.line <= len(values) for p in report.problems)
    repr(report), report._repr_html_()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data):
    report = validate_chat(data)
    assert isinstance(report.ok, bool)
    repr(report)


def test_deeply_nested_json_is_reported_not_raised():
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    report = validate_chat(deep)
    assert [p.code for p in report.errors][:1] == ["invalid_json"]


def test_the_same_prompt_with_a_different_reply_is_a_conflict_named_by_line():
    def ex(user, reply):
        return {"messages": [{"role": "system", "content": "Route the ticket."},
                             {"role": "user", "content": user}, {"role": "assistant", "content": reply}]}

    records = [ex("My card was charged twice", "billing"), ex("I cannot log in", "account"),
               ex("my card was  charged twice", "refund"), ex("My card was charged twice", "billing")]
    records += [ex(f"question {i}", "other") for i in range(8)]
    report = validate_chat(records)
    conflicts = [p for p in report.problems if p.code == "conflicting_replies"]
    assert [(p.line, p.message) for p in conflicts] == [
        (3, "the same prompt as line 1, with a different reply.")]
    assert any(p.code == "duplicate_example" and p.line == 4 for p in report.problems)
