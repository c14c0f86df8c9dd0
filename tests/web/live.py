"""A real ``gesticulate serve`` app on 127.0.0.1 in a background thread, and test inputs."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import numpy as np
import requests
import soundfile as sf
from PIL import Image

SR = 16000


def speechlike(seconds: float, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    """Syllable-like bursts of a harmonic tone with pauses (as tests/test_cli.py)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = (np.sin(2 * np.pi * 4 * t) > 0.2).astype(float) * (np.sin(2 * np.pi * 0.35 * t) > -0.5)
    return (0.3 * voice * env + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def make_inputs(folder) -> dict:
    """speech.wav (1.5 s), person.png (the astronaut photo), notaudio.wav (a PNG)."""
    from skimage.data import astronaut
    sf.write(folder / "speech.wav", speechlike(1.5), SR)
    Image.fromarray(astronaut()).resize((256, 256)).save(folder / "person.png")
    (folder / "notaudio.wav").write_bytes((folder / "person.png").read_bytes())
    return {"audio": folder / "speech.wav", "image": folder / "person.png",
            "notaudio": folder / "notaudio.wav"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """Uvicorn serving :func:`gesticulate.web.create_app` in a thread; ``.url``, ``.manager``."""

    def __init__(self, **config) -> None:
        import uvicorn
        from gesticulate.web import create_app
        config.setdefault("warmup", False)
        self.app = create_app(**config)
        self.manager = self.app.manager
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def wait_ready(self, workers: int | None = None, timeout: float = 120) -> None:
        want = workers or len(self.manager.slots)
        deadline = time.monotonic() + timeout
        while self.manager.health()["workers_ready"] < want:
            assert time.monotonic() < deadline, "workers did not become ready"
            time.sleep(0.1)

    def submit(self, audio=None, image=None, text=None, **settings) -> requests.Response:
        data = {"size": "64", "renderer": "pose", "phones": "0", **settings}
        if text is not None:
            data["text"] = text
        with contextlib.ExitStack() as stack:
            files = {}
            if audio is not None:
                files["audio"] = (getattr(audio, "name", "a.wav"), stack.enter_context(open(audio, "rb")))
            if image is not None:
                files["image"] = (getattr(image, "name", "p.png"), stack.enter_context(open(image, "rb")))
            return requests.post(f"{self.url}/api/jobs", data=data, files=files, timeout=60)

    def wait(self, job_id: str, timeout: float = 180, until=("done", "failed", "cancelled")) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            s = requests.get(f"{self.url}/api/jobs/{job_id}", timeout=10).json()
            if s["state"] in until:
                return s
            assert time.monotonic() < deadline, f"job stuck: {s}"
            time.sleep(0.2)
