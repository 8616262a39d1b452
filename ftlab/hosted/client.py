"""A client for OpenAI or Azure OpenAI, found without ever showing the key, and errors that say what to do.

:func:`get_client` looks for a key in the environment, then in Colab's Secrets, then (only in an
interactive session) asks for it with ``getpass``. It returns an ``openai.OpenAI`` /
``openai.AzureOpenAI`` client, or ``None`` and prints why. The key goes into the client and nowhere
else: ftlab never prints it, logs it, keeps a copy of it or writes it to a file.

Every API call in ftlab goes through :func:`api_call`, which turns the ``openai`` exceptions into a
:class:`HostedError` whose message says what happened and what to do (a 403 on creating a job, for
example, explains OpenAI's 2026-2027 wind-down of self-serve fine-tuning).

>>> client, reason = find_client(environ={}, colab=False, ask=False)
>>> client is None, reason.startswith("no API key")
(True, True)
>>> redact("Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwx.")
'Incorrect API key provided: sk-***.'
"""

import contextlib
import json
import os
import re
import sys

from ftlab._secrets import known_secrets, redact, remember  # noqa: F401  (redact: part of this API)

OPENAI_KEY = "OPENAI_API_KEY"
AZURE_KEY = "AZURE_OPENAI_API_KEY"
AZURE_ENDPOINT = "AZURE_OPENAI_ENDPOINT"
AZURE_VERSIONS = ("OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION")
# Used when neither version variable is set; Azure's fine-tuning API accepts it. Set
# OPENAI_API_VERSION to use another.
DEFAULT_AZURE_API_VERSION = "2024-10-21"
MAX_RETRIES = 3  # the openai client retries 429, 5xx and connection errors with backoff

OFFLINE_HINT = ("Everything else in the course works without a key: the other notebooks fine-tune a "
                "tiny model on your CPU (ftlab.tinylm), and ftlab.sample_runs() lists real recorded jobs, including this "
                "course's Marv job (ftlab.load_sample('marv')).")
WIND_DOWN = ("OpenAI is winding down self-serve fine-tuning: since 2026-05-07 organisations that never "
             "fine-tuned cannot create jobs, since 2026-07-02 neither can those without fine-tuned-model "
             "inference in the previous 60 days, and on 2027-01-06 job creation ends for everyone "
             "(models already fine-tuned keep serving until their base model retires).")
AZURE_HINT = ("Azure OpenAI keeps a compatible fine-tuning API: set AZURE_OPENAI_API_KEY and "
              "AZURE_OPENAI_ENDPOINT and call ftlab.get_client('azure').")


class HostedError(RuntimeError):
    """An API call failed. ``kind`` names the case (``no_client``, ``auth``, ``permission``,
    ``wind_down``, ``not_found``, ``rate_limit``, ``quota``, ``server``, ``network``, ``bad_request``,
    ``job_failed``); ``status`` is the HTTP status when there was one. The message never holds a key."""

    def __init__(self, message, *, kind, status=None, request_id=None):
        super().__init__(message)
        self.kind, self.status, self.request_id = kind, status, request_id


# What a leaked key looks like: OpenAI keys (sk-..., sk-proj-..., sk-svcacct-...) and Azure keys
# (32 hexadecimal characters standing alone; not a Jupyter widget's model_id, which looks the same).
_LEAKS = (re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
          re.compile(r'(?<!"model_id": ")(?<![0-9A-Fa-f])[0-9a-f]{32}(?![0-9A-Fa-f])'))


def find_keys(text, secrets=None):
    """Places in ``text`` that hold an API key: key-shaped strings, and the values of ``secrets``
    (default: every key this process knows, ``ftlab._secrets.known_secrets``). Each is ``(position, first 4 characters +
    '…')``, so the report does not leak the key it found. Use it before sharing a notebook.

    >>> find_keys("saved to model.bin", secrets=[])
    []
    >>> find_keys("key = sk-" + "a1B2" * 6, secrets=[])
    [(6, 'sk-a…')]
    """
    if secrets is None:
        secrets = known_secrets()
    found = {m.start(): m.group(0) for pattern in _LEAKS for m in pattern.finditer(text)}
    for secret in secrets:
        start = text.find(secret)
        while start >= 0:
            found[start] = secret
            start = text.find(secret, start + 1)
    return [(pos, found[pos][:4] + "…") for pos in sorted(found)]


# ----------------------------------------------------------------------------- finding a key


def _colab_secret(name):
    """A Colab secret, or ``(None, why not)``: a missing secret or access not granted both raise."""
    if "google.colab" not in sys.modules:
        return None, "not in Colab"
    try:
        from google.colab import userdata

        value = userdata.get(name)
    except Exception as err:  # SecretNotFoundError, NotebookAccessError, TimeoutException
        return None, f"Colab secret {name}: {type(err).__name__}"
    return (value or None), (None if value else f"Colab secret {name} is empty")


def _interactive():
    """True in a terminal or a notebook kernel (where getpass may still be refused by the frontend)."""
    if sys.stdin is not None and sys.stdin.isatty():
        return True
    shell = sys.modules.get("IPython") and getattr(sys.modules["IPython"], "get_ipython", None)
    return bool(shell and shell() is not None and hasattr(shell(), "kernel"))


def _ask(prompt):
    import getpass

    try:
        return getpass.getpass(prompt).strip() or None
    except Exception:  # StdinNotImplementedError (frontend without input), EOFError
        return None


def _lookup(names, environ, colab, reasons):
    """Values of ``names`` and where they came from, environment first, then Colab Secrets."""
    values, where = {}, None
    for name in names:
        value = environ.get(name) or None
        if value:
            values[name], where = value, where or "environment"
        elif colab:
            value, why = _colab_secret(name)
            if value:
                values[name], where = value, where or "Colab Secrets"
            elif why and why != "not in Colab" and name not in AZURE_VERSIONS:  # versions are optional
                reasons.append(why)
    return values, where


def find_client(provider="auto", *, environ=None, colab=True, ask=None, base_url=None,
                max_retries=MAX_RETRIES, timeout=None, http_client=None):
    """``(client, message)``: the client (or ``None``) and a sentence saying where the key came from
    (or why there is no client). ``environ`` defaults to ``os.environ``; ``ask`` None means "ask with
    getpass only in an interactive session"."""
    if provider not in ("auto", "openai", "azure"):
        raise ValueError(f"provider must be 'auto', 'openai' or 'azure', got {provider!r}")
    environ = os.environ if environ is None else environ
    reasons = []
    options = {"max_retries": max_retries}
    if timeout is not None:
        options["timeout"] = timeout
    if http_client is not None:
        options["http_client"] = http_client
    if provider in ("auto", "openai"):
        found, where = _lookup([OPENAI_KEY], environ, colab, reasons)
        if found:
            return _openai(found[OPENAI_KEY], base_url, options), f"OpenAI, key from {where}"
    if provider in ("auto", "azure"):
        found, where = _lookup([AZURE_KEY, AZURE_ENDPOINT, *AZURE_VERSIONS], environ, colab, reasons)
        if AZURE_KEY in found and AZURE_ENDPOINT in found:
            version = next((found[v] for v in AZURE_VERSIONS if v in found), DEFAULT_AZURE_API_VERSION)
            client = _azure(found[AZURE_KEY], found[AZURE_ENDPOINT], version, options)
            return client, f"Azure OpenAI at {found[AZURE_ENDPOINT]} (api-version {version}), key from {where}"
        if provider == "azure" and (AZURE_KEY in found) != (AZURE_ENDPOINT in found):
            missing = AZURE_ENDPOINT if AZURE_KEY in found else AZURE_KEY
            reasons.append(f"{missing} is not set (Azure needs both the key and the endpoint)")
    if ask is None:
        ask = _interactive()
    if ask and provider != "azure":
        key = _ask("OpenAI API key (input hidden; Enter to skip): ")
        if key:
            return _openai(key, base_url, options), "OpenAI, key typed in (not stored)"
        reasons.append("no key typed")
    names = {"openai": OPENAI_KEY, "azure": f"{AZURE_KEY} + {AZURE_ENDPOINT}",
             "auto": f"{OPENAI_KEY} (or {AZURE_KEY} + {AZURE_ENDPOINT})"}[provider]
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return None, (f"no API key found: set {names} in the environment or in Colab's Secrets (key icon, "
                  f"then allow notebook access){why}. {OFFLINE_HINT}")


def get_client(provider="auto", *, quiet=False, **options):
    """An ``openai.OpenAI`` or ``openai.AzureOpenAI`` client, or ``None`` (and a printed reason).

    ``provider``: ``"auto"`` (OpenAI if ``OPENAI_API_KEY`` is found, else Azure), ``"openai"`` or
    ``"azure"``. Keys are looked up in the environment, then Colab's Secrets, then asked for with
    ``getpass`` in an interactive session (``ask=False`` never asks). Options: ``base_url`` (any
    OpenAI-compatible server), ``max_retries``, ``timeout``, ``http_client``. The key is never shown.
    """
    client, message = find_client(provider, **options)
    if not quiet:
        print(("Client ready: " if client is not None else "No client: ") + message)
    return client


def _openai(key, base_url, options):
    import openai

    remember(key)
    if base_url:
        options = {**options, "base_url": base_url}
    return openai.OpenAI(api_key=key, **options)


def _azure(key, endpoint, version, options):
    import openai

    remember(key)
    return openai.AzureOpenAI(api_key=key, azure_endpoint=endpoint, api_version=version, **options)


def require_client(client, action):
    """Raise a clear :class:`HostedError` when there is no client to do ``action`` with; remember
    the client's key, so that ``redact`` hides it in every message also for a client made outside
    ftlab (an Azure key has no telltale shape)."""
    if client is None:
        raise HostedError(f"Cannot {action}: there is no API client (ftlab.get_client() returned None "
                          f"because no key was found). {OFFLINE_HINT}", kind="no_client")
    remember(getattr(client, "api_key", None))
    return client


# ----------------------------------------------------------------------------- friendly errors


@contextlib.contextmanager
def api_call(action, *, creating_job=False):
    """Run an API call; turn an ``openai`` error into a :class:`HostedError` that says what to do."""
    try:
        yield
    except Exception as err:
        friendly = explain(err, action, creating_job=creating_job)
        if friendly is None:
            raise
        raise friendly from None  # the original's message may quote part of the key


def explain(err, action, *, creating_job=False):
    """The :class:`HostedError` for an ``openai`` exception, or ``None`` for any other exception."""
    openai = sys.modules.get("openai")
    if openai is None or not isinstance(err, openai.OpenAIError):
        return None
    status = getattr(err, "status_code", None)
    request_id = getattr(err, "request_id", None)
    said = redact(_server_message(err))
    where = f" (HTTP {status}{', request ' + request_id if request_id else ''})" if status else ""
    head = f"Could not {action}{where}: {said}\n"
    if isinstance(err, openai.APIConnectionError):  # includes timeouts
        return HostedError(head + "The service could not be reached. Check your network connection "
                           "(and base_url / AZURE_OPENAI_ENDPOINT), then try again.", kind="network")
    if not isinstance(err, openai.APIStatusError):
        return HostedError(head.strip(), kind="other")
    if status == 401:
        return HostedError(head + "The API key was rejected: it is wrong, revoked or belongs to "
                           "another endpoint. Create a new key, store it as OPENAI_API_KEY (or in "
                           "Colab's Secrets) and call ftlab.get_client() again.", kind="auth",
                           status=status, request_id=request_id)
    if status == 403 and creating_job:
        return HostedError(head + "Your organisation may not create fine-tuning jobs. " + WIND_DOWN
                           + " What you can do: " + AZURE_HINT + " " + OFFLINE_HINT,
                           kind="wind_down", status=status, request_id=request_id)
    if status == 403:
        return HostedError(head + "This key's project has no permission for this (check the "
                           "project's allowed models and endpoints, or the key's restrictions).",
                           kind="permission", status=status, request_id=request_id)
    if status == 404:
        return HostedError(head + "Not found: check the id or model name. Jobs look like "
                           "'ftjob-...', files 'file-...', fine-tuned models 'ft:gpt-4o-mini-2024-07-18:"
                           "org:suffix:id'; on Azure use the deployment name. The key must belong to the "
                           "organisation/project that owns it.", kind="not_found", status=status,
                           request_id=request_id)
    if status == 429:
        if "quota" in said.lower() or "billing" in said.lower():
            return HostedError(head + "The account is out of credit or over its spending limit: add "
                               "credit or raise the limit in the billing settings, then retry.",
                               kind="quota", status=status, request_id=request_id)
        return HostedError(head + "Rate limited. Wait a minute, or lower the number of parallel "
                           "requests (workers=) and try again.", kind="rate_limit", status=status,
                           request_id=request_id)
    if status and status >= 500:
        return HostedError(head + "The service had an internal error. Try again in a few minutes "
                           "(status.openai.com shows outages).", kind="server", status=status,
                           request_id=request_id)
    return HostedError(head + "The request was refused as invalid: the message above names the "
                       "parameter. For data files, run ftlab.validate_chat(path) first.",
                       kind="bad_request", status=status, request_id=request_id)


def _not_the_api(action, what):
    return HostedError(f"Could not {action}: the answer was not the API's JSON ({redact(what)}).\n"
                       "A proxy, gateway or login page answered instead of the API, or the answer "
                       "was cut off. Check base_url (or AZURE_OPENAI_ENDPOINT) and your network, "
                       "then try again.", kind="bad_response")


def _starts(text):
    return "starting " + repr(" ".join(str(text).split())[:80])


def request(action, resource, call, *args, expect=(), creating_job=False, **kwargs):
    """``resource.call(*args, **kwargs)`` inside ``api_call`` (``call`` names the method: the
    fine-tuning API has a keyword argument called ``method``). An answer that is not the API's JSON
    (a gateway's HTML page sent with status 200, a body cut off) or lacks the ``expect``ed fields
    becomes a :class:`HostedError` here, not a JSONDecodeError or AttributeError further on."""
    raw_api = getattr(resource, "with_raw_response", None)
    with api_call(action, creating_job=creating_job):
        if raw_api is None:  # not an openai client (a test double): nothing raw to check
            answer = getattr(resource, call)(*args, **kwargs)
        else:
            raw = getattr(raw_api, call)(*args, **kwargs)
            http = raw.http_response
            kind = http.headers.get("content-type", "") or "no content type"
            if "json" not in kind:
                raise _not_the_api(action, f"{kind.split(';')[0]}, {_starts(http.text)}")
            try:
                answer = raw.parse()
            except json.JSONDecodeError as err:
                raise _not_the_api(action, f"JSON that breaks off at character {err.pos}") from None
    missing = [f for f in expect if not hasattr(answer, f)]
    if missing:
        raise _not_the_api(action, f"it has no {missing[0]!r}")
    return answer


def _server_message(err):
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(err, "message", None) or err)
