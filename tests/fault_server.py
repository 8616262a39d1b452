"""The loopback OpenAI stand-in of ``fake_openai.py`` with faults injected per route.

Same routes and response shapes as :class:`fake_openai.FakeAPI` (jobs, events, checkpoints, file
contents, chat completions); a test adds faults to a path prefix::

    with FaultServer() as server:
        job_id = server.api.add_job(n_steps=30)
        server.api.inject(f"/fine_tuning/jobs/{job_id}/events", "cycle")

A fault applies to requests whose path starts with the prefix, ``times`` times (default: always).
Kinds:

- ``cycle``: list pages say ``has_more: true`` forever; past the last page the first comes again.
- ``repeat``: the first page every time (``after`` ignored), ``has_more: true``.
- ``slow``: the normal answer after ``seconds`` (at most ``MAX_SLEEP``; cut short at stop).
- ``html``: status 200 with a gateway's HTML page instead of JSON.
- ``truncated``: status 200, ``application/json``, the normal body cut in half.
- ``echo_401``: 401 whose message quotes the key the request carried, as OpenAI's own 401 does.
- ``status``: an error ``status`` (429, 500, 503, ...) with a 5 ms ``retry-after-ms``.
- ``reset``: the connection is reset (TCP RST) instead of answered.

The server binds an ephemeral port on 127.0.0.1, serves from a daemon thread, and stops by itself
after ``lifetime`` seconds if the test never stops it.
"""

import json
import socket
import struct
import threading

from fake_openai import FakeAPI, FakeServer

MAX_SLEEP = 5.0  # a slow answer never holds a test longer than this
KINDS = ("cycle", "repeat", "slow", "html", "truncated", "echo_401", "status", "reset")
GATEWAY_PAGE = (b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
                b"Gateway</h1></center><hr><center>nginx</center></body></html>\n")


def _reset(handler):
    """Write no answer: SO_LINGER with a zero timeout makes close() send a TCP RST, not a FIN."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()


def _sent_key(headers):
    """The key a request carried: OpenAI's bearer token or Azure's ``api-key`` header."""
    lower = {k.lower(): v for k, v in headers.items()}
    return lower.get("authorization", "").removeprefix("Bearer ").strip() or lower.get("api-key", "")


def _error(status, message, code=None):
    kind = {401: "invalid_request_error", 429: "rate_limit_exceeded"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class FaultAPI(FakeAPI):
    """:class:`FakeAPI` plus :meth:`inject`."""

    def __init__(self):
        super().__init__()
        self.faults = []  # [method, path prefix, kind, options, times left or None for always]
        self.stopping = threading.Event()

    def inject(self, path, kind, *, method="GET", times=None, **options):
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
        self.faults.append([method, path, kind, options, times])

    def _take(self, method, path):
        with self.lock:
            for fault in self.faults:
                if fault[0] == method and path.startswith(fault[1]) and fault[4] != 0:
                    if fault[4] is not None:
                        fault[4] -= 1
                    return fault[2], fault[3]
        return None, {}

    def handle(self, method, path, query, headers, body):
        kind, options = self._take(method, path)
        if kind == "slow":  # sleep outside the lock, so other requests are still answered
            self.stopping.wait(min(options.get("seconds", 2.0), MAX_SLEEP))
        if kind in (None, "slow"):
            return super().handle(method, path, query, headers, body)
        if kind in ("cycle", "repeat"):
            return self._endless(kind, method, path, query, headers, body)
        if kind == "truncated":
            status, payload, extra = super().handle(method, path, query, headers, body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            return 200, data[:len(data) // 2], {"content-type": "application/json"}
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query, "fault": kind,
                                  "headers": {k.lower(): v for k, v in headers.items()}})
        if kind == "html":
            return 200, GATEWAY_PAGE, {"content-type": "text/html; charset=utf-8"}
        if kind == "echo_401":
            return 401, _error(401, f"Incorrect API key provided: {_sent_key(headers)}. You can find "
                               "your API key at https://platform.openai.com/account/api-keys.",
                               "invalid_api_key"), {}
        if kind == "status":
            status = options.get("status", 500)
            return status, _error(status, options.get("message", f"fault {status}")), \
                {"retry-after-ms": "5"}
        return 0, _reset, {}

    def _endless(self, kind, method, path, query, headers, body):
        """A list page that always says ``has_more``: the first page again (``repeat``), or the
        first page again once the real pages are used up (``cycle``)."""
        first = {k: v for k, v in query.items() if k != "after"}
        status, payload, extra = super().handle(method, path, first if kind == "repeat" else query,
                                                headers, body)
        if status == 200 and kind == "cycle" and not payload["data"]:
            with self.lock:
                status, payload, extra = self._route(method, path, first, headers, body)
        if status == 200:
            payload = dict(payload, has_more=True)
        return status, payload, extra


class FaultServer(FakeServer):
    """``with FaultServer() as server:`` serves a :class:`FaultAPI` on a free loopback port."""

    def __init__(self, lifetime=30.0):
        super().__init__(FaultAPI())
        # Clients hanging up on a slow answer or a reset are the point here, not errors to print.
        self.httpd.handle_error = lambda request, address: None
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True
        self._stop_lock, self._running = threading.Lock(), False

    def __enter__(self):
        super().__enter__()
        self._running = True
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        """Stop serving (idempotent); sleeping answers wake up and end."""
        self._timer.cancel()
        self.api.stopping.set()
        with self._stop_lock:
            if self._running:
                self._running = False
                self.httpd.shutdown()
                self.httpd.server_close()
