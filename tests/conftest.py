"""Shared fixtures: the real sample data in ../shared/data (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skips the test with a reason when it is not there."""
    if not DATA.is_dir():
        pytest.skip(f"real sample data not found at {DATA} (only present in the dev workspace)")
    return DATA
