"""Explorers for notebooks 03 and 04: replay a run step by step, and find where early stopping stops.

Both follow ``ftlab.widgets.explorer.Explorer``: a pure function of the controls (``replay_numbers``,
``run_early_stopping``), a draw function that moves the data of artists made once, and core
ipywidgets wiring that works on ipywidgets 7.7.1 (Colab) and 8. On a slider step only the moving
artists are redrawn onto a cached background (blitting, Agg) and the figure is shown as a PNG, so
a 1665-step run replays smoothly.

Drive them from Python like a learner would::

    rp = replay("patent-insights")
    rp.controls["step"].value = 500      # -> rp.result["valid_loss"], rp.readout.value, rp.figure
    es = early_stopping_explorer("patent-insights")
    es.controls["patience"].value = 2    # -> es.result.stop_step == 300
"""

import io

from ftlab.widgets.explorer import Explorer, plural
from ftlab.curves.replay import curve_at
from ftlab.curves.early_stopping import FLAVORS
from ftlab.curves.run_stopping import _RunFacts
from ftlab.curves.plots import CurvePlot, recorded_span


def _load(run):
    from ftlab.runs.samples import load_sample

    return load_sample(run) if isinstance(run, str) else run


class _Blitter:
    """Cached Agg background of a figure + redraw of only the moving artists."""

    def __init__(self, figure):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.figure = figure
        FigureCanvasAgg(figure)
        self.artists, self.background = [], None

    def reset(self, artists):
        self.artists, self.background = list(artists), None

    def render(self):
        canvas = self.figure.canvas
        if self.background is None:
            for a in self.artists:
                a.set_visible(False)
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.figure.bbox)
            for a in self.artists:
                a.set_visible(True)
        canvas.restore_region(self.background)
        for a in self.artists:
            a.axes.draw_artist(a)

    def png(self):
        from PIL import Image

        width, height = self.figure.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.figure.canvas.buffer_rgba(),
                                 "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        image.save(out, format="png", compress_level=1)  # fast: this runs on every slider step
        return out.getvalue()


class BlitExplorer(Explorer):
    """An :class:`~ftlab.widgets.explorer.Explorer` whose figure is redrawn by blitting and shown as PNG."""

    def __init__(self, controls, compute, draw, figure, blitter, layout=None):
        self.blitter = blitter
        super().__init__(controls, compute, draw, figure, layout)

    def render(self):
        self.blitter.render()

    def png(self):
        return self.blitter.png()


# ----------------------------------------------------------------------------- replay


def recording_note(span):
    """What a recording that misses the start of its job holds, or ``None`` for a whole one.

    >>> recording_note({"first": 1660, "last": 1665, "n_steps": 6, "partial": True, "events": True})
    'this recording holds only steps 1660–1665 (6 step events); earlier steps were never fetched'
    """
    if not span or not span["partial"]:
        return None
    held = f"this recording holds only steps {span['first']}–{span['last']}"
    if span["events"]:
        return f"{held} ({plural(span['n_steps'], 'step event')}); earlier steps were never fetched"
    return f"{held} ({plural(span['n_steps'], 'logged step')}); earlier steps are not in it"


def replay_numbers(run, step, smoothing):
    """:func:`~ftlab.curves.replay.curve_at` plus what the readout says beyond it: the last full
    validation loss, where validation starts, and which steps the recording holds."""
    r = curve_at(run, step, smoothing)
    m = run.metrics
    full = m["full_valid_loss"].loc[:step].dropna()
    valid = m["valid_loss"].dropna()
    r.update(full_valid_loss=float(full.iloc[-1]) if len(full) else None,
             full_valid_step=int(full.index[-1]) if len(full) else None,
             first_valid_step=int(valid.index[0]) if len(valid) else None,
             span=recorded_span(run))
    return r


def _replay_text(r):
    def num(v, fmt=".3f"):
        return "-" if v is None else format(v, fmt)

    epoch = "" if r["epoch"] is None else f" | epoch {r['epoch']:.2f}"
    parts = [f"step {r['step']} of {r['last_step']}{epoch} | training loss {num(r['train_loss'])} "
             f"(smoothed {num(r['train_smoothed'])}, perplexity {num(r['train_perplexity'], '.2f')})"]
    if r["valid_loss"] is not None:
        parts.append(f"validation loss {r['valid_loss']:.3f} at step {r['valid_step']} "
                     f"(perplexity {r['valid_perplexity']:.2f}) | best {r['best_valid']:.3f} "
                     f"at step {r['best_step']}")
    elif r.get("first_valid_step") is not None:
        parts.append(f"validation loss: none recorded yet (first at step {r['first_valid_step']})")
    elif r.get("full_valid_loss") is None and not (r.get("span") or {}).get("partial"):
        parts.append("no validation loss in this recording")
    if r.get("full_valid_loss") is not None:
        parts.append(f"full validation loss {r['full_valid_loss']:.3f} at step {r['full_valid_step']}")
    note = recording_note(r.get("span"))
    if note:
        parts.append(note)
    return " | ".join(parts)


def replay(run="patent-insights", *, smoothing=0.6, style=None, choices=None):
    """Replay a run's loss curves step by step: Play button, step slider, speed, smoothing and a
    run picker across the shipped recordings (``choices``), with a live readout of step, epoch,
    losses and perplexities. ``run`` is a :class:`ftlab.Run` or a shipped recording's name.

    ``.controls`` holds the ``run``, ``step`` and ``smoothing`` widgets, ``.play``/``.speed`` the
    animation, ``.result`` the numbers of :func:`replay_numbers` at the current step. The loss axis fits every
    value the run recorded and stays put while it replays; a recording that misses the start of
    its job (``patent-insights-last-events``) shows only its steps and says so.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ftlab.widgets.presenter import is_on as presenter_on, replay_interval_ms
    from ftlab.runs.samples import sample_names

    first = _load(run)
    runs = {first.name: first}
    names = list(choices) if choices is not None else sample_names()
    if first.name not in names:
        names.insert(0, first.name)
    figure = Figure(figsize=(9, 4.8))
    blitter = _Blitter(figure)
    state = {}

    def set_run(name):
        if name not in runs:
            runs[name] = _load(name)
        plot = CurvePlot(runs[name], figure=figure, smoothing=smoothing_slider.value, style=style)
        state.update(run=runs[name], plot=plot)
        blitter.reset(plot.moving_artists)

    steps = first.steps
    step_slider = widgets.IntSlider(value=int(steps[-1]), min=int(steps[0]), max=int(steps[-1]),
                                    description="step", continuous_update=True,
                                    layout=widgets.Layout(width="420px"))
    smoothing_slider = widgets.FloatSlider(value=smoothing, min=0.0, max=0.99, step=0.01,
                                           description="smoothing")
    picker = widgets.Dropdown(options=names, value=first.name, description="run")
    play = widgets.Play(value=step_slider.value, min=step_slider.min, max=step_slider.max,
                        step=max(1, len(steps) // 200), interval=replay_interval_ms(),
                        description="play")
    speed = widgets.Dropdown(options=[("slow", 1), ("normal", 5), ("fast", 20), ("fastest", 50)],
                             value=1 if presenter_on() else 5, description="speed")
    widgets.link((play, "value"), (step_slider, "value"))
    widgets.link((play, "min"), (step_slider, "min"))
    widgets.link((play, "max"), (step_slider, "max"))

    def on_speed(change):
        # "normal" plays a run in about 200 frames whatever its length; the others scale it
        play.step = max(1, round(len(state["run"].steps) * change["new"] / 1000))

    def on_run(change):
        set_run(change["new"])
        lo, hi = int(state["run"].steps[0]), int(state["run"].steps[-1])
        if lo > step_slider.max:  # keep min <= max at every moment (ipywidgets checks it)
            step_slider.max, step_slider.min = hi, lo
        else:
            step_slider.min, step_slider.max = lo, hi
        step_slider.value = hi
        on_speed({"new": speed.value})

    speed.observe(on_speed, names="value")
    picker.observe(on_run, names="value")  # before the explorer's own observer: new run first
    set_run(first.name)
    on_speed({"new": speed.value})

    def compute(run, step, smoothing):
        return replay_numbers(state["run"], step, smoothing)

    def draw(result):
        state["plot"].show_until(result["step"], smoothing=smoothing_slider.value)
        return _replay_text(result)

    layout = widgets.VBox([widgets.HBox([play, step_slider, speed]),
                           widgets.HBox([picker, smoothing_slider])])
    controls = {"run": picker, "step": step_slider, "smoothing": smoothing_slider}
    explorer = BlitExplorer(controls, compute, draw, figure, blitter, layout=layout)
    explorer.play, explorer.speed = play, speed
    return explorer


# ----------------------------------------------------------------------------- early stopping


def _stop_text(r):
    seq = r.sequence
    head = f"{seq.flavor} rule: "
    if r.stop_step is None:
        head += f"never stops, trains all {plural(r.last_step, 'step')}"
    else:
        share = r.steps_saved / r.last_step
        head += (f"stops at step {r.stop_step} ({seq.reason}), saving {r.steps_saved:,} of "
                 f"{plural(r.last_step, 'step')} = {share:.0%}")
        if r.tokens_saved:
            head += f" and {plural(round(r.tokens_saved), 'token')}"
    if r.best_step is None:
        return head
    ckpt = (f"step {r.checkpoint_step}" if r.checkpoint_step is not None
            else f"none (first at step {r.checkpoints[0]})" if r.checkpoints else "none")
    tail = f" | best at step {r.best_step} | nearest checkpoint at or before it: {ckpt}"
    if r.kept_valid_loss is not None and r.final_valid_loss is not None:
        tail += f" | validation loss kept {r.kept_valid_loss:.3f} vs final {r.final_valid_loss:.3f}"
    return head + tail


def early_stopping_explorer(run="patent-insights", *, metric="valid_loss", style=None):
    """Patience, min_delta, smoothing of the monitored metric and the library's rule (flavor):
    where training would stop (red line; the grey band is what it saves), which evaluation is kept
    (green star), the nearest checkpoint and the validation loss kept vs the final one.

    ``.controls``: ``patience``, ``min_delta``, ``smoothing``, ``flavor``; ``.result``: the
    :class:`ftlab.curves.early_stopping.RunStopResult` of the current settings.
    """
    import ipywidgets as widgets
    from matplotlib.patches import Rectangle

    from ftlab.curves.run_stopping import checkpoint_steps

    run = _load(run)
    facts = {}
    plot = CurvePlot(run, pyplot=False, smoothing=0.6, best=False, style=style,
                     checkpoints=checkpoint_steps(run),
                     title=f"{run.name}: where would early stopping stop?")
    ax = plot.ax
    (monitored,) = ax.plot([], [], "-", color="darkorange", lw=2, label=f"monitored {metric}")
    stop_line = ax.axvline(float("nan"), color="crimson", lw=2.5)
    (kept,) = ax.plot([], [], "*", color="limegreen", mec="black", ms=20, zorder=7)
    saved = Rectangle((0, 0), 0, 1, transform=ax.get_xaxis_transform(), color="0.55", alpha=0.25,
                      zorder=1)
    ax.add_patch(saved)
    stop_line.set_label("early stop")
    kept.set_label("kept (best evaluation)")
    ax.legend(handles=ax.get_legend().legend_handles + [monitored, stop_line, kept],
              loc="upper right", framealpha=0.9, fontsize="small")
    blitter = _Blitter(plot.figure)
    blitter.reset([monitored, stop_line, kept, saved])

    def compute(patience, min_delta, smoothing, flavor):
        key = round(smoothing, 6)
        if key not in facts:  # reading the run is the slow part; replays take microseconds
            facts[key] = _RunFacts(run, metric, smoothing)
        return facts[key].replay(patience=patience, min_delta=min_delta, mode=None, flavor=flavor)

    def draw(r):
        monitored.set_data(r.eval_steps, r.values)
        stop = r.stop_step
        stop_line.set_xdata([float("nan") if stop is None else stop] * 2)
        saved.set_x(stop if stop is not None else r.last_step)
        saved.set_width(0 if stop is None else r.last_step - stop)
        if r.best_step is None:
            kept.set_data([], [])
        else:
            kept.set_data([r.best_step], [r.best_value])
        return _stop_text(r)

    controls = {
        # up to the number of evaluations, so that "never stops" can be reached
        "patience": widgets.IntSlider(value=2, min=0, max=max(10, int(run.metrics[metric].notna().sum())),
                                      description="patience"),
        "min_delta": widgets.FloatSlider(value=0.0, min=0.0, max=0.2, step=0.005,
                                         readout_format=".3f", description="min_delta"),
        "smoothing": widgets.FloatSlider(value=0.0, min=0.0, max=0.95, step=0.05,
                                         description="smoothing"),
        "flavor": widgets.Dropdown(options=list(FLAVORS), value="keras", description="rule"),
    }
    layout = widgets.VBox([widgets.HBox([controls["patience"], controls["min_delta"]]),
                           widgets.HBox([controls["smoothing"], controls["flavor"]])])
    return BlitExplorer(controls, compute, draw, plot.figure, blitter, layout=layout)
