"""Shared fixtures. The real recorded runs live outside the repository in ../shared/recorded/."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECORDED = Path(os.environ.get("FTLAB_RECORDED", ROOT.parent / "shared" / "recorded"))


@pytest.fixture
def recorded():
    """Folder of the original recorded runs; tests that need it are skipped when it is absent."""
    if not RECORDED.is_dir():
        pytest.skip(f"recorded runs not found at {RECORDED} (set FTLAB_RECORDED to their folder)")
    return RECORDED
