"""A tiny model on disk: weights in a ``.npz``, and a ``.json`` beside it that says what they are.

The JSON holds the architecture, the configuration, the format version, the character vocabulary,
the sha256 of the weights and where they came from (``info``). Reading checks all of it before
any weight is used, so a damaged download or a file from another ftlab is a clear error, not a
model that talks nonsense. Both the MLP (``model.py``) and the transformer (``transformer.py``)
are saved and read here.
"""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from ftlab._files import atomic_write, refuse_existing
from ftlab.tinylm.text import VOCAB

FORMAT_VERSION = 1
# Which tool re-creates the shipped weights of each architecture (named in error messages).
_REMAKE = {"mlp": "tools/pretrain_tinylm.py", "transformer": "tools/pretrain_transformer.py"}


def weights_hash(params):
    """sha256 over the weights' names, dtypes, shapes and bytes (independent of zip timestamps)."""
    digest = hashlib.sha256()
    for name in sorted(params):
        arr = np.ascontiguousarray(params[name])
        digest.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def save_model(path, params, config, info, *, overwrite=False, architecture=None):
    """Write ``params`` to ``path`` (.npz) and its description to the .json beside it.

    ``architecture=None`` writes no architecture key: the MLP's files, as ftlab always wrote them.
    """
    path = Path(path).with_suffix(".npz")
    meta_path = path.with_suffix(".json")
    for p in (path, meta_path):  # check both before writing either
        refuse_existing(p, overwrite)
    meta = {"format_version": FORMAT_VERSION, "config": config,
            "vocab": "".join(VOCAB[6:]), "sha256": weights_hash(params), "info": info}
    if architecture is not None:
        meta["architecture"] = architecture
    atomic_write(path, lambda f: np.savez(f, **params), overwrite=True, binary=True)
    atomic_write(meta_path, lambda f: f.write(json.dumps(meta, indent=2, sort_keys=True) + "\n"),
                 overwrite=True)
    return path


def architecture_of(meta):
    """"mlp" (files written before transformers existed have no key) or "transformer"."""
    return meta.get("architecture", "mlp")


def read_model(path):
    """The checked description (dict) and weights (dict of arrays) of a saved model.

    Raises FileNotFoundError when a file is missing and ValueError, naming the file and the
    fix, when anything does not match: format version, vocabulary, damaged zip, sha256.
    """
    path = Path(path).with_suffix(".npz")
    meta_path = path.with_suffix(".json")
    for p in (path, meta_path):
        if not p.exists():
            raise FileNotFoundError(f"{p} is missing: a tinylm model is a .npz with a .json beside it")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{meta_path}: not a tinylm model description ({err}); re-create the model "
                         "with its save() method") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise ValueError(f"{meta_path}: not a tinylm model description (no 'config' object); "
                         "re-create the model with its save() method")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{meta_path}: format_version {meta.get('format_version')!r}, but this "
                         f"ftlab reads version {FORMAT_VERSION}; upgrade ftlab or re-create the file")
    if architecture_of(meta) not in _REMAKE:
        raise ValueError(f"{meta_path}: architecture {meta.get('architecture')!r} is not one this "
                         f"ftlab knows ({', '.join(sorted(_REMAKE))}); upgrade ftlab")
    if meta.get("vocab") != "".join(VOCAB[6:]):
        raise ValueError(f"{meta_path}: the model was trained with a different character vocabulary")
    remake = _REMAKE[architecture_of(meta)]
    try:
        with np.load(path) as arrays:
            params = {k: arrays[k] for k in arrays.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:  # cut short, or not an .npz
        raise ValueError(f"{path}: the weights file is damaged ({type(err).__name__}: {err}). "
                         f"Reinstall ftlab or re-create it with {remake}") from None
    if weights_hash(params) != meta.get("sha256"):
        raise ValueError(f"{path}: the weights' sha256 does not match {meta_path.name}; the file is "
                         f"damaged or was changed. Reinstall ftlab or re-create it with {remake}")
    if not params:
        raise ValueError(f"{path}: holds no weights; re-create it with {remake}")
    return meta, params


def check_shapes(path, params, expected):
    """Refuse weights whose names or shapes differ from what the config in the .json builds."""
    path = Path(path).with_suffix(".npz")
    if {k: v.shape for k, v in params.items()} != {k: v.shape for k, v in expected.items()}:
        raise ValueError(f"{path}: weight shapes do not match the config in "
                         f"{path.with_suffix('.json').name}")
