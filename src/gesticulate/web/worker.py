"""The worker process: runs one generation at a time for the server, isolated from it.

A worker is a separate OS process (``multiprocessing`` with the ``spawn`` start method, so it
inherits none of the server's threads or sockets). It talks to its supervisor over a pipe in
JSON only (``send_bytes``/``recv_bytes``; nothing is ever unpickled from a message). If a
decoder crashes, memory runs out or the process is killed, only the job in it fails; the
supervisor (:mod:`gesticulate.web.jobs`) starts a replacement.

Messages, worker → server: ``ready``, ``progress`` (stage, fraction of the whole job),
``preview`` (a file became available), ``done`` (output names), ``failed`` (message).
Server → worker: a job spec (``id``, ``dir``, ``audio`` or ``text``, ``image``, ``options``,
``max_audio_s``, ``max_image_pixels``), or ``stop``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import tempfile
import threading
import time
import traceback
import zipfile
from pathlib import Path

from gesticulate.errors import GesticulateError, InputError

log = logging.getLogger("gesticulate.web")

OUTPUTS = {  # fixed output names in a job's folder -> what they are
    "video.mp4": "video",
    "motion.npz": "skeleton .npz",
    "overlay.png": "skeleton overlay preview",
    "pose.mp4": "pose-map video (ControlNet / MimicMotion style)",
    "openpose.zip": "OpenPose JSON per frame",
    "style.txt": "the gesture style used, and why",
}
# Where each pipeline stage sits in the whole job (start, end), for one progress bar.
_SPAN = {"audio": (0.0, 0.1), "photo": (0.1, 0.2), "motion": (0.2, 0.3),
         "render": (0.3, 0.85), "done": (0.85, 0.85), "export": (0.85, 1.0)}
_PREVIEW_FRAMES = 4


def worker_main(conn, warmup: bool = True, threads: int = 1) -> None:
    """Entry point of a worker process: serve jobs from ``conn`` until told to stop.

    ``threads`` caps the math libraries' thread pools, set before numpy or torch is imported,
    so N workers share the cores instead of each spawning one thread per core.
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's; it stops us
    _exit_with_parent()
    send = _sender(conn)
    if warmup:
        _warmup()
        release_memory()
    send(type="ready", pid=os.getpid())
    while True:
        try:
            msg = json.loads(conn.recv_bytes().decode())
        except (EOFError, OSError):
            return  # the server went away
        if msg.get("type") == "stop":
            return
        _run_and_report(msg, send)


def _sender(conn):
    lock = threading.Lock()

    def send(**msg) -> None:
        with lock:
            conn.send_bytes(json.dumps(msg).encode())
    return send


def _exit_with_parent() -> None:
    """Exit when the server process dies, even mid-job (no orphaned work)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _run_and_report(spec: dict, send) -> None:
    job = spec.get("id", "?")
    try:
        outputs = run_job(spec, report=lambda stage, frac: send(
            type="progress", job=job, stage=stage, fraction=frac))
    except GesticulateError as e:
        send(type="failed", job=job, error=str(e))
    except MemoryError:
        send(type="failed", job=job, error="the job ran out of memory; try a smaller size or "
                                           "shorter audio")
    except Exception as e:  # noqa: BLE001 - report, keep the worker alive for the next job
        log.error("job %s failed with an internal error:\n%s", job, traceback.format_exc())
        send(type="failed", job=job, error=f"internal error ({type(e).__name__}: {e}); this is a "
                                           "bug in gesticulate, the server log has the details")
    else:
        send(type="done", job=job, outputs=outputs)
    finally:
        release_memory()


def release_memory() -> None:
    """Give freed heap back to the OS after a job.

    glibc keeps freed blocks in its arenas, so a worker's resident memory would stay at the
    high-water mark of its largest job (measured: +330 MB over 12 tiny jobs, flat at the
    warm-up level with ``malloc_trim``). Not a leak, but it looks like one to the operator.
    """
    import ctypes
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        pass


def run_job(spec: dict, *, report) -> list[str]:
    """Run one job in its folder; returns the names of the outputs written there.

    ``report(stage, fraction)`` receives progress as a fraction of the whole job.
    """
    from gesticulate.image import load_image
    from gesticulate.pipeline import GenerateOptions, GeneratePipeline
    folder = Path(spec["dir"])
    report("audio", 0.0)
    audio = _load_speech(spec, folder)
    report("photo", _SPAN["photo"][0])
    photo = load_image(folder / spec["image"], max_pixels=int(spec["max_image_pixels"]))
    pipe = GeneratePipeline(GenerateOptions(**spec["options"]))

    def on_progress(stage: str, frac: float) -> None:
        lo, hi = _SPAN.get(stage, (0.0, 0.0))
        report(stage, lo + (hi - lo) * float(frac))
    result = pipe(audio=audio, image=photo, output=folder / "video.mp4",
                  motion_output=folder / "motion.npz", progress=False, on_progress=on_progress)
    report("export", _SPAN["export"][0])
    if result.style:
        _atomic_save(lambda p: Path(p).write_text(result.style + "\n"), folder / "style.txt")
    write_overlay(folder / "overlay.png", photo, result.motion.keypoints,
                  size=result.motion.image_size)
    _export_pose(folder)
    report("export", 1.0)
    return [name for name in OUTPUTS if (folder / name).is_file()]


def _load_speech(spec: dict, folder: Path):
    """(samples, sr) of the uploaded recording or of the typed text spoken by eSpeak NG."""
    from gesticulate.audio.io import AUDIO_SR, load_audio
    sr = AUDIO_SR
    if spec.get("text"):
        from gesticulate.audio.tts import synthesize
        y, sr = synthesize(spec["text"])
    else:
        y = load_audio(folder / spec["audio"], sr=sr)
    seconds = len(y) / sr
    if seconds > float(spec["max_audio_s"]):
        what = "the spoken text" if spec.get("text") else "the audio"
        raise InputError(f"{what} lasts {seconds:.0f} s; the limit here is "
                         f"{float(spec['max_audio_s']):.0f} s. Make it shorter")
    return y, sr


def write_overlay(path: Path, photo, keypoints, *, size: tuple[int, int]) -> None:
    """A strip of a few frames' skeletons drawn over the photo (PNG), written atomically.

    Parameters
    ----------
    photo : (H, W, 3) uint8 RGB, any size; resized to ``size``.
    keypoints : (T, 133, 3) in pixels of ``size``.
    size : (width, height) of the motion's frame.
    """
    import numpy as np
    from PIL import Image
    from gesticulate.image import resize_to
    from gesticulate.skeleton.draw import draw_skeleton
    base = resize_to(photo, tuple(size))
    picks = np.linspace(0, len(keypoints) - 1, _PREVIEW_FRAMES).round().astype(int)
    tiles = []
    for t in picks:
        canvas = np.ascontiguousarray((base * 0.6).astype(np.uint8))  # dim the photo
        tiles.append(draw_skeleton(canvas, keypoints[t]))
    _atomic_save(lambda p: Image.fromarray(np.concatenate(tiles, axis=1)).save(p, format="PNG"),
                 path)


def _export_pose(folder: Path) -> None:
    """Pose-map video and an OpenPose JSON zip from the motion npz (gesticulate.formats)."""
    from gesticulate.formats.export import export
    export(folder / "motion.npz", format="posemap-video", output=folder / "pose.mp4",
           progress=False)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".openpose.") as tmp:
        out = export(folder / "motion.npz", format="openpose-json",
                     output=Path(tmp) / "openpose", progress=False)

        def write_zip(p):
            with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(Path(out).iterdir()):
                    z.write(f, arcname=f"openpose/{f.name}")
        _atomic_save(write_zip, folder / "openpose.zip")


def _atomic_save(write, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _warmup() -> None:
    """Load models and compile kernels once, so the first user's job is as fast as the rest."""
    from skimage.data import astronaut
    from gesticulate.audio.tts import synthesize
    from gesticulate.pipeline import GenerateOptions, GeneratePipeline
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="gesticulate-warmup-") as tmp:
            pipe = GeneratePipeline(GenerateOptions(size=64))
            pipe(audio=synthesize("Hello there."), image=astronaut(),
                 output=Path(tmp) / "w.mp4", progress=False)
    except Exception as e:  # noqa: BLE001 - a failed warm-up only costs the first job time
        log.warning("worker warm-up failed (%s: %s); continuing", type(e).__name__, e)
    log.info("worker %d warmed up in %.1f s", os.getpid(), time.perf_counter() - t0)
