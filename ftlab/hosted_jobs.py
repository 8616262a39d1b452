"""Drive a hosted fine-tuning job (OpenAI or Azure OpenAI): plan, start, wait, read it back as a Run.

The course's Module 11.3 notebook started a job without a validation file, with every
hyperparameter left to "auto", and polled the 20 newest events, so a burst of events between two
polls was lost (step 2 of the recorded Marv job). Here:

- :func:`plan_job` checks both files with ``validate_chat`` and estimates tokens, epochs and cost --
  offline, no key needed;
- :func:`start_job` refuses files with errors or a validation file that overlaps the training file,
  asks before spending money, uploads, and creates the job with explicit hyperparameters;
- :func:`wait` shows a progress bar over the job's steps, prints each new event once (paging back
  until it meets an event it has seen), and always ends: on success, failure, cancellation or timeout;
- :func:`fetch_run` pages through *all* events and checkpoints and reads the results file, using the
  same readers as ``load_run``, into one :class:`ftlab.Run`.

>>> plan = plan_job(_marv("train"), _marv("valid"), model="gpt-4o-mini-2024-07-18", n_epochs=3,
...                 batch_size=1, learning_rate_multiplier=1.8, suffix="marv", seed=7)
>>> plan.ok, plan.create_args["method"]["supervised"]["hyperparameters"]["n_epochs"]
(True, 3)
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ftlab.hosted import HostedError, api_call, require_client

TERMINAL = ("succeeded", "failed", "cancelled")
MAX_SUFFIX = 64  # characters, per the API reference


def _marv(which):
    from ftlab._data import data_dir

    return data_dir() / "chat" / f"marv_{which}.jsonl"


# ----------------------------------------------------------------------------- plan and start


@dataclass
class JobPlan:
    """What :func:`start_job` would do: the files' validation report, the estimate and the exact
    arguments of ``client.fine_tuning.jobs.create`` (file ids are filled in at upload)."""

    report: object
    estimate: object
    create_args: dict
    refusals: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.refusals

    def __str__(self):
        hp = self.create_args["method"]["supervised"]["hyperparameters"]
        valid = self.report.valid
        lines = [f"training file:   {self.report.source}: {self.report.n_examples} examples, "
                 f"{len(self.report.errors)} errors, {len(self.report.warnings)} warnings",
                 "validation file: " + (f"{valid.source}: {valid.n_examples} examples, "
                                        f"{len(valid.errors)} errors" if valid else "none (no "
                                        "validation loss will be reported!)"),
                 f"model: {self.create_args['model']}   hyperparameters: "
                 + ", ".join(f"{k}={v}" for k, v in hp.items()),
                 f"suffix: {self.create_args.get('suffix')}   seed: {self.create_args.get('seed')}",
                 str(self.estimate)]
        lines += [f"REFUSED: {r}" for r in self.refusals]
        return "\n".join(lines)

    def __repr__(self):
        return str(self)


def _check_hyperparameters(n_epochs, batch_size, learning_rate_multiplier, suffix, seed):
    """The API's bounds (n_epochs 1-50, batch_size 1-256, multiplier > 0, each may be 'auto')."""
    for name, value, low, high in (("n_epochs", n_epochs, 1, 50), ("batch_size", batch_size, 1, 256)):
        if value != "auto" and (isinstance(value, bool) or not isinstance(value, int)
                                or not low <= value <= high):
            raise ValueError(f"{name} must be a whole number from {low} to {high} or 'auto', "
                             f"got {value!r}")
    lr = learning_rate_multiplier
    if lr != "auto" and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0):
        raise ValueError(f"learning_rate_multiplier must be a number > 0 or 'auto', got {lr!r}")
    if suffix is not None and (not isinstance(suffix, str) or not 0 < len(suffix) <= MAX_SUFFIX):
        raise ValueError(f"suffix must be a string of 1 to {MAX_SUFFIX} characters, got {suffix!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed must be an integer, got {seed!r}")


def plan_job(train, valid=None, *, model, n_epochs, batch_size, learning_rate_multiplier,
             suffix=None, seed=None, prices=None):
    """Validate the files and estimate the job, without any API call. See :class:`JobPlan`."""
    from ftlab.chat_validate import validate_chat

    _check_hyperparameters(n_epochs, batch_size, learning_rate_multiplier, suffix, seed)
    report = validate_chat(train, model=model, valid=valid)
    refusals = [f"{where}: {p}" for where, p in report.all_problems() if p.severity == "error"]
    overlap = [p for p in report.problems if p.code == "leakage"]
    if overlap:
        refusals.append(f"the validation file overlaps the training file: {len(overlap)} training "
                        f"example(s) have a reply that is also in the validation file (first: "
                        f"{overlap[0]}). Validation loss on seen examples says nothing about new "
                        "ones: remove them from one of the files.")
    hyper = {"n_epochs": n_epochs, "batch_size": batch_size,
             "learning_rate_multiplier": learning_rate_multiplier}
    args = {"model": model, "method": {"type": "supervised", "supervised": {"hyperparameters": hyper}}}
    if suffix is not None:
        args["suffix"] = suffix
    if seed is not None:
        args["seed"] = seed
    estimate = report.estimate(n_epochs=n_epochs, prices=prices, model=model) if report.example_tokens \
        else "estimate: no countable examples"
    return JobPlan(report, estimate, args, refusals)


def _confirm(question):
    try:
        answer = input(question)
    except Exception:  # no interactive input (a test, nbval, a script without a terminal)
        print("(no way to ask here: pass confirm=False to start without asking)")
        return False
    return answer.strip().lower() in ("y", "yes")


def _file_bytes(source, default_name):
    """``(filename, bytes)`` of a JSONL path or of records in memory."""
    if isinstance(source, (str, Path)) and Path(source).is_file():
        return Path(source).name, Path(source).read_bytes()
    if isinstance(source, (bytes, bytearray)):
        return default_name, bytes(source)
    lines = [json.dumps(record, ensure_ascii=False) for record in source]
    return default_name, ("\n".join(lines) + "\n").encode("utf-8")


def upload(client, source, default_name="train.jsonl"):
    """Upload a chat JSONL file with ``purpose="fine-tune"``; return its file id."""
    require_client(client, "upload a file")
    name, data = _file_bytes(source, default_name)
    with api_call(f"upload {name}"):
        uploaded = client.files.create(file=(name, data), purpose="fine-tune")
    print(f"uploaded {name} ({len(data):,} bytes) as {uploaded.id}")
    return uploaded.id


def _create(client, args):
    import inspect

    create = client.fine_tuning.jobs.create
    if "method" not in inspect.signature(create).parameters:  # openai older than 1.58
        args = {**{k: v for k, v in args.items() if k != "method"},
                "extra_body": {"method": args["method"]}}
    with api_call(f"create a fine-tuning job on {args['model']}", creating_job=True):
        return create(**args)


def start_job(client, train, valid=None, *, model, n_epochs, batch_size, learning_rate_multiplier,
              suffix=None, seed=None, confirm=True, prices=None):
    """Validate, estimate, confirm, upload and create a supervised fine-tuning job; return its id.

    Every hyperparameter must be given (``"auto"`` is allowed but must be said). Refuses (ValueError)
    when either file has errors or the validation file overlaps the training file. With
    ``confirm=True`` it prints the plan and the cost and asks before uploading; answering anything
    but "y" returns ``None`` and nothing is spent.
    """
    require_client(client, "start a fine-tuning job")
    plan = plan_job(train, valid, model=model, n_epochs=n_epochs, batch_size=batch_size,
                    learning_rate_multiplier=learning_rate_multiplier, suffix=suffix, seed=seed,
                    prices=prices)
    print(plan)
    if not plan.ok:
        raise ValueError("Not starting the job, the files need fixing first:\n  "
                         + "\n  ".join(plan.refusals[:20]))
    if confirm and not _confirm("Upload the files and start this job? [y/N] "):
        print("Not started.")
        return None
    args = dict(plan.create_args, training_file=upload(client, train, "train.jsonl"))
    if valid is not None:
        args["validation_file"] = upload(client, valid, "valid.jsonl")
    job = _create(client, args)
    print(f"created {job.id} (status: {job.status}). Follow it with ftlab.wait(client, {job.id!r}).")
    return job.id


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
    """All events of a job, newest first, paged with ``after``/``has_more`` so none is lost."""
    with api_call(f"list the events of {job_id}"):
        return list(_pages(lambda after: client.fine_tuning.jobs.list_events(
            job_id, **_kwargs(after, limit))))


def all_checkpoints(client, job_id):
    with api_call(f"list the checkpoints of {job_id}"):
        return list(_pages(lambda after: client.fine_tuning.jobs.checkpoints.list(
            job_id, **_kwargs(after))))


# ----------------------------------------------------------------------------- wait


def _new_events(client, job_id, seen):
    """Events not seen yet, oldest first: page back from the newest until a seen id appears."""
    fresh = []
    with api_call(f"list the events of {job_id}"):
        after = None
        while True:
            page = client.fine_tuning.jobs.list_events(job_id, **_kwargs(after))
            data = list(page.data)
            for event in data:
                if event.id in seen:
                    return fresh[::-1]
                fresh.append(event)
            if not data or not getattr(page, "has_more", False):
                return fresh[::-1]
            after = data[-1].id


def _loss_postfix(data):
    keys = (("train_loss", "train"), ("valid_loss", "valid"), ("full_valid_loss", "full valid"))
    return {label: f"{data[k]:.3f}" for k, label in keys if isinstance(data.get(k), (int, float))}


def wait(client, job_id, *, poll=10.0, timeout=3600.0, progress=True, quiet=False):
    """Follow a job until it succeeds, fails, is cancelled, or ``timeout`` seconds pass.

    A ``tqdm`` bar counts the steps (``total_steps`` from the metrics events) with the latest losses
    in its postfix; every other event is printed once. Returns the last job object retrieved; its
    ``status`` says how it ended (still ``running`` after a timeout -- call ``wait`` again).
    """
    require_client(client, "follow a fine-tuning job")
    start, seen, bar = time.monotonic(), set(), None
    try:
        while True:
            with api_call(f"retrieve the job {job_id}"):
                job = client.fine_tuning.jobs.retrieve(job_id)
            for event in _new_events(client, job_id, seen):
                seen.add(event.id)
                data = event.data if isinstance(getattr(event, "data", None), dict) else {}
                if "step" in data and progress:
                    if bar is None:
                        from tqdm.auto import tqdm

                        bar = tqdm(total=data.get("total_steps"), desc=job_id, unit="step")
                    bar.update(int(data["step"]) - bar.n)
                    bar.set_postfix(_loss_postfix(data), refresh=False)
                elif "step" not in data and not quiet:
                    print(f"{time.strftime('%H:%M:%S', time.gmtime(event.created_at))} "
                          f"[{event.level}] {event.message}")
            if job.status in TERMINAL:
                break
            if time.monotonic() - start > timeout:
                print(f"Stopped waiting after {timeout:g} s: {job_id} is still {job.status}. "
                      f"Call ftlab.wait(client, {job_id!r}) again, or ftlab.fetch_run later.")
                return job
            time.sleep(poll)
    finally:
        if bar is not None:
            bar.close()
    _report_end(job)
    return job


def _report_end(job):
    if job.status == "succeeded":
        print(f"{job.id} succeeded: fine-tuned model {job.fine_tuned_model} "
              f"({job.trained_tokens or 0:,} trained tokens).")
    elif job.status == "failed":
        error = getattr(job, "error", None)
        said = f"{error.message} (code {error.code}{', field ' + error.param if error.param else ''})" \
            if error is not None and getattr(error, "message", None) else "no reason given"
        print(f"{job.id} FAILED: {said}.\nIf the files were rejected, ftlab.validate_chat(path) "
              "shows each problem with its line and a fix.")
    else:
        print(f"{job.id} was cancelled.")


# ----------------------------------------------------------------------------- read back


def _plain(obj):
    from ftlab.run_readers import _plain as plain

    return plain(obj)


def _job_meta(job):
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

    from ftlab.runs import Run, load_run

    require_client(client, "read a fine-tuning job")
    with api_call(f"retrieve the job {job_id}"):
        job = client.fine_tuning.jobs.retrieve(job_id)
    meta, notes = _job_meta(job), []
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
        meta = _job_meta(job)
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
