"""Duplicates (MinHash/LSH), diversity, label balance, stats plots and the leak-free split."""

import json
import os
import subprocess
import sys

import pytest

from ftlab._data import data_dir
from ftlab.chat.files import read_chat_jsonl, split_chat
from ftlab.chat.summary import chat_stats, distinct_n
from ftlab.chat.duplicates import find_duplicates, normalize

CHAT = data_dir() / "chat"


def chat(user, reply="ok"):
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]}


def test_distinct_n():
    assert distinct_n(["a b c", "a b d"], 1) == pytest.approx(4 / 6)
    assert distinct_n(["a b c", "a b d"], 2) == pytest.approx(3 / 4)
    assert distinct_n(["same words"] * 5, 2) == pytest.approx(1 / 5)
    assert distinct_n([], 2) == 0.0


def test_exact_and_near_duplicates_are_grouped():
    marv = read_chat_jsonl(CHAT / "marv_train.jsonl")
    base = [r["messages"][1]["content"] + " " + r["messages"][2]["content"] for r in marv[:40]]
    recs = [chat(t) for t in base]
    recs.append(chat(base[3].upper() + "!!"))  # exact after normalising
    recs.append(chat(base[7].replace("the", "a", 1) + " Indeed."))  # a small edit: near
    dups = find_duplicates(recs)
    assert dups.groups == [[3, 40], [7, 41]]
    assert dups.kinds == ["exact", "near"]
    assert dups.group_of[40] == 0 and dups.group_of[0] == -1
    assert dups.n_redundant == 2
    assert list(dups.to_frame()["line"]) == [4, 41, 8, 42]


def test_shipped_datasets_have_no_duplicates_but_broken_has_one():
    for name in ("marv_train", "tickets_train", "tutor_train"):
        assert find_duplicates(read_chat_jsonl(CHAT / f"{name}.jsonl")).groups == []
    with pytest.warns(UserWarning):
        broken = read_chat_jsonl(CHAT / "broken_train.jsonl")
    dups = find_duplicates(broken)
    assert [[broken.lines[i] for i in g] for g in dups.groups] == [[2, 21]]


def test_normalize():
    assert normalize("  Hello,   WORLD!\n") == "hello world"


def test_stats_of_classification_and_broken_files():
    tickets = chat_stats(CHAT / "tickets_train.jsonl")
    assert tickets.labels.sum() == 72 and set(tickets.labels.index) == {"billing", "technical", "account", "shipping"}
    assert tickets.label_imbalance == 1.0
    assert chat_stats(CHAT / "marv_train.jsonl").labels is None
    broken = chat_stats(CHAT / "broken_train.jsonl")
    assert broken.skipped == 4 and broken.n_system_prompts == 2
    assert broken.summary()["examples without system prompt"] == 1
    tutor = chat_stats(CHAT / "tutor_train.jsonl")
    assert tutor.table["messages"].min() >= 5 and tutor.roles["assistant"] == tutor.roles["user"]
    assert "distinct-2" in repr(tutor) and "<table" in tutor._repr_html_()


def test_stats_plot_has_four_panels():
    import matplotlib

    matplotlib.use("Agg")
    fig = chat_stats(CHAT / "tickets_train.jsonl").plot()
    assert len(fig.axes) == 4 and "Label balance" in fig.axes[3].get_title()


def test_stats_refuses_a_file_without_chat_examples():
    with pytest.raises(ValueError, match="validate_chat"):
        chat_stats([{"prompt": "a", "completion": "b"}])


def test_split_keeps_near_duplicates_together():
    marv = read_chat_jsonl(CHAT / "marv_train.jsonl")
    recs = []
    for r in marv[:50]:
        q, a = r["messages"][1]["content"], r["messages"][2]["content"]
        recs += [chat(q, a), chat(q + " Please answer.", a)]  # every example has a near twin
    train, valid = split_chat(recs, 0.2, seed=3)
    assert len(valid) == 20 and len(train) == 80
    texts_train = {normalize(r["messages"][1]["content"].removesuffix(" Please answer.")) for r in train}
    assert all(normalize(r["messages"][1]["content"].removesuffix(" Please answer.")) not in texts_train
               for r in valid)


def test_split_stratified_keeps_label_shares_and_lines():
    tickets = read_chat_jsonl(CHAT / "tickets_train.jsonl")
    train, valid = split_chat(tickets, 0.25, seed=0, stratify="label")
    labels = [r["messages"][-1]["content"] for r in valid]
    assert sorted(labels.count(x) for x in set(labels)) == [4, 4, 4, 4]  # 25 % of 18 per label, rounded
    assert sorted(train.lines + valid.lines) == tickets.lines
    assert train[0] is tickets[train.lines[0] - 1]


def test_split_rejects_bad_arguments():
    with pytest.raises(ValueError, match="valid_fraction"):
        split_chat([chat("a"), chat("b")], 1.5)
    with pytest.raises(ValueError, match="at least 2"):
        split_chat([chat("a")], 0.5)
    with pytest.raises(ValueError, match="stratify"):
        split_chat([chat("a"), chat("b")], 0.5, stratify="colour")


def test_split_and_duplicates_are_the_same_in_any_process():
    code = ("import json; from ftlab._data import data_dir; from ftlab.chat.files import read_chat_jsonl, split_chat;"
            "r = read_chat_jsonl(data_dir() / 'chat' / 'marv_train.jsonl');"
            "t, v = split_chat(r, 0.2, seed=7); print(json.dumps(v.lines))")
    outs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)
    assert len(outs) == 1
    here = split_chat(read_chat_jsonl(CHAT / "marv_train.jsonl"), 0.2, seed=7)[1].lines
    assert json.loads(outs.pop()) == here
    assert split_chat(read_chat_jsonl(CHAT / "marv_train.jsonl"), 0.2, seed=8)[1].lines != here
