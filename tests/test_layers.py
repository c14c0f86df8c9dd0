"""Layers only look down: ``skeleton`` never loads ``formats`` (which imports ``skeleton``), and
the modules on either side of that line import first in a fresh interpreter."""

import subprocess
import sys

import pytest

# Every module of the skeleton layer that imports without mediapipe's models being loaded.
SKELETON = ("layout", "sequence", "openpose_body", "draw", "normalize", "tracks", "retarget",
            "clean", "mediapipe_map")


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_skeleton_layer_loads_no_formats_module():
    imports = "; ".join(f"import gesticulate.skeleton.{m}" for m in SKELETON)
    loaded = _run(f"import sys; {imports}; "
                  "print(' '.join(m for m in sys.modules if m.startswith('gesticulate.formats')))")
    assert loaded.split() == []


@pytest.mark.parametrize("first", ["gesticulate.skeleton.draw", "gesticulate.formats",
                                   "gesticulate.formats.openpose", "gesticulate.formats.posemap",
                                   "gesticulate.formats.export"])
def test_either_side_imports_first(first):
    _run(f"import {first}; import gesticulate.skeleton.draw, gesticulate.formats.export")
