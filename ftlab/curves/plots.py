"""Loss-curve figures: one run (``plot_run``), several overlaid (``plot_runs``), a sweep heatmap.

All drawing goes through :class:`CurvePlot`, which makes every artist once and then only moves
data (``set_data``), so the replay widget can reveal a 1665-step run step by step without
rebuilding the figure. ``style="projector"`` (the default while ``ftlab.presenter()`` is on) makes
fonts and lines big enough for a classroom.
"""

import numpy as np

from ftlab.curves.smoothing import smooth
from ftlab.curves.style import is_on as presenter_on, projector_rc

TRAIN, VALID, FULL = "#1f77b4", "#d62728", "#9467bd"
STYLES = ("notebook", "projector")
NOTEBOOK_RC = {"font.size": 10, "lines.linewidth": 1.6, "lines.markersize": 5}


def _style(style):
    """rcParams for a figure: ``None`` follows instructor mode (``ftlab.presenter()``)."""
    import matplotlib

    if style is None:
        style = "projector" if presenter_on() else "notebook"
    if style not in STYLES:
        raise ValueError(f"style must be one of {list(STYLES)}, got {style!r}")
    return matplotlib.rc_context(projector_rc() if style == "projector" else NOTEBOOK_RC)


def _new_figure(size, pyplot):
    """A pyplot figure (shown by Jupyter at the end of the cell) or a detached one (widgets).

    Constrained layout keeps the title, the epoch labels above the plot and a perplexity axis
    inside the figure whatever the font size (instructor mode makes them big)."""
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=size, layout="constrained")
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")


def integer_ticks(axis):
    """Whole-number ticks on ``axis`` (steps, epochs, tokens): never "2.5" of something countable."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))


def _column(run, name):
    m = run.metrics
    if name not in m.columns:
        return np.array([]), np.array([])
    col = m[name].dropna()
    return col.index.to_numpy(dtype=float), col.to_numpy(dtype=float)


def _epoch_ends(run):
    """(epoch number, its last step) for each epoch recorded, or [] when epochs are unknown."""
    if not run.metrics["epoch"].notna().any():
        return []
    try:
        table = run.epochs()
    except ValueError:
        return []
    return [(int(k), int(s)) for k, s in zip(table.index, table["last_step"])]


# Formats whose steps come from polled or fetched events (a page of them may be all there is).
EVENT_FORMATS = ("openai_events", "openai_event_log", "openai_sdk_repr")


def recorded_span(run):
    """Which steps a recording holds: ``first``, ``last``, ``n_steps``, and ``partial`` when it
    misses the start of the job (it begins later than its own logging interval explains, like
    the last page of a job's events), or ``None`` for a run without steps.

    >>> import pandas as pd
    >>> from ftlab.runs.run import Run
    >>> recorded_span(Run(pd.DataFrame({"train_loss": [0.3, 0.2]}, index=[1660, 1661])))
    {'first': 1660, 'last': 1661, 'n_steps': 2, 'partial': True, 'events': False}
    """
    steps = run.steps
    if not len(steps):
        return None
    gaps = np.diff(steps)
    interval = float(np.median(gaps)) if gaps.size else 1.0
    first = int(steps[0])
    return {"first": first, "last": int(steps[-1]), "n_steps": int(len(steps)),
            "partial": first > 1 and first > 2 * interval,
            "events": run.meta.get("format") in EVENT_FORMATS}


class CurvePlot:
    """The artists of one run's loss plot, made once; :meth:`show_until` moves their data.

    ``smoothing`` is TensorBoard's weight for the training curve (the raw curve stays faint
    behind it); ``perplexity`` adds a right-hand axis in e^loss; ``checkpoints`` (a list of steps)
    are marked on the x axis; ``best`` marks the lowest validation loss seen so far.
    """

    def __init__(self, run, *, ax=None, smoothing=0.6, perplexity=False, epochs=True,
                 checkpoints=None, best=True, style=None, title=None, pyplot=True,
                 size=(9, 4.8), figure=None):
        self.run, self.smoothing = run, smoothing
        with _style(style):
            if ax is None:
                self.figure = figure if figure is not None else _new_figure(size, pyplot)
                self.figure.clear()  # a widget reuses its one figure when the run changes
                self.figure.set_layout_engine("constrained")
                ax = self.figure.add_subplot()
            else:
                self.figure = ax.figure
            self.ax = ax
            self._make_artists(perplexity, epochs, checkpoints, best, title)
        self.show_until(None)

    @property
    def moving_artists(self):
        """The artists :meth:`show_until` changes (everything else is a fixed background)."""
        return [a for a in (self.raw, self.trend, self.valid, self.full, self.best, self.cursor)
                if a is not None]

    def _make_artists(self, perplexity, epochs, checkpoints, best, title):
        ax, run = self.ax, self.run
        self.train_x, self.train_y = _column(run, "train_loss")
        self.valid_x, self.valid_y = _column(run, "valid_loss")
        self.full_x, self.full_y = _column(run, "full_valid_loss")
        self.train_smooth = smooth(self.train_y, self.smoothing)
        (self.raw,) = ax.plot([], [], color=TRAIN, alpha=0.25, lw=0.8, label="_raw")
        (self.trend,) = ax.plot([], [], color=TRAIN, label="training loss (smoothed)")
        (self.valid,) = ax.plot([], [], "o-", color=VALID, label="validation loss")
        (self.full,) = ax.plot([], [], "D", color=FULL, ms=9, label="full validation loss")
        (self.best,) = ax.plot([], [], "*", color="gold", mec="black", ms=18, zorder=5,
                               label="best validation") if best else (None,)
        self.cursor = ax.axvline(np.nan, color="gray", lw=1, ls=":")
        self.span, self.epoch_axis = recorded_span(run), None
        left, right = self._step_limits()
        ax.set_xlim(left, right)
        ax.set_ylim(*self._loss_limits())
        integer_ticks(ax.xaxis)
        ax.set_xlabel("step" if not (self.span and self.span["partial"])
                      else f"step (recorded from step {self.span['first']} on)")
        ax.set_ylabel("loss (nats per token)")
        # a long title (or big instructor-mode fonts) wraps instead of running off the figure
        ax.set_title(title if title is not None else run.name, wrap=True)
        if epochs:
            self._draw_epochs(_epoch_ends(run), left)
        if checkpoints:
            # on the bottom edge of the plot, whatever its y range
            ax.plot(checkpoints, [0] * len(checkpoints), "^", color="black", ms=11, clip_on=False,
                    zorder=6, label="checkpoint", transform=ax.get_xaxis_transform())
        if perplexity:
            secondary = ax.secondary_yaxis("right", functions=(np.exp, _safe_log))
            secondary.set_ylabel("perplexity  e^loss")
        handles = [h for h in (self.trend, self.valid, self.full, self.best)
                   if h is not None and _has_data(run, h, self)]
        if checkpoints:
            handles.append(ax.lines[-1])
        ax.legend(handles=handles, loc="best", framealpha=0.9)  # off the data, wherever it is

    def _step_limits(self):
        """The whole job from step 0; a recording that misses the start, only the steps it has."""
        if self.span is None:
            return 0.0, 1.0
        first, last = self.span["first"], self.span["last"]
        if self.span["partial"]:
            pad = max(0.5, 0.02 * (last - first))
            return first - pad, last + pad
        return 0.0, max(1.0, last * 1.01)

    def _loss_limits(self):
        """Every recorded loss the plot can show, with a margin; set once, so a replay never jumps.

        The smoothed curve stays inside the raw one (each point is a weighted mean of raw values).
        """
        ys = np.concatenate([self.train_y, self.valid_y, self.full_y])
        ys = ys[np.isfinite(ys)]
        if not ys.size:
            return 0.0, 1.0
        low, high = min(0.0, float(ys.min())), float(ys.max())
        margin = 0.05 * (high - low) or 0.05 * abs(high) or 0.5
        return (low - margin if low < 0 else 0.0), high + margin

    def _draw_epochs(self, ends, left):
        """Even epochs shaded; their names on an axis of their own above the plot, so that the
        title is placed above them and never on them."""
        if not ends:
            return
        centres, names, start = [], [], left
        for number, end in ends:
            if number % 2 == 0:
                self.ax.axvspan(start, end, color="0.93", zorder=0)
            centres.append((start + end) / 2)
            # many epochs: "epoch 1", then numbers only, so that the names do not run together
            names.append(f"epoch {number}" if len(ends) <= 5 or not names else str(number))
            start = end
        self.epoch_axis = self.ax.secondary_xaxis("top")
        self.epoch_axis.set_ticks(centres, names)
        self.epoch_axis.tick_params(axis="x", length=0, labelsize="small", labelcolor="0.35")
        self.epoch_axis.spines["top"].set_visible(False)

    def show_until(self, step=None, smoothing=None):
        """Show the curves up to ``step`` (all of them with ``None``); returns the numbers there."""
        if smoothing is not None and smoothing != self.smoothing:
            self.smoothing = smoothing
            self.train_smooth = smooth(self.train_y, smoothing)
        upto = np.inf if step is None else step
        n_tr = int(np.searchsorted(self.train_x, upto, side="right"))
        n_va = int(np.searchsorted(self.valid_x, upto, side="right"))
        n_fu = int(np.searchsorted(self.full_x, upto, side="right"))
        self.raw.set_data(self.train_x[:n_tr], self.train_y[:n_tr])
        self.trend.set_data(self.train_x[:n_tr], self.train_smooth[:n_tr])
        self.valid.set_data(self.valid_x[:n_va], self.valid_y[:n_va])
        self.full.set_data(self.full_x[:n_fu], self.full_y[:n_fu])
        best = None
        if n_va:
            i = int(np.argmin(self.valid_y[:n_va]))
            best = (self.valid_x[i], self.valid_y[i])
        if self.best is not None:
            self.best.set_data([best[0]] if best else [], [best[1]] if best else [])
        self.cursor.set_xdata([np.nan if step is None else step] * 2)
        return {"n_train": n_tr, "n_valid": n_va, "best": best}


def _has_data(run, handle, plot):
    if handle is plot.valid or handle is plot.best:
        return plot.valid_x.size > 0
    if handle is plot.full:
        return plot.full_x.size > 0
    return plot.train_x.size > 0


def _safe_log(p):
    return np.log(np.clip(p, 1e-300, None))


def plot_run(run, *, ax=None, smoothing=0.6, perplexity=False, epochs=True, checkpoints=None,
             best=True, style=None, title=None):
    """Plot one run's losses against steps and return the matplotlib Figure.

    Training loss is drawn raw (faint) and smoothed (TensorBoard's ``smoothing`` weight);
    validation loss as points joined by a line, full validation loss as diamonds; the best
    validation point as a star; epochs as alternating shading with labels; ``checkpoints`` (steps,
    e.g. ``ftlab.curves.early_stopping.checkpoint_steps(run)``) as triangles; ``perplexity=True`` adds an
    e^loss axis on the right. ``style="projector"`` uses big fonts and thick lines.
    """
    return CurvePlot(run, ax=ax, smoothing=smoothing, perplexity=perplexity, epochs=epochs,
                     checkpoints=checkpoints, best=best, style=style, title=title).figure


def plot_runs(runs, *, x="step", smoothing=0.6, style=None, title="runs compared", ax=None):
    """Overlay several runs: each run one colour, smoothed training loss solid, validation loss
    dashed with points. ``x="epoch"`` aligns runs of different lengths by epoch.
    """
    import matplotlib.pyplot as plt

    if x not in ("step", "epoch"):
        raise ValueError(f"x must be 'step' or 'epoch', got {x!r}")
    runs = list(runs)
    if not runs:
        raise ValueError("plot_runs needs at least one run")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    with _style(style):
        if ax is None:
            fig = plt.figure(figsize=(9, 4.8), layout="constrained")
            ax = fig.add_subplot()
        for i, run in enumerate(runs):
            color = colors[i % len(colors)]
            m = run.metrics
            if x == "epoch" and m["epoch"].isna().all():
                raise ValueError(f"run {run.name!r} has no epoch column; use x='step' or load it "
                                 "with meta={'n_epochs': ...}")
            xs = m.index.to_numpy(dtype=float) if x == "step" else m["epoch"].to_numpy(dtype=float)
            tr = m["train_loss"].to_numpy(dtype=float)
            ok = np.isfinite(tr)
            ax.plot(xs[ok], smooth(tr[ok], smoothing), color=color, label=f"{run.name}: training")
            va = m["valid_loss"].to_numpy(dtype=float)
            ok = np.isfinite(va)
            if ok.any():
                ax.plot(xs[ok], va[ok], "o--", color=color, label=f"{run.name}: validation")
        ax.set_xlabel(x)
        integer_ticks(ax.xaxis)
        ax.set_ylabel("loss (nats per token)")
        ax.set_ylim(bottom=0)
        ax.set_title(title)
        ax.legend(fontsize="small")
    return ax.figure


def plot_sweep(table, value="stop_step", *, ax=None, style=None, title=None):
    """Heatmap of a :func:`ftlab.sweep_early_stopping` table: ``value`` for each patience
    (columns) and min_delta (rows), each cell labelled with its number."""
    import matplotlib.pyplot as plt

    if value not in table.columns:
        raise ValueError(f"value must be a column of the sweep table ({', '.join(table.columns)}), "
                         f"got {value!r}")
    grid = table.pivot(index="min_delta", columns="patience", values=value).astype(float)
    with _style(style):
        if ax is None:
            fig = plt.figure(figsize=(1.2 + 0.62 * grid.shape[1], 1.3 + 0.55 * grid.shape[0]),
                             layout="constrained")
            ax = fig.add_subplot()
        image = ax.imshow(grid.to_numpy(), cmap="viridis", aspect="auto")
        ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [f"{r:g}" for r in grid.index])
        ax.set_xlabel("patience (evaluations)")
        ax.set_ylabel("min_delta")
        lo, hi = np.nanmin(grid.to_numpy()), np.nanmax(grid.to_numpy())
        for (r, c), v in np.ndenumerate(grid.to_numpy()):
            if np.isfinite(v):
                dark = hi == lo or (v - lo) / (hi - lo) < 0.6
                ax.text(c, r, f"{v:.0f}" if abs(v) >= 10 else f"{v:.3g}", ha="center",
                        va="center", fontsize="small", color="white" if dark else "black")
        ax.figure.colorbar(image, ax=ax, label=value)
        ax.set_title(title if title is not None else value.replace("_", " "))
    return ax.figure
