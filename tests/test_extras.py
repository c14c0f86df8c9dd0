"""Optional extras: the core install generates without them, and a command that needs one
says which ``pip install 'gesticulate[EXTRA]'`` to run (exit status 2, no traceback).

A module is made "not installed" by a ``None`` entry in ``sys.modules``, which makes its
import raise ``ModuleNotFoundError`` as a missing package does.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from gesticulate.cli import main
from gesticulate.errors import MissingExtraError
from gesticulate.extras import pyplot, require

# Top-level modules of the web, eval and ray extras (matplotlib is not here: MediaPipe, a core
# dependency, requires it itself).
EXTRA_MODULES = ("starlette", "uvicorn", "python_multipart", "multipart", "dlib",
                 "face_recognition_models", "pkg_resources", "ray", "transformers")


def _missing(monkeypatch, *modules: str) -> None:
    for m in modules:
        monkeypatch.setitem(sys.modules, m, None)


def test_require_names_the_extra(monkeypatch):
    _missing(monkeypatch, "uvicorn")
    with pytest.raises(MissingExtraError, match=r"the web app needs the web extra: "
                                                r"pip install 'gesticulate\[web\]'"):
        require("uvicorn", extra="web", what="the web app")
    assert require("numpy", extra="web", what="x") is np


def test_require_lets_other_import_errors_through(monkeypatch, tmp_path):
    (tmp_path / "broken_ext.py").write_text("raise ImportError('undefined symbol: foo')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError, match="undefined symbol") as e:
        require("broken_ext", extra="eval", what="x")
    assert not isinstance(e.value, MissingExtraError)


@pytest.mark.parametrize("module", ["starlette", "uvicorn", "python_multipart"])
def test_serve_without_web_extra(monkeypatch, capsys, module):
    _missing(monkeypatch, module)
    assert main(["serve", "--port", "1"]) == 2  # refused before the port is even looked at
    err = capsys.readouterr().err
    assert "pip install 'gesticulate[web]'" in err and "Traceback" not in err


@pytest.mark.parametrize("module", ["dlib", "face_recognition_models", "pkg_resources"])
def test_identity_without_eval_extra(monkeypatch, module):
    from gesticulate.metrics.identity import FaceEmbedder
    monkeypatch.delitem(sys.modules, "face_recognition_models", raising=False)  # imported afresh
    _missing(monkeypatch, module)
    with pytest.raises(MissingExtraError, match=r"identity similarity needs the eval extra: "
                                                r"pip install 'gesticulate\[eval\]'"):
        FaceEmbedder()


def test_evaluate_notes_identity_without_eval_extra(monkeypatch):
    from gesticulate.evaluate.run import _embedder
    _missing(monkeypatch, "dlib")
    notes = []
    assert _embedder(notes) is None
    assert notes and "gesticulate[eval]" in notes[0]


def test_report_plots_without_eval_extra(monkeypatch):
    _missing(monkeypatch, "matplotlib", "matplotlib.pyplot")
    with pytest.raises(MissingExtraError, match=r"gesticulate\[eval\]"):
        pyplot(what="the QC histograms of a dataset report")


def test_ray_engine_without_ray_extra(monkeypatch):
    from gesticulate.data.engines import run_tasks
    _missing(monkeypatch, "ray")
    with pytest.raises(MissingExtraError, match=r"--engine ray needs the ray extra: "
                                                r"pip install 'gesticulate\[ray\]'"):
        list(run_tasks(abs, [(-1,)], workers=1, engine="ray"))


def test_generate_without_any_extra(tmp_path):
    """``generate`` in a fresh interpreter where none of the extras' modules can be imported."""
    from skimage.data import astronaut
    from web.live import speechlike
    sf.write(tmp_path / "speech.wav", speechlike(1.5), 16000)
    Image.fromarray(astronaut()).save(tmp_path / "person.png")
    code = textwrap.dedent(f"""
        import sys
        for m in {EXTRA_MODULES!r}:
            sys.modules[m] = None
        from gesticulate.cli import main
        sys.exit(main(["-q", "generate", "--audio", "speech.wav", "--image", "person.png",
                       "--output", "o.mp4", "--size", "128"]))
    """)
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "o.mp4").stat().st_size > 0


def test_audio_encoder_without_encoder_extra(monkeypatch, capsys, tmp_path):
    from gesticulate.data.synthetic import make_synthetic_dataset
    data = make_synthetic_dataset(tmp_path / "ds", num_speakers=3, clips_per_speaker=1,
                                  seconds=2.0, seed=0)
    (tmp_path / "enc").mkdir()
    (tmp_path / "enc" / "config.json").write_text('{"model_type": "wav2vec2"}')
    _missing(monkeypatch, "transformers")
    assert main(["--quiet", "train", "--dataset", str(data), "--output", str(tmp_path / "run"),
                 "--steps", "1", "--audio-encoder", str(tmp_path / "enc")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'gesticulate[encoder]'" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())

