"""A small stand-in for the OpenAI fine-tuning and chat API, served on 127.0.0.1 for offline tests.

It answers with the real response shapes (files, fine_tuning.job, fine_tuning.job.event newest
first, 20 per page, ``has_more``/``after``, fine_tuning.job.checkpoint, a base64 results file,
chat.completion with logprobs, ``{"error": {...}}`` bodies), so the real ``openai`` client of any
version talks to it over HTTP. Paths are accepted with the OpenAI prefix ``/v1`` and the Azure
prefixes ``/openai`` and ``/openai/deployments/<name>``.

A job is simulated from its hyperparameters: one metrics event per step, validation every 10 steps,
a checkpoint at each of the last three epoch ends (with ``full_valid_*``), and a results CSV. Each
``retrieve`` of a running job reveals ``events_per_poll`` more events, so polling code sees it move.
"""

import base64
import email.parser
import itertools
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

T0 = 1_780_000_000  # created_at of the first simulated event (2026-05-28)


def metrics_at(step, total, validation=True):
    """Deterministic losses of a healthy run, validation every 10 steps and at the last step."""
    train = 0.3 + 2.0 * math.exp(-step / (total / 4)) + 0.05 * math.sin(step)
    data = {"step": step, "train_loss": round(train, 5),
            "train_mean_token_accuracy": round(1 - train / 3, 5), "total_steps": total}
    if validation and (step % 10 == 0 or step == total):
        data["valid_loss"] = round(train + 0.1, 5)
        data["valid_mean_token_accuracy"] = round(1 - (train + 0.1) / 3, 5)
    if validation and step == total:
        data["full_valid_loss"] = round(train + 0.12, 5)
        data["full_valid_mean_token_accuracy"] = round(1 - (train + 0.12) / 3, 5)
    return data


class FakeAPI:
    """State of the fake service. Tests add jobs, script failures and read ``requests``."""

    def __init__(self):
        self.files, self.jobs, self.requests = {}, {}, []
        self.failures = []  # [method, path prefix, status, body, headers, times left]
        self.chat_reply = lambda model, messages: ("Hello.", None)
        self.ids = itertools.count(1)
        self.lock = threading.Lock()

    # ------------------------------------------------------------------ scripting
    def fail(self, method, path, status, message="", *, code=None, times=1, headers=None):
        kinds = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error",
                 404: "invalid_request_error", 429: "rate_limit_exceeded", 500: "server_error"}
        body = {"error": {"message": message, "type": kinds.get(status, "server_error"),
                          "param": None, "code": code}}
        self.failures.append([method, path, status, body, headers or {}, times])

    def add_file(self, data, filename="step_metrics.csv", purpose="fine-tune-results"):
        file_id = f"file-{next(self.ids):06d}abc"
        self.files[file_id] = {"data": data, "filename": filename, "purpose": purpose,
                               "created_at": T0}
        return file_id

    def add_job(self, *, n_steps=84, n_epochs=3, batch_size=1, validation=True, outcome="succeeded",
                results="base64", events_per_poll=None, model="gpt-4o-mini-2024-07-18",
                suffix="marv", training_file=None, validation_file=None, seed=42, lr=1.8):
        """A job with its whole event history; ``events_per_poll=None`` means already finished."""
        job_id = f"ftjob-{next(self.ids):06d}xyz"
        training_file = training_file or self.add_file(b"{}\n", "train.jsonl", "fine-tune")
        if validation and validation_file is None:
            validation_file = self.add_file(b"{}\n", "valid.jsonl", "fine-tune")
        per_epoch = n_steps // n_epochs
        model_name = f"ft:{model}:personal:{suffix}:AbC123"
        events = [("info", "message", f"Validating training file: {training_file}", None)]
        if validation:
            events.append(("info", "message", f"Validating validation file: {validation_file}", None))
        job = {"object": "fine_tuning.job", "id": job_id, "model": model, "created_at": T0,
               "finished_at": None, "fine_tuned_model": None, "organization_id": "org-course",
               "result_files": [], "status": "validating_files", "validation_file": validation_file,
               "training_file": training_file, "trained_tokens": None, "error": None, "seed": seed,
               "estimated_finish": None, "integrations": [], "user_provided_suffix": suffix,
               "metadata": None,
               "hyperparameters": {"n_epochs": n_epochs, "batch_size": batch_size,
                                   "learning_rate_multiplier": lr},
               "method": {"type": "supervised", "supervised": {"hyperparameters": {
                   "n_epochs": n_epochs, "batch_size": batch_size, "learning_rate_multiplier": lr}}}}
        checkpoints, rows, final = [], [], {}
        if outcome == "failed":
            final["error"] = {"code": "invalid_training_file", "param": "training_file",
                              "message": "The job failed due to an invalid training file. Invalid file "
                                         "format. Example 3, message 2: assistant message is missing "
                                         "'content'."}
            events.append(("error", "message", final["error"]["message"], None))
        else:
            events += [("info", "message", "Files validated, moving job to queued state", None),
                       ("info", "message", "Fine-tuning job started", None)]
            last = n_steps if outcome == "succeeded" else n_steps * 2 // 5
            for step in range(1, last + 1):
                data = metrics_at(step, n_steps, validation)
                text = f"Step {step}/{n_steps}: training loss={data['train_loss']:.2f}"
                if "full_valid_loss" in data:
                    text += f", full validation loss={data['full_valid_loss']:.2f}"
                elif "valid_loss" in data:
                    text += f", validation loss={data['valid_loss']:.2f}"
                events.append(("info", "metrics", text, data))
                rows.append(data)
                if step % per_epoch == 0 and step > n_steps - 3 * per_epoch:
                    checkpoints.append(self._checkpoint(job_id, model_name, step, n_steps, validation))
                    if step != n_steps:
                        events.append(("info", "message", f"Checkpoint created at step {step}", None))
            if outcome == "succeeded":
                events += [("info", "message", "New fine-tuned model created", None),
                           ("info", "message", "The job has successfully completed", None)]
                csv = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n" + "".join(
                    f"{r['step']},{r['train_loss']},{r['train_mean_token_accuracy']},"
                    f"{r.get('valid_loss', '')},{r.get('valid_mean_token_accuracy', '')}\n" for r in rows)
                data = csv.encode() if results == "raw" else base64.b64encode(csv.encode())
                final.update(fine_tuned_model=model_name, trained_tokens=1000 * n_steps,
                             result_files=[self.add_file(data)] if results else [])
            else:
                events.append(("info", "message", "Fine-tuning job cancelled", None))
        self.jobs[job_id] = {
            "job": job, "outcome": outcome, "final": final, "checkpoints": checkpoints,
            "events": [self._event(job_id, n, *e) for n, e in enumerate(events)],
            "shown": None if events_per_poll is None else 0, "per_poll": events_per_poll}
        if events_per_poll is None:
            self._finish(self.jobs[job_id])
        return job_id

    @staticmethod
    def _event(job_id, n, level, kind, message, data):
        return {"object": "fine_tuning.job.event", "id": f"ftevent-{job_id[6:]}-{n:05d}",
                "created_at": T0 + 10 * n, "level": level, "message": message, "data": data or {},
                "type": kind}

    @staticmethod
    def _checkpoint(job_id, model_name, step, total, validation):
        data = metrics_at(step, total, validation)
        metrics = {k: float(v) for k, v in data.items() if k != "total_steps"}
        if validation and "full_valid_loss" not in metrics:
            metrics["full_valid_loss"] = round(data["train_loss"] + 0.15, 5)
            metrics["full_valid_mean_token_accuracy"] = round(1 - metrics["full_valid_loss"] / 3, 5)
        return {"object": "fine_tuning.job.checkpoint", "id": f"ftckpt_{job_id[6:]}{step:05d}",
                "created_at": T0 + step, "fine_tuned_model_checkpoint": f"{model_name}:ckpt-step-{step}",
                "fine_tuning_job_id": job_id, "metrics": metrics, "step_number": step}

    def _finish(self, state):
        state["job"].update(state["final"], status=state["outcome"], finished_at=T0 + 10_000)

    def _visible(self, state):
        return state["events"] if state["shown"] is None else state["events"][:state["shown"]]

    # ------------------------------------------------------------------ requests
    def handle(self, method, path, query, headers, body):
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query,
                                  "headers": {k.lower(): v for k, v in headers.items()}})
            for failure in self.failures:
                if failure[5] > 0 and failure[0] == method and path.startswith(failure[1]):
                    failure[5] -= 1
                    return failure[2], failure[3], failure[4]
            return self._route(method, path, query, headers, body)

    def _route(self, method, path, query, headers, body):
        parts = path.strip("/").split("/")
        limit = int(query.get("limit", ["20"])[0])
        after = query.get("after", [None])[0]
        if parts == ["files"] and method == "POST":
            form = _multipart(headers, body)
            file_id = self.add_file(form["file"][1], form["file"][0], form["purpose"][1].decode())
            return 200, self._file(file_id), {}
        if parts[0] == "files" and len(parts) == 3 and parts[2] == "content":
            if parts[1] not in self.files:
                return _not_found(f"No such File object: {parts[1]}")
            return 200, self.files[parts[1]]["data"], {"content-type": "application/octet-stream"}
        if parts[:2] == ["fine_tuning", "jobs"]:
            if len(parts) == 2 and method == "POST":
                return self._create(json.loads(body))
            if len(parts) == 2:
                jobs = [s["job"] for s in reversed(self.jobs.values())]
                return 200, _page(jobs, after, limit), {}
            state = self.jobs.get(parts[2])
            if state is None:
                return _not_found(f"Could not find fine-tune: {parts[2]}")
            if len(parts) == 3:
                self._advance(state)
                return 200, state["job"], {}
            if parts[3] == "events":
                return 200, _page(self._visible(state)[::-1], after, limit), {}
            if parts[3] == "checkpoints":
                done = state["shown"] is None
                return 200, _page(state["checkpoints"][::-1] if done else [], after, limit), {}
            if parts[3] == "cancel":
                state["outcome"] = "cancelled"
                self._finish(state)
                return 200, state["job"], {}
        if parts[-2:] == ["chat", "completions"]:
            return self._chat(json.loads(body))
        return _not_found(f"Unknown path {path}")

    def _file(self, file_id):
        f = self.files[file_id]
        return {"object": "file", "id": file_id, "bytes": len(f["data"]), "created_at": f["created_at"],
                "filename": f["filename"], "purpose": f["purpose"], "status": "processed",
                "status_details": None}

    def _create(self, args):
        if args["training_file"] not in self.files:
            return 400, {"error": {"message": f"invalid training_file: {args['training_file']}",
                                   "type": "invalid_request_error", "param": "training_file",
                                   "code": None}}, {}
        # the service resolves "auto" itself; these are the values it chose for the recorded Marv job
        chosen = {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}
        hp = {k: chosen[k] if v == "auto" else v
              for k, v in args["method"]["supervised"]["hyperparameters"].items()}
        job_id = self.add_job(n_steps=20, n_epochs=hp["n_epochs"], batch_size=hp["batch_size"],
                              lr=hp["learning_rate_multiplier"], model=args["model"],
                              suffix=args.get("suffix", "x"), seed=args.get("seed", 1),
                              training_file=args["training_file"],
                              validation=bool(args.get("validation_file")),
                              validation_file=args.get("validation_file"), events_per_poll=8)
        self.jobs[job_id]["create_args"] = args
        return 200, self.jobs[job_id]["job"], {}

    def _advance(self, state):
        if state["shown"] is None:
            return
        state["shown"] = min(len(state["events"]), state["shown"] + state["per_poll"])
        if state["shown"] == len(state["events"]):
            state["shown"] = None
            self._finish(state)
        elif state["outcome"] != "failed" and state["shown"] > 3:
            state["job"]["status"] = "running"

    def _chat(self, args):
        model = args["model"]
        text, logprobs = self.chat_reply(model, args["messages"])
        choice = {"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                  "logprobs": None, "finish_reason": "stop"}
        if args.get("logprobs") and logprobs is not None:
            choice["logprobs"] = {"content": [{"token": f"t{i}", "logprob": lp, "bytes": None,
                                               "top_logprobs": []} for i, lp in enumerate(logprobs)],
                                  "refusal": None}
        n = len(text.split())
        return 200, {"id": f"chatcmpl-{next(self.ids)}", "object": "chat.completion",
                     "created": T0, "model": model, "choices": [choice], "system_fingerprint": "fp_1",
                     "usage": {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n}}, {}


def _page(items, after, limit):
    start = 0
    if after is not None:
        ids = [i["id"] for i in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    data = items[start:start + limit]
    return {"object": "list", "data": data, "has_more": start + limit < len(items)}


def _not_found(message):
    return 404, {"error": {"message": message, "type": "invalid_request_error", "param": None,
                           "code": None}}, {}


def _multipart(headers, body):
    head = f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + body)
    form = {}
    for part in message.get_payload():
        name = part.get_param("name", header="content-disposition")
        form[name] = (part.get_filename(), part.get_payload(decode=True))
    return form


class _Handler(BaseHTTPRequestHandler):
    api = None

    def _serve(self):
        url = urlparse(self.path)
        path = url.path
        for prefix in ("/v1", "/openai"):
            if path.startswith(prefix + "/"):
                path = path[len(prefix):]
        if path.startswith("/deployments/"):  # Azure: /openai/deployments/<name>/chat/completions
            path = "/" + "/".join(path.split("/")[3:])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, extra = self.api.handle(self.command, path, parse_qs(url.query),
                                                 dict(self.headers), body)
        if callable(payload):  # an injected fault writes (or withholds) the answer itself
            payload(self)
            return
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", extra.pop("content-type", "application/json"))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_test123")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, *args):  # keep test output quiet
        pass


class FakeServer:
    """``with FakeServer() as (api, base_url): ...`` serves a FakeAPI on a free loopback port."""

    def __init__(self, api=None):
        self.api = api if api is not None else FakeAPI()
        handler = type("Handler", (_Handler,), {"api": self.api})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        time.sleep(0)
