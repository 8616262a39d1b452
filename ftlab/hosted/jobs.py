"""Drive a hosted fine-tuning job (OpenAI or Azure OpenAI): plan it, start it, wait for it.

The course's Module 11.3 notebook started a job without a validation file and polled the 20
newest events, so a burst of events between two polls was lost (step 2 of the recorded Marv job).
Here:

- :func:`plan_job` checks both files with ``validate_chat`` and estimates tokens, epochs and cost --
  offline, no key needed;
- :func:`start_job` refuses files with errors or a validation file that overlaps the training file,
  asks before spending money, uploads, and creates the job with every hyperparameter said out loud
  (``"auto"``, OpenAI's recommended start, included);
- :func:`wait` shows a progress bar over the job's steps, prints each new event once (paging back
  until it meets an event it has seen), and always ends: on success, failure, cancellation or timeout;
- ``ftlab.hosted.fetch.fetch_run`` then reads the finished job back as a :class:`ftlab.Run`.

>>> plan = plan_job(_marv("train"), _marv("valid"), model="gpt-4o-mini-2024-07-18", n_epochs=3,
...                 batch_size=1, learning_rate_multiplier=1.8, suffix="marv", seed=7)
>>> plan.ok, plan.create_args["method"]["supervised"]["hyperparameters"]["n_epochs"]
(True, 3)
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ftlab._report import plural
from ftlab._secrets import redact
from ftlab.hosted.client import MAX_RETRIES, HostedError, request, require_client
from ftlab.hosted.fetch import OutOfTime, PagingError, _bounded, _kwargs, _pages

TERMINAL = ("succeeded", "failed", "cancelled")
# Failures that a later poll may not meet again (a gateway's HTML page is usually a passing 502).
TRANSIENT = ("rate_limit", "server", "network", "bad_response")
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
        lines = [f"training file:   {self.report.source}: {plural(self.report.n_examples, 'example')}, "
                 f"{plural(len(self.report.errors), 'error')}, "
                 f"{plural(len(self.report.warnings), 'warning')}",
                 "validation file: " + (f"{valid.source}: {plural(valid.n_examples, 'example')}, "
                                        f"{plural(len(valid.errors), 'error')}" if valid else "none (no "
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
             suffix=None, seed=None, prices=None, provider="openai"):
    """Validate the files and estimate the job, without any API call. See :class:`JobPlan`.
    ``provider="azure"``: Azure OpenAI's own default epochs are not estimated (say ``n_epochs``)."""
    from ftlab.chat.validate import validate_chat

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
    return JobPlan(report, _estimate(report, n_epochs, prices, model, provider), args, refusals)


def _estimate(report, n_epochs, prices, model, provider):
    if not report.example_tokens:
        return "estimate: no countable examples"
    try:
        return report.estimate(n_epochs=n_epochs, prices=prices, model=model, provider=provider)
    except ValueError as err:  # Azure with n_epochs="auto": no rule to estimate with
        return f"estimate: none ({err})"


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
    uploaded = request(f"upload {name}", client.files, "create", file=(name, data),
                        purpose="fine-tune", expect=("id",))
    print(f"uploaded {name} ({len(data):,} bytes) as {uploaded.id}")
    return uploaded.id


def _create(client, args):
    import inspect

    create = client.fine_tuning.jobs.create
    if "method" not in inspect.signature(create).parameters:  # openai older than 1.58
        args = {**{k: v for k, v in args.items() if k != "method"},
                "extra_body": {"method": args["method"]}}
    return request(f"create a fine-tuning job on {args['model']}", client.fine_tuning.jobs,
                    "create", creating_job=True, expect=("id", "status"), **args)


def start_job(client, train, valid=None, *, model, n_epochs, batch_size, learning_rate_multiplier,
              suffix=None, seed=None, confirm=True, prices=None):
    """Validate, estimate, confirm, upload and create a supervised fine-tuning job; return its id.

    Every hyperparameter must be given (``"auto"`` is allowed but must be said). Refuses (ValueError)
    when either file has errors or the validation file overlaps the training file. With
    ``confirm=True`` it prints the plan and the cost and asks before uploading; answering anything
    but "y" returns ``None`` and nothing is spent.
    """
    require_client(client, "start a fine-tuning job")
    provider = "azure" if type(client).__name__.startswith("Azure") else "openai"
    plan = plan_job(train, valid, model=model, n_epochs=n_epochs, batch_size=batch_size,
                    learning_rate_multiplier=learning_rate_multiplier, suffix=suffix, seed=seed,
                    prices=prices, provider=provider)
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


# ----------------------------------------------------------------------------- wait


def _new_events(client, job_id, seen, deadline):
    """Events not seen yet, oldest first: page back from the newest until a seen id appears, a page
    comes back with nothing new (a server looping its pages: nothing new lies beyond it), the page
    budget is spent, or the deadline passes. Each page is one request bounded by the deadline."""
    def fetch(after):
        return request(f"list the events of {job_id}", _bounded(client, deadline).fine_tuning.jobs,
                        "list_events", job_id, expect=("data",), **_kwargs(after))

    fresh = []
    try:
        for event in _pages(fetch, f"events of {job_id}"):
            if event.id in seen:
                break
            fresh.append(event)
    except (PagingError, OutOfTime):
        pass  # show what was read; the next poll, or the caller's deadline, carries on
    return fresh[::-1]


def _loss_postfix(data):
    keys = (("train_loss", "train"), ("valid_loss", "valid"), ("full_valid_loss", "full valid"))
    return {label: f"{data[k]:.3f}" for k, label in keys if isinstance(data.get(k), (int, float))}


def _show(event, job_id, bar, progress, quiet):
    """Move the step bar for a metrics event, print any other event once; returns the bar."""
    data = event.data if isinstance(getattr(event, "data", None), dict) else {}
    if "step" in data and progress:
        if bar is None:
            from tqdm.auto import tqdm

            bar = tqdm(total=data.get("total_steps"), desc=job_id, unit="step")
        bar.update(int(data["step"]) - bar.n)
        bar.set_postfix(_loss_postfix(data), refresh=False)
    elif "step" not in data and not quiet:
        line = (f"{time.strftime('%H:%M:%S', time.gmtime(event.created_at))} "
                f"[{event.level}] {redact(event.message)}")
        (bar.write if bar is not None else print)(line)  # keeps the bar intact
    return bar


def _stopped(job, job_id, timeout, error):
    """The end of a wait that ran out of time: the last job seen, or an error if there was none."""
    if job is None:
        why = f" (last error: {str(error).splitlines()[0]})" if error is not None else ""
        raise HostedError(f"Stopped waiting after {timeout:g} s: could not read {job_id} in that "
                          f"time{why}. Check your network (and base_url), or call "
                          "ftlab.wait(client, job_id, timeout=...) with more time.", kind="timeout")
    print(f"Stopped waiting after {timeout:g} s: {job_id} is still {job.status}. "
          f"Call ftlab.wait(client, {job_id!r}) again, or ftlab.fetch_run later.")
    return job


def wait(client, job_id, *, poll=10.0, timeout=3600.0, progress=True, quiet=False):
    """Follow a job until it succeeds, fails, is cancelled, or ``timeout`` seconds pass.

    A ``tqdm`` bar counts the steps (``total_steps`` from the metrics events) with the latest losses
    in its postfix; every other event is printed once. Returns the last job object retrieved; its
    ``status`` says how it ended (still ``running`` after a timeout -- call ``wait`` again).

    It always ends by the deadline: every request (the job, each page of events) gets the time left
    as its timeout and is not retried by the client; instead a rate limit, a server error, a network
    failure or an answer that is not the API's JSON is tried again at the next poll, up to
    ``MAX_RETRIES`` times in a row. If the job could not be read at all before the deadline, a
    ``HostedError`` (kind ``timeout``) says so.
    """
    require_client(client, "follow a fine-tuning job")
    deadline = time.monotonic() + timeout
    job, bar, seen, failures, error = None, None, set(), 0, None
    try:
        while True:
            if time.monotonic() >= deadline:
                return _stopped(job, job_id, timeout, error)
            try:
                jobs_api = _bounded(client, deadline).fine_tuning.jobs
                job = request(f"retrieve the job {job_id}", jobs_api, "retrieve", job_id,
                               expect=("id", "status"))
                for event in _new_events(client, job_id, seen, deadline):
                    seen.add(event.id)
                    bar = _show(event, job_id, bar, progress, quiet)
                failures, error = 0, None
            except OutOfTime:
                continue  # the check above ends the wait
            except HostedError as err:
                failures, error = failures + 1, err
                if err.kind not in TRANSIENT or failures > MAX_RETRIES:
                    raise
                if not quiet:
                    (bar.write if bar is not None else print)(
                        f"{job_id}: {str(err).splitlines()[0]} -- trying again at the next poll")
            if job is not None and job.status in TERMINAL:
                break
            time.sleep(max(0.0, min(poll, deadline - time.monotonic())))
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
        print(f"{job.id} FAILED: {redact(said)}.\nIf the files were rejected, "
              "ftlab.validate_chat(path) "
              "shows each problem with its line and a fix.")
    else:
        print(f"{job.id} was cancelled.")
