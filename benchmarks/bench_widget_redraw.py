"""Widget redraw per slider step vs building the figure from scratch (Agg backend).

The replay widget on the 1665-step overfitting recording: set the step slider's ``.value`` from
Python (what a learner's drag does) and time the whole reaction -- numbers at that step, artists
moved with set_data, moving artists blitted onto the cached Agg background. The baseline, measured
in the same run, is what a naive widget would do per step: build the figure again and draw it.
Both are also shown with the PNG encoding the notebook displays. Target: redraw median < 30 ms.

    python benchmarks/bench_widget_redraw.py
"""

import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

import ftlab  # noqa: E402
from ftlab.curves.plots import CurvePlot  # noqa: E402
from ftlab.widgets.loss_curves import early_stopping_explorer, replay  # noqa: E402

N_STEPS, N_REBUILDS = 300, 15


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main():
    run = ftlab.load_sample("patent-insights")
    rp = replay(run)
    rng = np.random.default_rng(0)
    # half one-notch moves (dragging), half jumps anywhere (clicking on the track)
    targets = np.concatenate([np.arange(600, 600 + N_STEPS // 2),
                              rng.integers(1, 1666, N_STEPS // 2)]).tolist()
    slider = rp.controls["step"]

    def step_to(s):
        slider.value = int(s)

    redraw = [timed(lambda s=s: step_to(s)) for s in targets]
    encode = [timed(rp.blitter.png) for _ in range(30)]

    def rebuild():
        plot = CurvePlot(run, pyplot=False)
        FigureCanvasAgg(plot.figure)
        plot.show_until(int(rng.integers(1, 1666)))
        plot.figure.canvas.draw()

    rebuild()  # warm caches (fonts, text layout) so the baseline is not penalised
    full = [timed(rebuild) for _ in range(N_REBUILDS)]

    def rebuild_png():
        plot = CurvePlot(run, pyplot=False)
        buf = io.BytesIO()
        plot.figure.savefig(buf, format="png")

    full_png = [timed(rebuild_png) for _ in range(5)]

    es = early_stopping_explorer(run)
    patience = es.controls["patience"]
    es_redraw = [timed(lambda p=p: setattr(patience, "value", p)) for p in list(range(0, 17)) * 6]

    med = statistics.median
    print(f"replay on {run.name} ({run.n_steps} steps), Agg, {len(redraw)} slider steps")
    print(f"  redraw per slider step (numbers + set_data + blit): median {med(redraw):6.1f} ms"
          f"   p90 {np.percentile(redraw, 90):6.1f} ms")
    print(f"  building the figure from scratch + draw:            median {med(full):6.1f} ms")
    print(f"  -> redraw ÷ rebuild = {med(redraw) / med(full):.2f}x "
          f"(target: median < 30 ms: {'met' if med(redraw) < 30 else 'NOT met'})")
    print(f"  with the PNG the notebook shows: redraw + encode {med(redraw) + med(encode):6.1f} ms"
          f" vs rebuild + savefig {med(full_png):6.1f} ms"
          f" ({med(full_png) / (med(redraw) + med(encode)):.1f}x)")
    print(f"early_stopping_explorer, patience slider: median {med(es_redraw):6.1f} ms per step")


if __name__ == "__main__":
    main()
