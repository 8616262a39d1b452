"""Reading, writing, converting and splitting chat JSONL."""

import json
import warnings

import pytest

from ftlab._data import data_dir
from ftlab.chat.files import ChatRecords, iter_jsonl, read_chat_jsonl, to_chat, write_chat_jsonl

CHAT = data_dir() / "chat"


def _msg(user="hi", reply="hello"):
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]}


def test_reads_shipped_marv_dataset_with_line_numbers():
    train = read_chat_jsonl(CHAT / "marv_train.jsonl")
    valid = read_chat_jsonl(CHAT / "marv_valid.jsonl")
    assert len(train) >= 120 and len(valid) >= 30
    assert train.lines == list(range(1, len(train) + 1))
    assert not train.problems and not valid.problems
    systems = {r["messages"][0]["content"] for r in list(train) + list(valid)}
    assert len(systems) == 1  # one consistent system prompt


def test_bom_blank_lines_and_crlf_are_read(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(_msg()).encode() + b"\r\n\r\n"
                  + json.dumps(_msg("a", "b")).encode() + b"\r\n")
    recs = read_chat_jsonl(p)
    assert recs.lines == [1, 3]
    assert recs[1]["messages"][0]["content"] == "a"
    assert [(pr.line, pr.code, pr.severity) for pr in recs.problems] == [(2, "blank_line", "warning")]


def test_bad_lines_are_reported_with_line_numbers_not_raised():
    data = (json.dumps(_msg()).encode() + b"\n{not json}\n"
            + b'{"messages": "caf\xe9"}\n' + json.dumps(_msg()).encode() + b'\n{"messages": [')
    with pytest.warns(UserWarning, match="skipped 3 unreadable"):
        recs = read_chat_jsonl(data)
    assert recs.lines == [1, 4]
    assert [(p.line, p.code) for p in recs.problems] == [
        (2, "invalid_json"), (3, "invalid_utf8"), (5, "truncated_last_line")]
    with pytest.raises(ValueError, match="line 2"):
        read_chat_jsonl(data, strict=True)


def test_nan_is_not_json():
    [(_, value, problem)] = list(iter_jsonl(b'{"weight": NaN}\n'))
    assert value is None and problem.code == "invalid_json"


def test_utf16_file_is_reported():
    data = '{"messages": []}\n'.encode("utf-16")
    [(line, _, problem)] = list(iter_jsonl(data))
    assert problem.code == "invalid_utf8" and "UTF-16" in problem.message


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        read_chat_jsonl(tmp_path / "nope.jsonl")


def test_write_is_atomic_and_refuses_to_overwrite(tmp_path):
    p = tmp_path / "out.jsonl"
    write_chat_jsonl([_msg("é", "ü")], p)
    assert read_chat_jsonl(p)[0]["messages"][0]["content"] == "é"
    before = p.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_chat_jsonl([_msg()], p)
    assert p.read_bytes() == before
    with pytest.raises(ValueError, match="example 1"):
        write_chat_jsonl([_msg(), {"x": object()}], p, overwrite=True)
    assert p.read_bytes() == before  # a failed write leaves the old file intact
    assert [f.name for f in tmp_path.iterdir()] == ["out.jsonl"]  # no temp file left behind
    write_chat_jsonl([_msg(), _msg()], p, overwrite=True)
    assert len(read_chat_jsonl(p)) == 2


def test_to_chat_strips_separators_and_keeps_lines():
    legacy = ChatRecords([{"prompt": "Q1\n\n###\n\n", "completion": " A1 END"},
                          {"prompt": "Q2\n\n###\n\n", "completion": " A2 END"}], [3, 7])
    out = to_chat(legacy, system="S")
    assert out.lines == [3, 7]
    assert out[1]["messages"] == [{"role": "system", "content": "S"},
                                  {"role": "user", "content": "Q2"},
                                  {"role": "assistant", "content": "A2"}]
    with pytest.raises(ValueError, match="example 0"):
        to_chat([{"text": "x"}])


def test_read_never_warns_for_clean_file():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_chat_jsonl(CHAT / "marv_valid.jsonl")


def test_streams_in_binary_or_text_mode(tmp_path):
    import io

    line = json.dumps(_msg("ü")) + "\n"
    assert read_chat_jsonl(io.StringIO(line))[0]["messages"][0]["content"] == "ü"
    assert read_chat_jsonl(io.BytesIO(line.encode()))[0]["messages"][0]["content"] == "ü"
    p = tmp_path / "x.jsonl"
    p.write_text(line, encoding="utf-8")
    with open(p, encoding="utf-8") as f:
        assert len(read_chat_jsonl(f)) == 1
