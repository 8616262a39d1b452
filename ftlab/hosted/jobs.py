"""Drive a hosted fine-tuning job (OpenAI or Azure OpenAI): plan it, start it, wait for it.

The course's Module 11.3 notebook started a job without a validation file, with every
hyperparameter left to "auto", and polled the 20 newest events, so a burst of events between two
polls was lost (step 2 of the recorded Marv job). Here:

- :func:`plan_job` checks both files with ``validate_chat`` and estimates tokens, epochs and cost --
  offline, no key needed;
- :func:`start_job` refuses files with errors or a validation file that overlaps the training file,
  asks before spending money, uploads, and creates the job with explicit hyperparameters;
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

from ftlab.hosted.client import api_call, require_client
from ftlab.hosted.fetch import _kwargs

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
                    line = (f"{time.strftime('%H:%M:%S', time.gmtime(event.created_at))} "
                            f"[{event.level}] {event.message}")
                    (bar.write if bar is not None else print)(line)  # keeps the bar intact
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
