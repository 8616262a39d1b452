"""augment_chat: assistant turns byte-identical, tools untouched, seeded across processes, valid output."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ftlab
from ftlab.augment.text import user_key
from ftlab.augment.chat import _key, augment_chat
from ftlab.chat.files import read_chat_jsonl
from ftlab.chat.validate import validate_chat

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "data" / "chat" / "marv_train.jsonl"
VALID = ROOT / "data" / "chat" / "marv_valid.jsonl"
ALL_OPS = ["synonym", "insert", "swap", "delete", "typo", "char", "case", "punct", "space", "paraphrase"]

TOOL_EXAMPLE = {
    "messages": [
        {"role": "system", "content": "You check the weather."},
        {"role": "user", "content": "What is the weather like in Paris today?"},
        {"role": "assistant", "content": "Let me look that up for you right away.",
         "tool_calls": [{"id": "call_1", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 18, \"sky\": \"clear sky\"}"},
        {"role": "assistant", "content": "It is a clear and pleasant day in Paris, about 18 °C."},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}],
}


def _dump(x):
    return json.dumps(x, sort_keys=True, ensure_ascii=False)


@pytest.fixture(scope="module")
def train():
    return read_chat_jsonl(TRAIN)


@pytest.mark.parametrize("ops", [["synonym"], ["insert", "swap"], ["delete"], ["typo", "char"],
                                 ["case", "punct", "space"], ["paraphrase"], ALL_OPS])
def test_only_user_turns_change_and_everything_else_is_byte_identical(train, ops):
    result = augment_chat(train, ops, n_per_example=2, seed=1, rate=0.2)
    assert result.records[:len(train)] == list(train)
    assert len(result.variants) > len(train)  # most examples got two variants
    for _, row in result.provenance.iterrows():
        source, variant = train[row.source_index], result.records[row["index"]]
        assert set(variant) == set(source)  # no provenance keys in the training record
        assert len(variant["messages"]) == len(source["messages"])
        changed = False
        for a, b in zip(source["messages"], variant["messages"]):
            if a["role"] == "user":
                changed |= a != b
            else:
                assert _dump(a).encode() == _dump(b).encode()
        assert changed


def test_no_variant_repeats_its_original_or_another_example(train):
    result = augment_chat(train, ["swap"], n_per_example=3, seed=0, rate=0.05)
    keys = [_dump(r) for r in result.records]
    assert len(keys) == len(set(keys))
    # one swap in a short question often lands on a variant made already: those were dropped
    assert sum(result.dropped.values()) > 0


def test_tool_messages_and_tool_calls_are_never_touched():
    records = [TOOL_EXAMPLE] * 1
    result = augment_chat(records, ALL_OPS, n_per_example=3, seed=0, rate=0.3,
                          roles=("user", "assistant"))
    assert result.variants
    for v in result.variants:
        for a, b in zip(TOOL_EXAMPLE["messages"], v["messages"]):
            if a["role"] == "tool" or "tool_calls" in a:
                assert a == b
        assert v["tools"] == TOOL_EXAMPLE["tools"]
    # asking for tool messages explicitly is refused
    with pytest.raises(ValueError, match="tool and function messages are never augmented"):
        augment_chat(records, ["typo"], roles=("user", "tool"))


def test_assistant_turns_change_only_when_asked(train):
    result = augment_chat(train[:10], ["typo"], roles=("assistant",), seed=0)
    for row in result.provenance.itertuples():
        src, var = train[row.source_index]["messages"], result.records[row.index]["messages"]
        assert src[1] == var[1] and src[2] != var[2]


def test_augmented_output_passes_validate_chat(train):
    valid = read_chat_jsonl(VALID)
    result = augment_chat(train, ["synonym", "typo", "paraphrase"], n_per_example=2, seed=0, valid=valid)
    report = validate_chat(result.records, valid=valid)
    assert report.ok, report.summary()
    assert not [p for p in report.all_problems() if p.code == "leakage"]


def test_copies_of_validation_examples_never_land_in_training(train):
    valid = list(read_chat_jsonl(VALID))
    leaked_train = list(train[:20]) + [valid[0], valid[1]]  # two validation examples leaked in
    result = augment_chat(leaked_train, ["synonym", "typo"], n_per_example=2, seed=0, valid=valid)
    assert result.not_augmented == [20, 21]
    assert not (result.provenance.source_index >= 20).any()
    valid_users = {user_key(v) for v in valid}
    assert not any(user_key(v) in valid_users for v in result.variants)


def test_a_variant_equal_to_a_validation_example_is_dropped():
    # the only swap of a two-word question gives "Blue sky?", which the validation set holds
    base = {"messages": [{"role": "user", "content": "Sky blue?"},
                         {"role": "assistant", "content": "Rayleigh scattering of sunlight."}]}
    other = {"messages": [{"role": "user", "content": "blue  sky?"},
                          {"role": "assistant", "content": "Something else entirely, said differently."}]}
    result = augment_chat([base], ["swap"], n_per_example=1, seed=0, rate=0.1, valid=[other])
    assert result.dropped["in validation"] == 4 and not result.variants  # 4 tries, all dropped
    assert augment_chat([base], ["swap"], seed=0).variants[0]["messages"][0]["content"] == "Blue sky?"


def test_provenance_lists_source_lines_and_operations(train, tmp_path):
    result = augment_chat(train, ["synonym", "typo"], n_per_example=2, seed=0)
    prov = result.provenance
    assert list(prov["index"]) == list(range(len(train), len(result.records)))
    assert (prov.ops == "synonym+typo").all() and (prov.n_edits >= 1).all()
    assert prov.edits.str.contains("synonym:").mean() > 0.8  # most questions have a synonym
    assert (prov.source_line == prov.source_index + 1).all()
    out, side = result.write(tmp_path / "aug.jsonl")
    assert side.name == "aug.provenance.csv" and len(side.read_text().splitlines()) == len(prov) + 1
    back = read_chat_jsonl(out)
    assert list(back) == list(result.records)
    with pytest.raises(FileExistsError):
        result.write(tmp_path / "aug.jsonl")


def test_bad_examples_are_named_by_line():
    records = read_chat_jsonl(b'{"messages": [{"role": "user", "content": "hi"}]}\n{"prompt": "x"}\n')
    with pytest.raises(ValueError, match=r"line 2: field 'messages'"):
        augment_chat(records, ["typo"])


def test_same_seed_same_records_different_seed_different(train):
    a = augment_chat(train, ["synonym", "delete"], n_per_example=2, seed=7)
    b = augment_chat(train, ["synonym", "delete"], n_per_example=2, seed=7)
    c = augment_chat(train, ["synonym", "delete"], n_per_example=2, seed=8)
    assert a.records == b.records and a.records != c.records


_DIGEST = """
import hashlib, json, sys
from ftlab.augment.text import user_key
from ftlab.augment.chat import augment_chat
from ftlab.chat.files import read_chat_jsonl
r = augment_chat(read_chat_jsonl(sys.argv[1]), sys.argv[2].split(","), n_per_example=3, seed=11,
                 rate=0.2, lexicon="builtin")
print(hashlib.sha256(json.dumps(list(r.records), sort_keys=True).encode()).hexdigest())
"""


def test_same_seed_same_output_in_processes_with_different_hash_seeds(train):
    ops = ",".join(ALL_OPS)
    digests = []
    for hash_seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", _DIGEST, str(TRAIN), ops], env=env,
                             capture_output=True, text=True, check=True)
        digests.append(out.stdout.strip())
    here = augment_chat(train, ALL_OPS, n_per_example=3, seed=11, rate=0.2, lexicon="builtin")
    digests.append(hashlib.sha256(json.dumps(list(here.records), sort_keys=True).encode()).hexdigest())
    assert len(set(digests)) == 1, digests


def test_an_examples_variants_depend_on_it_alone(train):
    """Per-example streams: changing one example changes no other example's variants."""
    changed = [dict(r) for r in train]
    changed[0] = {"messages": [{"role": "user", "content": "Something else entirely, asked anew?"},
                               {"role": "assistant", "content": "Fine."}]}
    a = augment_chat(train, ["synonym", "typo"], n_per_example=2, seed=3, lexicon="builtin")
    b = augment_chat(changed, ["synonym", "typo"], n_per_example=2, seed=3, lexicon="builtin")
    by_source = lambda r: {(i, tuple(map(str, v["messages"]))) for i, v in
                           zip(r.provenance["source_index"], r.variants) if i != 0}
    assert by_source(a) == by_source(b) and by_source(a)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["user", "assistant", "system"]), st.text(max_size=6)),
                max_size=3), st.lists(st.tuples(st.sampled_from(["user", "assistant"]),
                                                st.text(max_size=6)), max_size=3),
       st.booleans())
def test_duplicate_key_is_equal_exactly_when_the_examples_are(a, b, extra_field):
    def record(pairs):
        return {"messages": [{"role": r, "content": c} for r, c in pairs]}

    ra, rb = record(a), record(b)
    if extra_field:  # not the plain shape: the canonical-JSON key
        ra["messages"] = ra["messages"] + [{"role": "user", "content": "x", "weight": 1}]
    assert (_key(ra) == _key(rb)) == (ra == rb)
    assert _key(ra) == _key(json.loads(json.dumps(ra)))


def test_exported_from_ftlab():
    assert ftlab.augment_chat is augment_chat
    assert ftlab.augment_text("Why do cats purr?", ["paraphrase"], seed=0).text != "Why do cats purr?"


def test_the_input_records_are_never_mutated(train):
    import copy

    parts = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is shown in this picture of a big old house?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/house.png"}}]},
        {"role": "assistant", "content": "A large house, quite old, in need of paint."}]}
    records = list(train[:20]) + [parts, TOOL_EXAMPLE]
    snapshot = copy.deepcopy(records)
    result = augment_chat(records, ALL_OPS, n_per_example=2, seed=0, rate=0.3,
                          roles=("user", "assistant"))
    assert records == snapshot
    variant = [v for v in result.variants if v["messages"][0]["content"][1:] == parts["messages"][0]["content"][1:]]
    assert variant and variant[0]["messages"][0]["content"][0]["text"] != parts["messages"][0]["content"][0]["text"]


def test_a_short_label_shared_with_validation_is_no_leak():
    from ftlab._data import data_dir
    from ftlab.augment.chat import augment_chat
    from ftlab.chat.files import read_chat_jsonl

    chat = data_dir() / "chat"
    train = read_chat_jsonl(chat / "tickets_train.jsonl")
    result = augment_chat(train, ["typo"], seed=0, valid=read_chat_jsonl(chat / "tickets_valid.jsonl"))
    assert result.not_augmented == [] and len(result.records) == 2 * len(train)
