"""API keys never show: every key value this process knows, and redaction of any text by them.

A key is *known* when it is set in the environment (``OPENAI_API_KEY``, ``AZURE_OPENAI_API_KEY`` or
any variable named ``..._API_KEY``, ``..._KEY`` or ``..._TOKEN``) or when ftlab handed it to a client
(typed in, read from Colab's Secrets, or passed as ``api_key=``: :func:`remember`). :func:`redact`
replaces every known value, whatever its shape (an Azure key is 32 hex characters, a proxy's key can
be anything), and anything shaped like an OpenAI key. Every message that reaches a user from a
server or an exception goes through it.

>>> remember("my-company-proxy-key-123")
>>> redact("401: bad key my-company-proxy-key-123 for sk-proj-abcdefghijklmnopqrstuvwx")
'401: bad key *** for sk-***'
"""

import os
import re

_REMEMBERED = set()
_MIN_LENGTH = 8  # shorter values are not keys, and replacing them would garble ordinary text
_KEY_NAMES = re.compile(r".*(_API_KEY|_KEY|_TOKEN)$")
# OpenAI-shaped keys (sk-..., sk-proj-...) and long tokens right after the word "key".
_KEYLIKE = re.compile(r"\bsk-[A-Za-z0-9_\-*.]{5,}[A-Za-z0-9_\-*]|(?<=[Kk]ey[:= ])\s*[A-Za-z0-9_\-]{24,}")


def remember(secret):
    """Add a key value to those :func:`redact` hides (ftlab calls it for every key it uses)."""
    if isinstance(secret, str) and len(secret.strip()) >= _MIN_LENGTH:
        _REMEMBERED.add(secret.strip())


def known_secrets(environ=None):
    """Every key value known to this process: key variables of the environment, and remembered ones."""
    environ = os.environ if environ is None else environ
    found = {value.strip() for name, value in environ.items()
             if _KEY_NAMES.match(name.upper()) and len(value.strip()) >= _MIN_LENGTH}
    return found | _REMEMBERED


def redact(text, secret=None):
    """``text`` with every known key value (and ``secret``) replaced by ``***``, and anything
    shaped like an OpenAI key by ``sk-***``."""
    text = str(text)
    secrets = known_secrets() | ({secret} if secret else set())
    for value in sorted(secrets, key=len, reverse=True):  # a longer key may contain a shorter one
        text = text.replace(value, "***")
    return _KEYLIKE.sub(lambda m: "sk-***" if m.group(0).startswith("sk-") else " ***", text)
