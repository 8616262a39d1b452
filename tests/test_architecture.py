"""The house rules of docs/architecture.md, checked on the source: wings in order, no import cycle,
ipywidgets only in widgets/, matplotlib at module level only where plots are drawn, a light
``import ftlab``. The checker reads files (it never imports them), so it is also run on small
planted packages to show that each rule really fails when broken."""

import ast
import graphlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import ftlab

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ftlab"

# Each wing stands only on the levels before it; wings on one level never import each other.
# Level 0 is the foundation: the top-level modules (losses, sampling, the private helpers).
LEVELS = [{"curves"}, {"runs", "chat"}, {"tinylm"}, {"augment", "hosted"}, {"widgets"}, {"course"},
          {"cli"}]
WING_LEVEL = {wing: i + 1 for i, level in enumerate(LEVELS) for wing in level}
WINGS = sorted(WING_LEVEL.keys() - {"cli"})
HEAVY = ("matplotlib", "ipywidgets", "openai", "tiktoken", "pandas")

# The public API before the package was split into wings: it must stay reachable as ftlab.<name>.
FLAT_API = {
    "ChatParaphraser", "ChatRecords", "ChatReport", "Run", "apply_temperature", "augment_chat",
    "augment_text", "augmentation_experiment", "bits_to_nats", "chat_model", "chat_stats", "check",
    "compare_chat", "count_tokens", "cross_entropy", "cross_entropy_from_probs", "default_epochs",
    "diagnose", "distinct_n", "encoding_name_for_model", "estimate_training", "evaluate_chat",
    "fetch_run", "find_duplicates", "get_client", "get_encoding", "iter_jsonl", "list_jobs",
    "load_run", "load_sample", "log_softmax", "loss_from_perplexity", "nats_to_bits", "perplexity",
    "plan_job", "plot_run", "plot_runs", "plot_sweep", "poll_events", "polling_explorer",
    "presenter", "read_chat_jsonl", "sample", "sample_runs", "simulate_early_stopping", "smooth",
    "softmax", "split_chat", "start_job", "sweep_early_stopping", "to_chat", "token_accuracy",
    "top_k_filter", "top_p_filter", "validate_chat", "wait", "write_chat_jsonl"}


# ----------------------------------------------------------------------------- the checker


def _module_name(path, root):
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree, module, is_package):
    """(imported module, names, line, at module level) for every import, in functions too."""
    top_level = set()
    stack = list(tree.body)
    while stack:  # statements that run at import time: everything outside def bodies
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        top_level.add(id(node))
        stack.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno, id(node) in top_level
        elif isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level:  # relative: from the package this module is in
                base = module.split(".")[: len(module.split(".")) - node.level + is_package]
                name = ".".join(base + ([name] if name else []))
            yield name, [a.name for a in node.names], node.lineno, id(node) in top_level


def _wing(module):
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the package's face
    return parts[1] if parts[1] in WING_LEVEL else "foundation"


def _level(module):
    wing = _wing(module)
    return 0 if wing == "foundation" else WING_LEVEL[wing]


def check_architecture(root):
    """Every violation of the house rules in the package at ``root``, as readable strings."""
    root = Path(root)
    name = root.name
    files = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    packages = {_module_name(p, root) for p in root.rglob("__init__.py")}
    graph, problems = {m: set() for m in files}, []
    for module, path in files.items():
        where = f"{path.relative_to(root.parent)}"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target, names, line, at_top in _imports(tree, module, module in packages):
            top = target.split(".")[0]
            if top == "ipywidgets" and _wing(module) != "widgets":
                problems.append(f"{where}:{line}: imports ipywidgets outside {name}/widgets/")
            if top == "matplotlib" and at_top and _wing(module) != "widgets" and "plot" not in path.stem:
                problems.append(f"{where}:{line}: imports matplotlib at module level "
                                "(do it inside the function that draws)")
            if top != name:
                continue
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in files]
            if target in packages and len(submodules) < len(names):
                faced = [n for n in names if f"{target}.{n}" not in files and not n.startswith("__")]
                if faced and _wing(module) is not None and module not in packages:
                    problems.append(f"{where}:{line}: imports {', '.join(faced)} from the face "
                                    f"{target}; import from the module that defines it")
            for dep in submodules or ([target] if target in files else []):
                if dep in packages or dep == module:
                    continue  # a face: checked above
                graph[module].add(dep)
                problems += _order_problems(where, line, module, dep)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:
        problems.append("import cycle: " + " -> ".join(err.args[1]))
    return problems


def _order_problems(where, line, module, dep):
    mine, theirs = _wing(module), _wing(dep)
    if mine in (None, theirs) or theirs == "foundation":
        return []
    if _level(dep) > _level(module):
        return [f"{where}:{line}: {mine} imports {dep}, a wing above it"]
    if _level(dep) == _level(module):
        return [f"{where}:{line}: {mine} imports {dep}, a wing on its own level"]
    return []


# ----------------------------------------------------------------------------- ftlab itself


def test_ftlab_keeps_the_house_rules():
    assert check_architecture(PACKAGE) == []


def test_top_level_holds_only_the_foundation_and_the_wings():
    top_files = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(top_files) <= 8, top_files
    wings = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert wings == WINGS == sorted(ftlab.WINGS)


@pytest.mark.parametrize("wing", WINGS)
def test_every_wing_says_what_it_is_for(wing):
    doc = ast.get_docstring(ast.parse((PACKAGE / wing / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc.splitlines()) >= 2, f"ftlab/{wing}/__init__.py needs a docstring"


def test_pyproject_ships_every_wing():
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    assert set(listed) == {"ftlab.data"} | on_disk


def test_public_api_keeps_every_flat_name():
    assert set(ftlab.__all__) >= FLAT_API


@pytest.mark.parametrize("face", ["ftlab"] + [f"ftlab.{w}" for w in WINGS])
def test_importing_a_face_is_light(face):
    code = (f"import json, sys, {face}; heavy = {list(HEAVY)!r};"
            "print(json.dumps([m for m in heavy if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_no_export_is_shadowed_by_a_module():
    """A public name equal to a submodule's name is replaced by the module once anything imports
    that submodule (ftlab.presenter vs a presenter.py): import every module, then look."""
    code = ("import importlib, pkgutil, types, ftlab\n"
            "faces = [ftlab] + [importlib.import_module('ftlab.' + w) for w in ftlab.WINGS]\n"
            "for m in pkgutil.walk_packages(ftlab.__path__, 'ftlab.'):\n"
            "    importlib.import_module(m.name)\n"
            "print([f'{f.__name__}.{n}' for f in faces for n in f.__all__\n"
            "       if isinstance(getattr(f, n), types.ModuleType)])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- planted packages


def _plant(tmp_path, files):
    root = tmp_path / "ftlab"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent != root and not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text('"""A wing."""\n')
        path.write_text(text)
    return root


def test_a_clean_planted_package_passes(tmp_path):
    root = _plant(tmp_path, {
        "losses.py": "import math\n",
        "curves/plots.py": "import matplotlib.pyplot as plt\nfrom ftlab.losses import math\n",
        "runs/run.py": "from ftlab.curves import plots\n",
        "widgets/w.py": "import ipywidgets\nimport matplotlib\nfrom ftlab.runs.run import x\n",
        "cli.py": "from ftlab.widgets import w\nfrom ftlab import __version__\n",
    })
    assert check_architecture(root) == []


@pytest.mark.parametrize("files, expected", [
    ({"chat/a.py": "from ftlab.chat import b\n",
      "chat/b.py": "def f():\n    import ftlab.chat.a\n"}, "import cycle"),
    ({"runs/x.py": "def show():\n    import ipywidgets\n"}, "ipywidgets outside"),
    ({"curves/diagnosis.py": "import matplotlib.pyplot as plt\n"}, "matplotlib at module level"),
    ({"curves/z.py": "def f():\n    from ftlab.widgets.w import g\n",
      "widgets/w.py": ""}, "a wing above it"),
    ({"runs/q.py": "from ftlab.chat.a import f\n", "chat/a.py": ""}, "a wing on its own level"),
    ({"tinylm/m.py": "from ftlab.runs import Run\n", "runs/run.py": ""}, "from the face"),
], ids=["cycle", "stray-ipywidgets", "module-level-matplotlib", "upward", "sideways", "face"])
def test_each_rule_fails_when_broken(tmp_path, files, expected):
    problems = check_architecture(_plant(tmp_path, files))
    assert len(problems) == 1 and expected in problems[0], problems
