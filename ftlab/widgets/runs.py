"""Explorer for reading runs: how polling the event list loses steps (see ftlab.runs.polling)."""

import numpy as np

from ftlab.runs.polling import poll_events


def polling_explorer(run="marv", *, page_size=20, every=30):
    """Sliders for the page size and the steps between polls, a pagination switch; the plot shows
    the training loss of every step, the ones the loop printed, and the ones it lost.

    >>> ex = polling_explorer("marv")
    >>> ex.controls["every"].value = 10
    >>> ex.result["lost"]
    0
    >>> ex.controls["page_size"].value = 5
    >>> ex.result["lost"] > 0
    True
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ftlab.curves.plots import integer_ticks
    from ftlab.widgets.explorer import Explorer, plural
    from ftlab.runs.run import Run

    if not isinstance(run, Run):
        from ftlab.runs.samples import load_sample

        run = load_sample(run)
    loss = run.metrics["train_loss"]
    last = int(run.steps[-1])
    # a Figure outside pyplot: a later plt.show() in the notebook must not show it again
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(loss.index, loss.to_numpy(), color="0.75", lw=1.2, label="every step of the job")
    (seen_dots,) = ax.plot([], [], "o", ms=4, color="#1f77b4", label="printed by the loop")
    (lost_marks,) = ax.plot([], [], "x", ms=7, color="#d62728", label="lost (older than the page)")
    ax.set(xlabel="step", ylabel="training loss (nats per token)", xlim=(0, last + 1),
           title=f"{run.name}: what a polling loop sees of list_events")
    integer_ticks(ax.xaxis)
    ax.legend(loc="upper right", fontsize=9)

    def compute(page_size, every, paginate):
        return poll_events(run, page_size=page_size, every=every, paginate=paginate)

    def draw(r):
        seen, lost = r["seen"], np.array(r["lost_steps"], dtype=int)
        seen_dots.set_data(seen, loss.reindex(seen).to_numpy())
        lost_marks.set_data(lost, loss.reindex(lost).to_numpy())
        how = "following every page" if r["paginate"] else "newest page only"
        every = "poll every step" if r["every"] == 1 else f"poll every {r['every']} steps"
        return (f"{every}, {plural(r['page_size'], 'event')} per call, {how}: "
                f"{plural(r['calls'], 'call')}, {r['lost']:,} of {plural(len(r['steps']), 'step event')} "
                "lost")

    controls = {
        "page_size": widgets.IntSlider(value=page_size, min=1, max=50, description="page size"),
        "every": widgets.IntSlider(value=every, min=1, max=max(2, last), description="poll every"),
        "paginate": widgets.Checkbox(value=False, description="follow has_more"),
    }
    return Explorer(controls, compute, draw, fig)
