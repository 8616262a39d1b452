"""Re-exports that import on first use: how ``ftlab`` and each wing offer their names cheaply.

A package's ``__init__`` lists which module defines each public name; nothing is imported until a
name is used, so ``import ftlab`` (or ``import ftlab.widgets``) costs almost nothing and pulls in
neither matplotlib, ipywidgets, openai, tiktoken nor pandas.
"""

import sys
from importlib import import_module


def lazy_exports(package, exports):
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``'s ``__init__``.

    ``exports`` maps a public name to the module that defines it, relative to ``package``:
    ``{"load_run": "run"}`` in ``ftlab.runs`` makes ``ftlab.runs.load_run`` import
    ``ftlab.runs.run`` the first time it is used.

    >>> getattr_, dir_, all_ = lazy_exports("ftlab", {"perplexity": "losses"})
    >>> float(getattr_("perplexity")(0.0)), all_
    (1.0, ['perplexity'])
    """

    def __getattr__(name):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # cache: the next lookup is a plain attribute
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__, sorted(exports)
