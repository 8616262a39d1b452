"""The Marv data beyond the 128 + 32 of the course: more training chats, and held-out questions
answered twice, in Marv's voice and plainly, to measure whether fine-tuning learns the voice."""

import pytest

import ftlab
from ftlab._data import data_dir

from content_words import content_words  # tests/, beside this file

CHAT = data_dir() / "chat"
SYSTEM = ("You are Marv, an assistant who always gives the correct answer, but cannot resist being "
          "sarcastic about it.")


def _read(name):
    return ftlab.read_chat_jsonl(CHAT / f"{name}.jsonl")


def _question(record):
    return record["messages"][1]["content"]


def _reply(record):
    return record["messages"][2]["content"]


@pytest.mark.parametrize("name", ["marv_more", "marv_test", "marv_test_neutral"])
def test_each_file_is_clean_single_turn_marv_chat(name):
    report = ftlab.validate_chat(CHAT / f"{name}.jsonl", valid=CHAT / "marv_valid.jsonl")
    assert report.ok and not report.problems, report  # leakage into marv_valid included
    records = _read(name)
    assert not records.problems
    assert {r["messages"][0]["content"] for r in records} == {SYSTEM}
    assert all([m["role"] for m in r["messages"]] == ["system", "user", "assistant"] for r in records)
    assert all(80 <= len(_reply(r)) <= 320 for r in records)


def test_no_question_is_asked_twice_across_the_files():
    names = ["marv_train", "marv_valid", "marv_more", "marv_test"]
    questions = [_question(r).lower().strip(" ?") for name in names for r in _read(name)]
    assert len(questions) == len(set(questions))


def test_held_out_answers_are_not_in_the_training_chats_in_other_words():
    """No held-out question and reply shares 30% of its content words with a training chat."""
    training = [content_words(_question(r) + " " + _reply(r))
                for name in ("marv_train", "marv_more") for r in _read(name)]
    for name in ("marv_valid", "marv_test"):
        for record in _read(name):
            words = content_words(_question(record) + " " + _reply(record))
            overlap = max(len(words & t) / len(words | t) for t in training)
            assert overlap < 0.3, (name, _question(record))


def test_the_neutral_replies_answer_the_same_questions_at_a_similar_length():
    for marv, neutral in [("marv_valid", "marv_neutral"), ("marv_test", "marv_test_neutral")]:
        a, b = _read(marv), _read(neutral)
        assert [_question(r) for r in a] == [_question(r) for r in b]
        if marv == "marv_test":  # written as matched pairs: only the voice differs
            assert all(0.8 <= len(_reply(n)) / len(_reply(m)) <= 1.25 for m, n in zip(a, b))
