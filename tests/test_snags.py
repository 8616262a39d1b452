"""Issue #14, the snags a newcomer hit in the explorers and plots: each pinned by a test that
drives the explorer or renders the figure and looks at what a learner would see."""

import html
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

import ftlab  # noqa: E402
from ftlab._data import data_dir  # noqa: E402

pytest.importorskip("ipywidgets")

from ftlab.widgets import augment, chat, hosted, loss_curves, losses, sampling  # noqa: E402
from ftlab.widgets.runs import polling_explorer  # noqa: E402

TRAIN = data_dir() / "chat" / "marv_train.jsonl"


def _drawn(fig):
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _tiny_model():
    from ftlab.tinylm.model import Config, TinyLM

    return TinyLM(Config(4, 4, 8))


def _all_explorers():
    """Every explorer of the course, as the notebooks build them."""
    records = ftlab.read_chat_jsonl(TRAIN)
    return {
        "probability": losses.correct_probability_explorer(vocab_size=10),
        "uniform": losses.uniform_choice_explorer(vocab_size=20),
        "perplexity": losses.loss_perplexity_explorer(vocab_size=50),
        "replay": loss_curves.replay("patent-insights"),
        "early_stopping": loss_curves.early_stopping_explorer("patent-insights"),
        "polling": polling_explorer("marv"),
        "cost_05": chat.cost_explorer(tokens_per_example=85),
        "duplicates": chat.duplicate_threshold_explorer(list(records)[:30]),
        "augmentation": augment.augmentation_explorer(records),
        "sampling": sampling.sampling_explorer(_tiny_model(), "Hello", n_samples=1, max_tokens=5),
        "cost_09": hosted.cost_explorer(ftlab.validate_chat(TRAIN, model="gpt-4o-mini-2024-07-18")),
    }


@pytest.fixture(scope="module")
def explorers():
    return _all_explorers()


# ------------------------------------------------------------------ 1. the replay's loss axis


def test_replay_loss_axis_shows_every_recorded_value_and_never_moves():
    rp = loss_curves.replay("patent-insights")
    ax = rp.figure.axes[0]
    m = ftlab.load_sample("patent-insights").metrics
    highest = m[["train_loss", "valid_loss", "full_valid_loss"]].max().max()  # 2.09, the first steps
    low, high = ax.get_ylim()
    assert low == 0 and highest < high <= highest * 1.1  # nothing clipped, not much wasted
    for step in (1, 40, 500, 1665):
        rp.controls["step"].value = step
        assert ax.get_ylim() == (low, high)
    rp.controls["smoothing"].value = 0.0
    assert ax.get_ylim() == (low, high)
    rp.controls["run"].value = "nlbse-noval"  # another run: fitted to its own losses (5.2 at first)
    ax = rp.figure.axes[0]
    top = ftlab.load_sample("nlbse-noval").metrics["train_loss"].max()
    assert top < ax.get_ylim()[1] <= top * 1.1


# ------------------------------------------------------------------ 2. the "last events" recording


def test_replaying_the_last_events_recording_says_what_it_holds():
    rp = loss_curves.replay("patent-insights-last-events")
    text = rp.readout.value
    assert ("this recording holds only steps 1660–1665 (6 step events); earlier steps were never "
            "fetched") in text
    assert "none recorded yet" not in text
    assert "full validation loss 0.876 at step 1665" in text
    left, right = rp.figure.axes[0].get_xlim()
    assert 1655 < left < 1660 and 1665 < right < 1670  # its six steps fill the plot
    rp.controls["step"].value = 1661
    assert "1660–1665" in rp.readout.value


def test_the_note_is_computed_from_the_run():
    marv = ftlab.load_sample("marv")
    newest = marv.to_events(start_time=1734182950)[:6]  # the first page: newest events first
    tail = ftlab.load_run(newest, name="marv tail")
    steps = tail.steps
    note = loss_curves.recording_note(loss_curves.recorded_span(tail))
    assert note == (f"this recording holds only steps {steps[0]}–{steps[-1]} ({len(steps)} step "
                    "events); earlier steps were never fetched")
    # whole recordings, including logs that record every k-th step from step k, get no note
    for name in ("patent-insights", "tinyllama-trl", "roberta-tensorboard", "llamafactory-qwen"):
        assert loss_curves.recording_note(loss_curves.recorded_span(ftlab.load_sample(name))) is None


# ------------------------------------------------------------------ 3. notebook 09's cost explorer


def test_hosted_cost_explorer_counts_each_model_with_its_own_encoding():
    records = ftlab.read_chat_jsonl(TRAIN)
    report = ftlab.validate_chat(TRAIN, model="gpt-4o-mini-2024-07-18")
    ex = hosted.cost_explorer(report, n_epochs=3, train=TRAIN)
    o200k = sum(ftlab.count_tokens(r, encoding="o200k_base") for r in records)
    cl100k = sum(ftlab.count_tokens(r, encoding="cl100k_base") for r in records)
    assert o200k != cl100k and ex.result["tokens_per_epoch"] == o200k
    ex.controls["model"].value = "gpt-3.5-turbo-0125"
    assert ex.result["tokens_per_epoch"] == cl100k and ex.result["billed_tokens"] == 3 * cl100k
    assert "cl100k_base" in ex.readout.value and f"{cl100k:,}" in ex.readout.value
    ex.controls["model"].value = "gpt-4.1-mini-2025-04-14"
    assert ex.result["tokens_per_epoch"] == o200k and "o200k_base" in ex.readout.value


def test_hosted_cost_explorer_never_shows_counts_of_another_encoding():
    """A report made from records cannot be counted again: only its encoding's models are offered."""
    report = ftlab.validate_chat(list(ftlab.read_chat_jsonl(TRAIN)), model="gpt-4o-mini-2024-07-18")
    ex = hosted.cost_explorer(report)
    offered = ex.controls["model"].options
    assert "gpt-3.5-turbo-0125" not in offered and "gpt-4o-2024-08-06" in offered
    assert "not offered: gpt-3.5-turbo-0125" in ex.readout.value
    # notebook 09's call: a report of a file knows the file's path, so every model is counted
    from_file = ftlab.validate_chat(TRAIN, model="gpt-4o-mini-2024-07-18")
    assert "gpt-3.5-turbo-0125" in hosted.cost_explorer(from_file).controls["model"].options
    assert "gpt-3.5-turbo-0125" in hosted.cost_explorer(report, train=TRAIN).controls["model"].options


# ------------------------------------------------------------------ 4. notebook 05's examples slider


def test_examples_slider_shows_the_number_of_examples():
    ex = chat.cost_explorer(tokens_per_example=85)
    slider = ex.controls["n_examples"]
    assert slider.label == "128" and ex.result["n_examples"] == 128
    slider.value = 200
    assert slider.label == "200" and ex.result["n_examples"] == 200
    slider.value = 10_000
    assert slider.label == "10,000" and "10,000 examples" in ex.readout.value
    assert slider.options[0] == ("1", 1) and slider.options[-1] == ("100,000", 100_000)


# ------------------------------------------------------------------ 5. labels cut short


def test_control_labels_fit(explorers):
    DESCRIPTION_FITS = 8  # characters in ipywidgets' default 80 px label ("temperat…" was cut)
    checked = 0
    for name, ex in explorers.items():
        for control in ex.controls.values():
            if len(control.description) > DESCRIPTION_FITS and type(control).__name__ != "Checkbox":
                assert control.style.description_width == "initial", (name, control.description)
                checked += 1
    assert checked >= 5  # temperature, smoothing, threshold, ...
    assert explorers["sampling"].controls["temperature"].style.description_width == "initial"


def test_hosted_cost_explorer_in_instructor_mode():
    ftlab.presenter()
    try:
        ex = hosted.cost_explorer(ftlab.validate_chat(TRAIN))
        assert ex.controls["n_epochs"].layout.width == "95%"
    finally:
        ftlab.presenter(False)


# ------------------------------------------------------------------ 6. one event, two events


def test_plural_helper():
    from ftlab.widgets.explorer import plural

    assert [plural(n, "event") for n in (0, 1, 2, 1500)] == ["0 events", "1 event", "2 events",
                                                             "1,500 events"]


def test_counts_in_readouts_agree_with_their_nouns():
    ex = polling_explorer("marv", page_size=1, every=1)
    assert "1 event per call" in ex.readout.value and "poll every step," in ex.readout.value
    ex.controls["page_size"].value = 2
    assert "2 events per call" in ex.readout.value
    cost = chat.cost_explorer(tokens_per_example=1)
    cost.controls["n_examples"].value = 1
    cost.controls["n_epochs"].value = 1
    text = cost.readout.value
    assert "1 example × 1 epoch (set by you) = 1 example pass → 1 billed token" in text
    assert cost.figure.axes[1].get_title() == "billed tokens (1 token per example)"
    cost.controls["n_epochs"].value = "auto"
    assert "(the cookbook's estimate of 'auto' for 1 example)" in html.unescape(cost.readout.value)
    bill = hosted.cost_explorer(ftlab.validate_chat(TRAIN), n_epochs=1, train=TRAIN)
    assert "1 epoch ×" in bill.readout.value
    one_word = augment.augmentation_numbers("Hello", "typo", 0.5, 0, 1)
    words = augment.augmentation_explorer(text="Hello", op="typo", n=1)
    assert one_word["n_words"] == 1 and "of 1 word changed" in words.readout.value
    pair = [{"messages": [{"role": "user", "content": t}]} for t in ("a cat", "a dog")]
    dups = chat.duplicate_threshold_explorer(pair)
    assert dups.figure.axes[0].get_title() == "all 1 pair of 2 examples"


# ------------------------------------------------------------------ 7. title and epoch names


def _overlap(a, b, touch=1.0):
    """Whether two boxes overlap by more than ``touch`` pixels (matplotlib stacks a title right
    on the top of the axis below it: touching is the layout working, not a collision)."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > touch) and (min(a.y1, b.y1) - max(a.y0, b.y0) > touch)


def _epoch_labels(ax):
    texts = [t for t in ax.texts if t.get_text().startswith("epoch")]
    for child in ax.child_axes:
        texts += [t for t in child.get_xticklabels() if t.get_text() and t.get_visible()]
    return texts


@pytest.mark.parametrize("style, scale", [("notebook", None), ("projector", None),
                                          ("projector", 2.5), (None, 2.0)])
def test_title_never_overlaps_the_epoch_names(style, scale):
    from ftlab.curves.plots import CurvePlot

    if scale:
        ftlab.presenter(scale=scale)
    try:
        for name in ("patent-insights", "hf-ner-console"):
            plot = CurvePlot(ftlab.load_sample(name), pyplot=False, style=style, perplexity=True,
                             title=f"{name}: a title as long as a learner would write it")
            renderer = _drawn(plot.figure)
            title = plot.ax.title.get_window_extent(renderer)
            labels = _epoch_labels(plot.ax)
            assert labels, "the epochs are named"
            for label in labels:
                assert not _overlap(title, label.get_window_extent(renderer)), label.get_text()
            page = plot.figure.bbox
            for text in [plot.ax.title, plot.ax.xaxis.label, plot.ax.yaxis.label] + labels:
                box = text.get_window_extent(renderer)
                assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, text.get_text()
                assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, text.get_text()
    finally:
        ftlab.presenter(False)


def test_title_clears_the_epoch_names_in_a_grid_of_plots():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 3.5), layout="constrained")
    try:
        for ax, name in zip(axes, ["patent-insights", "hf-ner-console", "tinyllama-trl"]):
            ftlab.plot_run(ftlab.load_sample(name), ax=ax, title=name)
        renderer = _drawn(fig)
        for ax in axes:
            title = ax.title.get_window_extent(renderer)
            assert not any(_overlap(title, t.get_window_extent(renderer)) for t in _epoch_labels(ax))
    finally:
        plt.close(fig)


# ------------------------------------------------------------------ 8. whole-number ticks


def _visible_ticks(axis):
    low, high = sorted(axis.get_view_interval())
    return [t for t in axis.get_majorticklocs() if low <= t <= high]


@pytest.mark.parametrize("vocab_size", [2, 3, 4, 5, 10, 20, 50])
def test_token_axis_has_whole_number_ticks(vocab_size):
    for ex in (losses.uniform_choice_explorer(vocab_size=vocab_size),
               losses.correct_probability_explorer(vocab_size=vocab_size)):
        ax = ex.figure.axes[-1]
        _drawn(ex.figure)
        ticks = _visible_ticks(ax.xaxis)
        assert ticks and all(float(t).is_integer() and 0 <= t < vocab_size for t in ticks), ticks


def test_step_axes_have_whole_number_ticks():
    import matplotlib.pyplot as plt
    import pandas as pd

    three = ftlab.Run(pd.DataFrame({"train_loss": [1.0, 0.8, 0.7]}, index=[1, 2, 3]), {"name": "three"})
    for fig in (ftlab.plot_run(three), ftlab.plot_runs([three]),
                ftlab.plot_run(ftlab.load_sample("patent-insights-last-events"))):
        _drawn(fig)
        ticks = _visible_ticks(fig.axes[0].xaxis)
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    ex = polling_explorer(three, page_size=1, every=1)
    _drawn(ex.figure)
    assert all(float(t).is_integer() for t in _visible_ticks(ex.figure.axes[0].xaxis))
    plt.close("all")


# ------------------------------------------------------------------ 9. log axes, axis labels


def _axes_of(explorers):
    for name, ex in explorers.items():
        if ex.figure is None:  # the augmentation explorer shows text, not a figure
            continue
        for ax in ex.figure.axes:
            if ax.axison:
                yield name, ax


def test_every_log_axis_says_so_in_its_label(explorers):
    logs = 0
    for name, ax in _axes_of(explorers):
        for axis, label in ((ax.xaxis, ax.get_xlabel()), (ax.yaxis, ax.get_ylabel())):
            if axis.get_scale() == "log":
                logs += 1
                assert "log scale" in label and label.split("(")[0].strip(), (name, label)
    assert logs == 5  # examples and billed tokens (05), pairs (05), perplexity (02)


def test_every_axis_of_every_explorer_is_labelled(explorers):
    for name, ax in _axes_of(explorers):
        assert ax.get_xlabel() and ax.get_ylabel(), (name, ax.get_title())


def test_explorer_figures_keep_their_text_inside():
    """What the explorers show is the figure as drawn: a title or label past its edge is cut."""
    for name, ex in _all_explorers().items():
        if ex.figure is None:
            continue
        renderer = _drawn(ex.figure)
        page = ex.figure.bbox
        for ax in ex.figure.axes:
            if not ax.axison:
                continue
            for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
                if text.get_text():
                    box = text.get_window_extent(renderer)
                    assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, (name, text.get_text())
                    assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, (name, text.get_text())


def test_a_report_read_from_a_file_lets_the_cost_explorer_count_every_model():
    from ftlab._data import data_dir
    from ftlab.chat.validate import validate_chat
    from ftlab.widgets.hosted import TokenCounts

    report = validate_chat(data_dir() / "chat" / "marv_train.jsonl", model="gpt-4o-mini-2024-07-18")
    counts = TokenCounts(report)           # no train=: the report's own path is counted again
    assert counts.can_count("gpt-3.5-turbo-0125")
    name, tokens = counts.for_model("gpt-3.5-turbo-0125")
    assert name == "cl100k_base" and len(tokens) == report.n_examples
    assert sum(tokens) != sum(report.example_tokens)
