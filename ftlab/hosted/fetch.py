"""Read a hosted fine-tuning job back: every page of its events and checkpoints, its results file,
and its facts, merged into one :class:`ftlab.Run` (``fetch_run``); recent jobs as a table (``list_jobs``).

The events come newest first, 20 per page; a page says ``has_more`` and the next one is asked for
with ``after=<last id>``. Reading only the first page is how the course's notebook lost steps, so
everything here pages to the end -- and always ends: a page budget, and a stop (keeping what was
read, with a note) when the server sends a page already read yet says ``has_more``. An answer that
is not the API's JSON (a gateway's HTML page, a body cut off) is a clear ``HostedError``. The
results file comes back base64-encoded, and only checkpoints (and the last metrics event) hold the
full validation loss: ``load_run``'s readers handle each piece.
"""

import json
import time
import warnings

from ftlab._secrets import redact
from ftlab.hosted.client import HostedError, api_call, request, require_client

MAX_PAGES = 2000  # page budget of one list: 40,000 events at 20 a page, more than any real job
REQUEST_TIMEOUT = 60.0  # seconds one request of a deadline-bound loop (``wait``) may take at most

# ----------------------------------------------------------------------------- one request


class PagingError(HostedError):
    """The server kept saying ``has_more`` while sending pages already read (a cycle, a repeated
    page), or past the page budget. ``items`` holds everything read before stopping."""

    def __init__(self, message, items=()):
        super().__init__(message, kind="paging")
        self.items = list(items)


class OutOfTime(Exception):
    """The caller's deadline passed before the next request could be sent."""


def _bounded(client, deadline):
    """The client for one request that must end by ``deadline`` (``time.monotonic()``): its timeout
    is the time left (at most REQUEST_TIMEOUT) and it does not retry, because the client's backoff
    (and a Retry-After, honoured up to minutes) would overrun the deadline; the caller's loop
    retries instead. Raises :class:`OutOfTime` when no time is left."""
    left = min(REQUEST_TIMEOUT, deadline - time.monotonic())
    if left <= 0:
        raise OutOfTime()
    with_options = getattr(client, "with_options", None)
    return client if with_options is None else with_options(timeout=left, max_retries=0)


# ----------------------------------------------------------------------------- paging


def _pages(fetch, what, max_pages=MAX_PAGES):
    """Every item of a cursor-paged list: ``fetch(after)`` returns a page with ``data``, ``has_more``.
    Items already read are skipped; a page with nothing new that still says ``has_more`` (the
    server cycling or repeating pages) or more than ``max_pages`` pages raise :class:`PagingError`,
    so this always ends."""
    seen, after = set(), None
    for number in range(1, max_pages + 1):
        page = fetch(after)
        data = list(page.data or [])
        new = [item for item in data if item.id not in seen]
        seen.update(item.id for item in new)
        yield from new
        if not data or not getattr(page, "has_more", False):
            return
        if not new:
            raise PagingError(f"Stopped reading the {what} at page {number}: it held only {what} "
                              f"already read ({len(seen)} so far), yet the server still said "
                              "has_more, so its paging loops. What was read is kept; try again "
                              "later, and report it to the provider if it persists.")
        after = data[-1].id
    raise PagingError(f"Stopped reading the {what} after {max_pages} pages (the page budget) while "
                      f"the server still said has_more; {len(seen)} read and kept. Pass a larger "
                      "max_pages= if the job really has more.")


def _collect(pages, on_item=None):
    """The items of :func:`_pages`; a :class:`PagingError` carries the ones read before it."""
    items = []
    try:
        for item in pages:
            items.append(item)
            if on_item is not None:
                on_item()
    except PagingError as err:
        err.items = items
        raise
    return items


def _kwargs(after, limit=None):
    out = {} if after is None else {"after": after}
    if limit is not None:
        out["limit"] = limit
    return out


def all_events(client, job_id, *, limit=None, max_pages=MAX_PAGES):
    """All events of a job, newest first, paged with ``after``/``has_more`` so none is lost.
    A long job has hundreds of pages: a progress bar appears when it takes more than 2 seconds.
    Raises :class:`PagingError` (holding the events read) if the server's paging loops."""
    from tqdm.auto import tqdm

    require_client(client, f"list the events of {job_id}")

    def fetch(after):
        return request(f"list the events of {job_id}", client.fine_tuning.jobs, "list_events",
                        job_id, expect=("data",), **_kwargs(after, limit))

    with tqdm(desc=f"events of {job_id}", unit="event", delay=2, leave=False) as bar:
        return _collect(_pages(fetch, f"events of {job_id}", max_pages), lambda: bar.update(1))


def all_checkpoints(client, job_id, *, max_pages=MAX_PAGES):
    """All checkpoints of a job (paged like :func:`all_events`)."""
    require_client(client, f"list the checkpoints of {job_id}")

    def fetch(after):
        return request(f"list the checkpoints of {job_id}", client.fine_tuning.jobs.checkpoints,
                        "list", job_id, expect=("data",), **_kwargs(after))

    return _collect(_pages(fetch, f"checkpoints of {job_id}", max_pages))


def _kept(read, notes):
    """What ``read()`` returns; when the server's paging loops, the items read before it, with a
    note and a warning. Not an error: the results file may still hold every step, and nothing
    already read should be thrown away."""
    try:
        return read()
    except PagingError as err:
        notes.append(str(err))
        warnings.warn(str(err), stacklevel=3)
        return err.items


def _checkpoints(client, job_id, notes):
    """The checkpoints, or none and a note when the service has no checkpoint list for the job
    (a 404: some Azure API versions, jobs from before checkpoints existed)."""
    try:
        return _kept(lambda: all_checkpoints(client, job_id), notes)
    except HostedError as err:
        if err.kind != "not_found":
            raise
        notes.append("checkpoints unavailable (HTTP 404 on the checkpoints list): the run holds "
                     "the events and the results file only, without checkpoints' full_valid_loss")
        return []


# ----------------------------------------------------------------------------- read back


def _plain(obj):
    from ftlab.runs.readers import _plain as plain

    return plain(obj)


def job_meta(job):
    """What a ``fine_tuning.job`` object says about the run, as plain ``Run.meta`` entries.

    >>> meta = job_meta({"id": "ftjob-1", "model": "gpt-4o-mini-2024-07-18", "status": "succeeded",
    ...                  "method": {"type": "supervised", "supervised": {"hyperparameters":
    ...                             {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}}}})
    >>> meta["name"], meta["n_epochs"], meta["hyperparameters"]["learning_rate_multiplier"]
    ('ftjob-1', 3, 1.8)
    """
    job = _plain(job)
    method = job.get("method") or {}
    hp = ((method.get(method.get("type") or "supervised") or {}).get("hyperparameters")
          or job.get("hyperparameters") or {})
    suffix = job.get("user_provided_suffix") or job.get("suffix")
    meta = {"job_id": job["id"], "name": suffix or job["id"], "format": "openai_job"}
    if suffix:
        meta["suffix"] = suffix
    for key in ("model", "fine_tuned_model", "status", "trained_tokens", "created_at", "finished_at",
                "training_file", "validation_file", "result_files", "seed", "organization_id"):
        if job.get(key) is not None:
            meta[key] = job[key]
    meta["hyperparameters"] = {k: v for k, v in hp.items() if v is not None}
    for key in ("n_epochs", "batch_size"):
        if isinstance(hp.get(key), int):
            meta[key] = hp[key]
    if isinstance(job.get("error"), dict) and job["error"].get("message"):
        meta["error"] = job["error"]
    return meta


def _piece(load, what, notes):
    """A ``Run`` from one source, or ``None`` with a note when that source holds no steps."""
    try:
        return load()
    except ValueError as err:
        notes.append(f"{what}: {str(err).split('. (load_run')[0]}")
        return None


def fetch_run(client, job_id, *, events_page_size=None):
    """Read a job back as a :class:`ftlab.Run`: every metrics event (all pages), the results file
    (decoded from base64 when needed), the checkpoints (with ``full_valid_*``) merged by step, and the
    job's facts in ``meta`` (model, fine-tuned model, hyperparameters, trained tokens, status, times).
    Where sources overlap, the results file wins, then events, then checkpoints. A source that
    could only be read in part (paging that loops, no checkpoint list) leaves a note in
    ``meta["notes"]`` instead of discarding the others."""
    import pandas as pd

    from ftlab.runs.run import Run, load_run

    require_client(client, "read a fine-tuning job")
    job = request(f"retrieve the job {job_id}", client.fine_tuning.jobs, "retrieve", job_id,
                   expect=("id", "status"))
    meta, notes = job_meta(job), []
    events = [_plain(e) for e in _kept(lambda: all_events(client, job_id, limit=events_page_size),
                                       notes)]
    checkpoints = [_plain(c) for c in _checkpoints(client, job_id, notes)]
    pieces = []
    for file_id in meta.get("result_files") or []:
        with api_call(f"download the results file {file_id}"):
            content = client.files.content(file_id).content
        if content.lstrip()[:1] == b"<":  # a proxy's or gateway's HTML page, not a CSV
            notes.append(f"{file_id}: the download was an HTML page, not the results file (a "
                         "proxy or gateway answered); the events and checkpoints were used")
            continue
        pieces.append(_piece(lambda: load_run(content, format="openai_csv"), file_id, notes))
    if events:
        pieces.append(_piece(lambda: load_run(events, format="openai_events"), "events", notes))
    if checkpoints:
        pieces.append(_piece(lambda: load_run(checkpoints, format="openai_checkpoints"),
                             "checkpoints", notes))
    metrics = pd.DataFrame()
    for run in filter(None, pieces):
        part = run.metrics.drop(columns="epoch")
        metrics = part if metrics.empty else metrics.combine_first(part)[
            list(dict.fromkeys([*metrics.columns, *part.columns]))]
        for key in ("messages", "total_steps", "errors", "encoding"):
            if key in run.meta and key not in meta:
                meta[key] = run.meta[key]
        # checkpoint steps: events name the saved ones, the checkpoint list also the final one
        meta["checkpoints"] = sorted(set(meta.get("checkpoints", [])) | set(run.meta.get("checkpoints", [])))
        if run.meta.get("format") == "openai_checkpoints" or "checkpoint_models" not in meta:
            meta["checkpoint_models"] = run.meta.get("checkpoint_models", [])
    if metrics.empty:
        notes.append(f"no steps recorded yet (status {meta.get('status')})")
    else:
        present = set(metrics.index.tolist())
        meta["missing_steps"] = [s for s in range(int(metrics.index[0]), int(metrics.index[-1]) + 1)
                                 if s not in present]
    meta["n_events"], meta["n_checkpoints"] = len(events), len(checkpoints)
    if notes:
        meta["notes"] = notes
    return Run(metrics, meta)


def list_jobs(client, *, limit=20):
    """The most recent fine-tuning jobs as a small table (newest first)."""
    import pandas as pd

    require_client(client, "list fine-tuning jobs")
    page = request("list fine-tuning jobs", client.fine_tuning.jobs, "list", limit=limit,
                    expect=("data",))
    rows = []
    for job in page.data:
        meta = job_meta(job)
        hp = meta["hyperparameters"]
        rows.append({"id": meta["job_id"], "status": meta.get("status"), "model": meta.get("model"),
                     "fine_tuned_model": meta.get("fine_tuned_model"),
                     "created": pd.to_datetime(meta.get("created_at"), unit="s", utc=True),
                     "finished": pd.to_datetime(meta.get("finished_at"), unit="s", utc=True),
                     "trained_tokens": meta.get("trained_tokens"), "n_epochs": hp.get("n_epochs"),
                     "batch_size": hp.get("batch_size"),
                     "learning_rate_multiplier": hp.get("learning_rate_multiplier")})
    columns = ["id", "status", "model", "fine_tuned_model", "created", "finished", "trained_tokens",
               "n_epochs", "batch_size", "learning_rate_multiplier"]
    return pd.DataFrame(rows, columns=columns)
