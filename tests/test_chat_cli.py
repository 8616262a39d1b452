"""`ftlab check` and `ftlab split`: output, JSON and exit codes."""

import json

from ftlab._data import data_dir
from ftlab.chat.files import read_chat_jsonl
from ftlab.cli import main

CHAT = data_dir() / "chat"


def test_check_clean_file_exits_0_with_estimate(capsys):
    assert main(["check", str(CHAT / "marv_train.jsonl"), "--valid", str(CHAT / "marv_valid.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "0 errors" in out and "epochs: 3" in out and "prices as of" in out


def test_check_broken_file_exits_1_and_lists_lines(capsys):
    assert main(["check", str(CHAT / "broken_train.jsonl")]) == 1
    out = capsys.readouterr().out
    assert "line 6  [invalid_json]" in out and "Fix:" in out


def test_check_json_output(capsys):
    code = main(["check", str(CHAT / "broken_train.jsonl"), "--valid", str(CHAT / "marv_valid.jsonl"),
                 "--model", "gpt-3.5-turbo-0125", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["ok"] is False and data["encoding"] == "cl100k_base"
    assert {"line": 22, "code": "leakage"}.items() <= {
        k: v for p in data["problems"] if p["code"] == "leakage" for k, v in p.items()}.items()
    assert data["valid"]["ok"] is True and data["estimate"]["model"] == "gpt-3.5-turbo-0125"


def test_check_unreadable_inputs_exit_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == 2
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    assert main(["check", str(binary)]) == 2
    csv = tmp_path / "data.csv"
    csv.write_text("prompt,completion\nhi,there\n")
    assert main(["check", str(csv)]) == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["check", str(empty)]) == 1  # readable, but an error: no examples


def test_split_writes_two_files_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["split", str(CHAT / "tickets_train.jsonl"), "--valid-fraction", "0.25", "--stratify", "label",
            "-o", str(out)]
    assert main(args) == 0
    train, valid = read_chat_jsonl(out / "tickets_train_train.jsonl"), read_chat_jsonl(out / "tickets_train_valid.jsonl")
    assert len(train) + len(valid) == 72 and len(valid) == 16
    before = (out / "tickets_train_valid.jsonl").read_bytes()
    assert main(args[:-2] + ["--seed", "5", "-o", str(out)]) == 2  # a usage error
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "tickets_train_valid.jsonl").read_bytes() == before
    assert main(args + ["--overwrite", "--seed", "5"]) == 0
    assert main(["split", str(tmp_path / "nope.jsonl"), "-o", str(out)]) == 2
