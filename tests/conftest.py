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


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny torch models run faster on one thread than on two busy shared cores; restored after."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
