"""Ticket variants (instruction × metadata), their metadata rules, and the shipped results of the
rounds experiment: a row re-runs to the same numbers; the tool writes and refuses to clobber."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from ftlab.chat.files import read_chat_jsonl
from ftlab.chat.variants import (INSTRUCTIONS, METADATA, OLD_QUEUE, PAGES, TEAM_PAGES, page_of,
                                 queue_of, ticket_variant, ticket_variants, variant_name)
from ftlab.tinylm.recipes import read_comparison

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "chat"
RESULTS_FILE = ROOT / "data" / "experiments" / "rounds_tickets.csv"
TOOL = ROOT / "tools" / "run_rounds_experiment.py"


@pytest.fixture(scope="module")
def tickets():
    return read_chat_jsonl(DATA / "tickets_train.jsonl"), read_chat_jsonl(DATA / "tickets_test.jsonl")


@pytest.fixture(scope="module")
def tool():
    sys.path.insert(0, str(TOOL.parent))  # the tools' shared _experiments module
    spec = importlib.util.spec_from_file_location("run_rounds_experiment", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fields(record):
    """The metadata lines of a record's user turn, as a dict."""
    user = [m for m in record["messages"] if m["role"] == "user"][-1]["content"]
    return dict(line.split(": ", 1) for line in user.splitlines()[1:])


def label(record):
    return record["messages"][-1]["content"]


def agreement(records, field):
    hits = [fields(r)[field] in TEAM_PAGES[label(r)] if field == "page"
            else fields(r)[field] == OLD_QUEUE[label(r)] for r in records]
    return sum(hits) / len(hits)


# ----------------------------------------------------------------------------- the variants


def test_instructions_replace_the_system_message(tickets):
    train, _ = tickets
    assert ticket_variant(train, instruction="none")[0]["messages"][0]["role"] == "user"
    for name in ("vague", "precise"):
        first = ticket_variant(train, instruction=name)[0]["messages"]
        assert first[0] == {"role": "system", "content": INSTRUCTIONS[name]}
        assert [m["role"] for m in first] == ["system", "user", "assistant"]
    assert all(team in INSTRUCTIONS["precise"] for team in TEAM_PAGES)
    assert not any(team in INSTRUCTIONS["vague"] for team in TEAM_PAGES)


def test_messages_and_labels_stay_and_nothing_is_changed_in_place(tickets):
    train, _ = tickets
    before = [dict(r) for r in train]
    made = ticket_variant(train, instruction="precise", metadata="page+queue")
    assert [label(r) for r in made] == [label(r) for r in train]
    for old, new in zip(train, made):
        message = new["messages"][1]["content"].split("\npage: ")[0]
        assert message == old["messages"][1]["content"]
    assert [dict(r) for r in train] == before


def test_metadata_is_deterministic_and_belongs_to_the_message(tickets):
    train, _ = tickets
    made = ticket_variant(train, metadata="page+queue", seed=4)
    assert made == ticket_variant(train, metadata="page+queue", seed=4)
    backwards = ticket_variant(list(train)[::-1], metadata="page+queue", seed=4)[::-1]
    assert [fields(r) for r in backwards] == [fields(r) for r in made]  # not from the position
    other = ticket_variant(train, metadata="page+queue", seed=5)
    assert [fields(r) for r in other] != [fields(r) for r in made]
    assert all(fields(r)["page"] in PAGES for r in made)


def test_the_page_informs_everywhere_and_the_queue_only_in_training(tickets):
    train, test = tickets
    v = ticket_variants(train, test, instructions=["precise"], metadata=["page+queue"])
    name = "precise/page+queue"
    assert list(v.train) == [name] and v.kinds[name] == ("precise", "page+queue")
    for records in (v.train[name], v.test[name], v.train_like[name]):
        assert 0.55 <= agreement(records, "page") <= 0.8  # 0.6 + 0.4 × 2/10 expected
    assert agreement(v.train[name], "queue") >= 0.85
    assert agreement(v.train_like[name], "queue") >= 0.85
    assert agreement(v.test[name], "queue") <= 0.4  # chance: 1 in 4
    # the same test messages: the page is the same, only the queue follows another rule
    assert [fields(r)["page"] for r in v.test[name]] == [fields(r)["page"] for r in v.train_like[name]]


def test_raising_the_rate_only_turns_random_queues_into_the_teams(tickets):
    _, test = tickets
    for record in list(test)[:20]:
        text, team = record["messages"][1]["content"], label(record)
        low, high = queue_of(text, team, rate=0.0), queue_of(text, team, rate=0.9)
        assert high == low or high == OLD_QUEUE[team]
        assert page_of(text, team, rate=1.0) in TEAM_PAGES[team]


def test_the_fields_go_where_the_mlp_can_read_them(tickets):
    train, _ = tickets
    end = ticket_variant(train, metadata="queue")[0]["messages"][-2]["content"]
    start = ticket_variant(train, metadata="queue", position="start")[0]["messages"][-2]["content"]
    assert end.splitlines()[-1].startswith("queue: ") and len(end.splitlines()[-1]) <= 14
    assert start.splitlines()[0].startswith("queue: ")


def test_every_variant_is_named(tickets):
    train, test = tickets
    v = ticket_variants(list(train)[:4], list(test)[:4])
    assert len(v.train) == len(INSTRUCTIONS) * len(METADATA) == 12
    assert variant_name("none", ("page", "queue")) == "none/page+queue"
    assert variant_name("vague", None) == "vague/none"


@pytest.mark.parametrize("kwargs, match", [
    ({"instruction": "polite"}, "unknown instruction"), ({"metadata": "page+colour"}, "colour"),
    ({"position": "middle"}, "position"),
])
def test_bad_choices_are_refused(tickets, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ticket_variant(tickets[0], **kwargs)


def test_records_that_are_not_tickets_are_refused():
    with pytest.raises(ValueError, match="record 0: the label 'maybe'"):
        ticket_variant([{"messages": [{"role": "user", "content": "x"},
                                      {"role": "assistant", "content": "maybe"}]}])
    with pytest.raises(ValueError, match="record 0: needs a user message"):
        ticket_variant([{"messages": [{"role": "assistant", "content": "billing"}]}])


# ----------------------------------------------------------------------------- the shipped results


def test_the_shipped_results_cover_every_variant_with_five_seeds_or_more(tool):
    c = read_comparison(RESULTS_FILE)
    t = c.table
    assert list(t.columns) == [*tool.SETTINGS, *tool.RESULTS, *tool.TIMES]
    assert (t.experiment == tool.EXPERIMENT).all() and len(c.seeds) >= 5
    assert (t.model == tool.MODEL).all()  # the transformer: it reads the whole conversation
    assert sorted(c.set_names) == sorted(variant_name(i, m) for i in INSTRUCTIONS for m in METADATA)
    assert len(t) == len(c.seeds) * len(c.set_names)
    n_test = len(read_chat_jsonl(DATA / t.test_file[0]))
    assert t.test_correct.str.len().eq(n_test).all() and t.train_like_correct.str.len().eq(n_test).all()


def test_a_shipped_row_reproduces_exactly(tool):
    """One variant × seed, re-run from scratch: every column but the timings is the same. If this
    fails after a change to the model, the training code or the variants, the shipped file is out
    of date: run `python tools/run_rounds_experiment.py --overwrite`."""
    t = read_comparison(RESULTS_FILE).table
    row = t[(t.set == "none/page+queue") & (t.seed == t.seed.max())].iloc[0].to_dict()  # quick to re-run
    again = tool.rerun_row(row)
    for column in (*tool.SETTINGS, *tool.RESULTS):
        if column in ("ftlab_version", "numpy_version"):
            continue  # recorded for the reader; a new version may still give the same numbers
        same = again[column] == row[column] if isinstance(row[column], (int, float)) \
            else str(again[column]) == row[column]
        assert same, (f"{column}: the shipped file says {row[column]!r}, a re-run gives "
                      f"{again[column]!r}; regenerate it with tools/run_rounds_experiment.py "
                      "--overwrite")


def test_the_tool_writes_a_results_file_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "rounds.csv"
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    train.write_text("".join((DATA / "tickets_train.jsonl").read_text().splitlines(True)[:8]))
    test.write_text("".join((DATA / "tickets_test.jsonl").read_text().splitlines(True)[:4]))
    cmd = [sys.executable, str(TOOL), "--seeds", "2", "--instructions", "precise",
           "--metadata", "none,queue", "--train", str(train), "--test", str(test), "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "per fine-tune" in done.stdout and "shortcut (precise/queue − precise/none)" in done.stdout
    assert len(read_comparison(out).table) == 4
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    bad = subprocess.run(cmd[:2] + ["--metadata", "colour", "-o", str(tmp_path / "x.csv")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--metadata" in bad.stderr and "Traceback" not in bad.stderr
