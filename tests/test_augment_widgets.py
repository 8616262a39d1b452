"""The augmentation explorer: driven from Python like every ftlab explorer."""

from pathlib import Path

from ftlab.augment.text import changed_word_count
from ftlab.widgets.augment import augmentation_explorer, augmentation_numbers
from ftlab.chat.files import read_chat_jsonl

TRAIN = Path(__file__).resolve().parent.parent / "data" / "chat" / "marv_train.jsonl"


def test_numbers_count_changed_words_and_flag_repeats():
    r = augmentation_numbers("Why do cats purr?", "swap", 0.1, 0, 8)
    assert len(r["variants"]) == 8 and r["n_words"] == 4
    # four words give few distinct one-swap variants: repeats are flagged, not hidden
    assert r["n_distinct"] < 8 and any(v["repeat"] for v in r["variants"])
    for v in r["variants"]:
        assert v["changed_words"] == changed_word_count("Why do cats purr?", v["text"])


def test_explorer_is_prefilled_from_the_dataset_and_redraws_on_every_control():
    records = read_chat_jsonl(TRAIN)
    ex = augmentation_explorer(records)
    first_user = records[0]["messages"][1]["content"]
    assert ex.controls["text"].value == first_user == ex.result["text"]
    assert "<mark" in ex.view.value and "synonym at α=0.20" in ex.readout.value

    ex.controls["op"].value = "typo"
    assert ex.result["op"] == "typo" and "typo at" in ex.readout.value
    before = [v["text"] for v in ex.result["variants"]]
    ex.controls["seed"].value = 5
    assert [v["text"] for v in ex.result["variants"]] != before

    ex.controls["strength"].value = 0.5
    strong = ex.result["mean_changed_words"]
    ex.controls["strength"].value = 0.05
    assert ex.result["mean_changed_words"] < strong  # a stronger α changes more words

    ex.controls["n"].value = 2
    assert len(ex.result["variants"]) == 2 and ex.view.value.count("<b>") == 3

    ex.picker.value = ex.picker.options[2][1]  # picking an example fills the text box
    assert ex.controls["text"].value == records[2]["messages"][1]["content"] == ex.result["text"]

    ex.controls["text"].value = "Can you <convert> 5 miles?"
    assert "&lt;convert&gt;" in ex.view.value  # the learner's text is escaped, never run as HTML


def test_static_preview_is_the_variants_html():
    ex = augmentation_explorer(text="Why is the sky blue?", op="paraphrase")
    bundle = ex._repr_mimebundle_()
    assert bundle["text/html"] == ex.view.value and "paraphrase at" in bundle["text/plain"]
    assert ex.picker is None
