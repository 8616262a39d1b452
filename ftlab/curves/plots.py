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
    """A pyplot figure (shown by Jupyter at the end of the cell) or a detached one (widgets)."""
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=size)
    from matplotlib.figure import Figure

    return Figure(figsize=size)


def _column(run, name):
    m = run.metrics
    if name not in m.columns:
        return np.array([]), np.array([])
    col = m[name].dropna()
    return col.index.to_numpy(dtype=float), col.to_numpy(dtype=float)


def _epoch_ends(run):
    """Last step of each epoch, or [] when epochs are unknown."""
    if not run.metrics["epoch"].notna().any():
        return []
    try:
        return [int(s) for s in run.epochs()["last_step"].tolist()]
    except ValueError:
        return []


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
                ax = self.figure.add_subplot()
                self.figure.subplots_adjust(left=0.09, right=0.9 if perplexity else 0.97,
                                            bottom=0.13, top=0.88)
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
        last = float(run.steps[-1]) if len(run.steps) else 1.0
        ys = np.concatenate([self.train_y, self.valid_y, self.full_y])
        ys = ys[np.isfinite(ys)]
        top = float(np.percentile(ys, 99.5)) * 1.08 if ys.size else 1.0
        ax.set_xlim(0, last * 1.01)
        ax.set_ylim(0, top)
        ax.set_xlabel("step")
        ax.set_ylabel("loss (nats per token)")
        ax.set_title(title if title is not None else run.name, pad=16)
        if epochs:
            self._draw_epochs(_epoch_ends(run), last)
        if checkpoints:
            ax.plot(checkpoints, [0] * len(checkpoints), "^", color="black", ms=11, clip_on=False,
                    zorder=6, label="checkpoint")
        if perplexity:
            secondary = ax.secondary_yaxis("right", functions=(np.exp, _safe_log))
            secondary.set_ylabel("perplexity  e^loss")
        handles = [h for h in (self.trend, self.valid, self.full, self.best)
                   if h is not None and _has_data(run, h, self)]
        if checkpoints:
            handles.append(ax.lines[-1])
        ax.legend(handles=handles, loc="upper right", framealpha=0.9)

    def _draw_epochs(self, ends, last):
        start = 0
        for i, end in enumerate(ends):
            if i % 2 == 1:
                self.ax.axvspan(start, end, color="0.93", zorder=0)
            self.ax.text((start + end) / 2, 1.0, f"epoch {i + 1}", transform=self.ax.get_xaxis_transform(),
                         ha="center", va="bottom", fontsize="small", color="0.35")
            start = end

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
