"""Shared fixtures: the real sample data in ../shared/data (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skips the test, saying what is missing, when it is not there."""
    if not DATA.is_dir():
        pytest.skip(f"needs the real sample data (video, audio, photo, poses, mocap): the folder "
                    f"{DATA} does not exist; it is the project's shared/data, laid beside the "
                    "repository in the dev workspace and in CI")
    return DATA


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny torch models run faster on one thread than on two busy shared cores; restored after."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
