"""`ftlab augment`: writes output + provenance, refuses to overwrite, dry-runs the paraphrase model."""

import json
import subprocess
import sys
from pathlib import Path

from ftlab.chat.files import read_chat_jsonl
from ftlab.chat.validate import validate_chat
from ftlab.cli import main

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "data" / "chat" / "marv_train.jsonl"
VALID = ROOT / "data" / "chat" / "marv_valid.jsonl"


def test_augment_writes_records_and_a_provenance_sidecar(tmp_path, capsys):
    out = tmp_path / "aug.jsonl"
    rc = main(["augment", str(TRAIN), "-o", str(out), "--ops", "synonym,typo", "--n", "2",
               "--seed", "0", "--valid", str(VALID)])
    assert rc == 0
    records = read_chat_jsonl(out)
    assert len(records) > 128 * 2 and list(records[:128]) == list(read_chat_jsonl(TRAIN))
    assert validate_chat(out, valid=VALID).ok
    side = tmp_path / "aug.provenance.csv"
    assert side.read_text().startswith("index,source_index,source_line,ops")
    assert "wrote" in capsys.readouterr().out
    # every record has only the keys of a training example: provenance stays in the sidecar
    assert all(set(json.loads(line)) == {"messages"} for line in out.read_text().splitlines())


def test_refuses_to_overwrite_and_never_writes_over_the_input(tmp_path, capsys):
    out = tmp_path / "aug.jsonl"
    out.write_text("precious\n")
    assert main(["augment", str(TRAIN), "-o", str(out)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err and out.read_text() == "precious\n"
    copy = tmp_path / "train.jsonl"
    copy.write_bytes(TRAIN.read_bytes())
    assert main(["augment", str(copy), "-o", str(copy), "--overwrite"]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert copy.read_bytes() == TRAIN.read_bytes()
    assert main(["augment", str(TRAIN), "-o", str(out), "--overwrite", "--seed", "3"]) == 0
    assert out.read_text() != "precious\n"


def test_bad_options_are_clear_errors(tmp_path, capsys):
    assert main(["augment", str(TRAIN), "-o", str(tmp_path / "a.jsonl"), "--ops", "synonim"]) == 2
    assert "choose from synonym" in capsys.readouterr().err
    assert main(["augment", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "b.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["augment", str(TRAIN), "-o", str(tmp_path / "c.jsonl"), "--rate", "2"]) == 2
    assert "argument --rate: must be between 0 and 1" in capsys.readouterr().err


def test_dry_run_prints_prompts_and_tokens_and_sends_nothing(tmp_path):
    # a real subprocess with no key and an unreachable base URL: a dry run must not need either
    out = subprocess.run(
        [sys.executable, "-m", "ftlab.cli", "augment", str(VALID), "-o", str(tmp_path / "x.jsonl"),
         "--ops", "paraphrase", "--paraphrase-model", "gpt-4o-mini", "--base-url",
         "http://127.0.0.1:9/v1", "--cache", str(tmp_path / "cache.jsonl"), "--dry-run"],
        capture_output=True, text=True, env={"PATH": "", "HOME": str(tmp_path)}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "32 prompts, 32 not cached" in out.stdout and "Nothing was sent." in out.stdout
    assert not (tmp_path / "x.jsonl").exists()
