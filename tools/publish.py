"""Point every Colab link and install cell of the course at another repository (for a fork).

    python tools/publish.py OWNER/REPO [--branch BRANCH]

The course's repository is one setting, ``REPO`` and ``BRANCH`` in ``ftlab/course/facts.py``. The
notebooks' "Open in Colab" badges, their Colab setup cells (``pip install git+...``) and the
README's links are text made from it; this script rewrites the setting and all of that text
together, so a course author who forks the project publishes it under their own name in one step.
``tests/test_publish.py`` checks that the notebooks and the README agree with the setting.
"""

import argparse
import re
import sys
from pathlib import Path

REPO_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$")
SETTING = re.compile(r'^(REPO|BRANCH) = "([^"]*)"$', re.MULTILINE)


def read_setting(facts_text):
    """(repo, branch) as ``facts.py`` sets them."""
    found = dict(SETTING.findall(facts_text))
    return found["REPO"], found["BRANCH"]


def rewrite(text, old, new):
    """``text`` with every link to repository/branch ``old`` pointing at ``new`` instead."""
    (old_repo, old_branch), (new_repo, new_branch) = old, new
    text = text.replace(f"github/{old_repo}/blob/{old_branch}/", f"github/{new_repo}/blob/{new_branch}/")
    text = text.replace(f"github.com/{old_repo}@{old_branch}", f"github.com/{new_repo}@{new_branch}")
    return text.replace(f"github.com/{old_repo}", f"github.com/{new_repo}")


def publish(root, repo, branch):
    """Rewrite the setting and every notebook and README link under ``root``; return changed files."""
    facts = root / "ftlab" / "course" / "facts.py"
    facts_text = facts.read_text(encoding="utf-8")
    old = read_setting(facts_text)
    facts_text = SETTING.sub(lambda m: f'{m.group(1)} = "{repo if m.group(1) == "REPO" else branch}"',
                             facts_text)
    changed = []
    for path in [facts, root / "README.md", *sorted((root / "notebooks").glob("*.ipynb"))]:
        before = path.read_text(encoding="utf-8")
        after = facts_text if path == facts else rewrite(before, old, (repo, branch))
        if after != before:
            path.write_text(after, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", help="the fork on GitHub, as OWNER/REPO")
    parser.add_argument("--branch", default="main", help="the branch Colab opens (default: main)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help=argparse.SUPPRESS)  # the tests publish a copy of the course
    args = parser.parse_args(argv)
    if not REPO_NAME.match(args.repo) or not re.fullmatch(r"[\w./-]+", args.branch):
        print(f"publish: {args.repo!r} is not a GitHub repository name; give OWNER/REPO, "
              "e.g. my-school/ftlab", file=sys.stderr)
        return 2
    for path in publish(args.root, args.repo, args.branch):
        print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
