"""Read a hosted fine-tuning job back: every page of its events and checkpoints, its results file,
and its facts, merged into one :class:`ftlab.Run` (``fetch_run``); recent jobs as a table (``list_jobs``).

The events come newest first, 20 per page; a page says ``has_more`` and the next one is asked for
with ``after=<last id>``. Reading only the first page is how the course's notebook lost steps, so
everything here pages to the end. The results file comes back base64-encoded, and only checkpoints
(and the last metrics event) hold the full validation loss: ``load_run``'s readers handle each piece.
"""

from ftlab.hosted.client import api_call, require_client

# ----------------------------------------------------------------------------- paging


def _pages(fetch):
    """Every item of a cursor-paged list: ``fetch(after)`` returns a page with ``data``, ``has_more``."""
    after = None
    while True:
        page = fetch(after)
        data = list(page.data)
        yield from data
        if not data or not getattr(page, "has_more", False):
            return
        after = data[-1].id


def _kwargs(after, limit=None):
    out = {} if after is None else {"after": after}
    if limit is not None:
        out["limit"] = limit
    return out


def all_events(client, job_id, *, limit=None):
    """All events of a job, newest first, paged with ``after``/``has_more`` so none is lost.
    A long job has hundreds of pages: a progress bar appears when it takes more than 2 seconds."""
    from tqdm.auto import tqdm

    events = []
    with api_call(f"list the events of {job_id}"), \
            tqdm(desc=f"events of {job_id}", unit="event", delay=2, leave=False) as bar:
        for event in _pages(lambda after: client.fine_tuning.jobs.list_events(
                job_id, **_kwargs(after, limit))):
            events.append(event)
            bar.update(1)
    return events


def all_checkpoints(client, job_id):
    with api_call(f"list the checkpoints of {job_id}"):
        return list(_pages(lambda after: client.fine_tuning.jobs.checkpoints.list(
            job_id, **_kwargs(after))))


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
    Where sources overlap, the results file wins, then events, then checkpoints."""
    import pandas as pd

    from ftlab.runs.run import Run, load_run

    require_client(client, "read a fine-tuning job")
    with api_call(f"retrieve the job {job_id}"):
        job = client.fine_tuning.jobs.retrieve(job_id)
    meta, notes = job_meta(job), []
    events = [_plain(e) for e in all_events(client, job_id, limit=events_page_size)]
    checkpoints = [_plain(c) for c in all_checkpoints(client, job_id)]
    pieces = []
    for file_id in meta.get("result_files") or []:
        with api_call(f"download the results file {file_id}"):
            content = client.files.content(file_id).content
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
    with api_call("list fine-tuning jobs"):
        page = client.fine_tuning.jobs.list(limit=limit)
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
