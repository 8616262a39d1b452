"""Why a printed event log can miss steps: polling ``list_events`` without reading every page.

``client.fine_tuning.jobs.list_events(job_id, limit=20)`` returns the *newest* 20 events. A
notebook that polls it every so often and prints what is new sees everything only while fewer
than ``limit`` events happen between two polls; older ones sit on the next page (``has_more``,
``after=<last id>``) and are lost unless the loop follows it. The course's own Marv job lost
step 2 this way. :func:`poll_events` replays a run's events through such a loop.

>>> import ftlab
>>> seen = poll_events(ftlab.load_sample("marv"), page_size=10, every=15)
>>> seen["lost"], seen["calls"]
(24, 6)
"""

import numpy as np

from ftlab.runs.run import load_run


def poll_events(run, *, page_size=20, every=10, paginate=False):
    """Replay ``run`` as a job whose events are polled after every ``every`` steps, ``page_size``
    events per call; with ``paginate=True`` the loop follows ``has_more`` until it reaches what it
    already saw. Returns the steps the loop saw, the steps it lost, the number of API calls, and
    ``run``: what :func:`ftlab.load_run` makes of the events the loop printed (its
    ``meta["missing_steps"]`` is the reader's own report of the gaps).
    """
    if page_size < 1 or every < 1:
        raise ValueError(f"page_size and every must be at least 1, got {page_size} and {every}")
    oldest_first = [e for e in reversed(run.to_events()) if e["type"] == "metrics"]
    steps = np.array([e["data"]["step"] for e in oldest_first])
    seen, calls, done = [], 0, 0  # done: how many events existed at the previous poll
    last = int(steps[-1]) if len(steps) else 0
    poll_points = list(range(int(steps[0]) - 1 + every, last, every)) + [last] if len(steps) else []
    for point in poll_points:
        available = int(np.searchsorted(steps, point, side="right"))  # events created so far
        new = available - done
        pages = -(-new // page_size) if paginate else 1  # ceil: one call per page followed
        calls += max(pages, 1)
        kept = new if paginate else min(new, page_size)
        seen.extend(oldest_first[available - kept:available])
        done = available
    seen_steps = [e["data"]["step"] for e in seen]
    lost = sorted(set(steps.tolist()) - set(seen_steps))
    printed = load_run(seen, name=f"{run.name} as polled") if seen else None
    return {"page_size": page_size, "every": every, "paginate": paginate,
            "steps": steps, "seen": np.array(sorted(seen_steps), dtype=int),
            "lost_steps": lost, "lost": len(lost), "calls": calls, "polls": len(poll_points),
            "run": printed}
