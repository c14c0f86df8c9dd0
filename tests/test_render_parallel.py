import numpy as np
import pytest

from gesticulate.errors import InputError
from gesticulate.render.parallel import Aside, can_fork, render_parallel

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork (Linux/macOS)")


class Stateful:
    """A renderer whose frame depends on the keypoints and on a per-process frame counter
    (like the warp renderer's caches), to show chunks come back complete and in order."""

    def __init__(self):
        self.calls = 0

    def render(self, kp):
        self.calls += 1
        frame = np.zeros((8, 8, 3), np.uint8)
        frame[0, 0, 0] = int(kp[0, 0]) % 256
        frame[0, 0, 1] = int(kp[0, 0]) // 256
        return frame


class Failing(Stateful):
    def __init__(self, error: Exception):
        super().__init__()
        self.error = error

    def render(self, kp):
        if kp[0, 0] == 77:
            raise self.error
        return super().render(kp)


class Unpicklable(Exception):
    def __init__(self, message, handle):
        super().__init__(message)
        self.handle = handle


@pytest.mark.parametrize("n,workers,chunk", [(1, 2, 25), (60, 2, 25), (101, 3, 10), (50, 2, 7)])
def test_frames_come_back_in_order(n, workers, chunk):
    kp = np.zeros((n, 133, 3), np.float32)
    kp[:, 0, 0] = np.arange(n)
    out = list(render_parallel(Stateful(), kp, workers=workers, chunk=chunk))
    got = [int(f[0, 0, 0]) + 256 * int(f[0, 0, 1]) for f in out]
    assert got == list(range(n))


@pytest.mark.parametrize("error", [InputError("the photo has no face; use another"),
                                   ValueError("boom")])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_workers_exception_keeps_its_class_and_message(error, workers):
    kp = np.zeros((120, 133, 3), np.float32)
    kp[:, 0, 0] = np.arange(120)
    with pytest.raises(type(error)) as e:
        list(render_parallel(Failing(error), kp, workers=workers, chunk=10))
    assert type(e.value) is type(error) and str(e.value) == str(error)
    if workers > 1:  # the worker's traceback comes along as the cause
        assert "in render" in str(e.value.__cause__)


@pytest.mark.parametrize("handle", [lambda: 0, 1])  # cannot be pickled / cannot be unpickled
def test_an_exception_that_cannot_cross_processes_keeps_its_words(handle):
    kp = np.zeros((120, 133, 3), np.float32)
    kp[:, 0, 0] = np.arange(120)
    with pytest.raises(RuntimeError, match="Unpicklable: boom"):
        list(render_parallel(Failing(Unpicklable("boom", handle)), kp, workers=2, chunk=10))


@pytest.fixture(scope="module")
def procedural_with_dropouts():
    """A procedural motion on the astronaut, with points and hands dropped for a few frames
    and a wrist flung across the frame (what trackers do)."""
    from skimage.data import astronaut

    from gesticulate.audio.features import AudioFeatures
    from gesticulate.motion import get_generator
    from gesticulate.render.warp import WarpRenderer
    from gesticulate.skeleton.extract import extract_image
    import cv2

    photo = cv2.resize(astronaut(), (128, 128), interpolation=cv2.INTER_AREA)
    ref = extract_image(photo)
    t = 70
    rng = np.random.default_rng(0)
    rms = np.clip(np.sin(np.arange(t) / 4.0), 0, 1).astype(np.float32)
    feats = AudioFeatures(fps=25.0, sr=16000, duration_s=t / 25, log_mel=rng.normal(size=(t, 80)).astype(np.float32),
                          onset=rms, rms=rms, pitch_hz=np.full(t, 150, np.float32),
                          vad=(rms > 0.1).astype(np.float32), onset_frames=np.array([10, 30, 50]))
    kp = get_generator("procedural").generate(feats, ref, image_size=(128, 128), seed=3).keypoints
    kp = kp.copy()
    kp[20:24, :, 2] = 0.0                     # everything lost for 4 frames
    kp[30:45, 23:91, 2] = 0.0                 # the face lost
    kp[40:42, 9, :2] = [127.0, 0.0]           # a wrist flung to the corner
    kp[50:53, 91:133, 2] = 0.0                # the hands lost
    # One process, one renderer, the frames drawn in a shuffled order: a frame that read
    # anything an earlier one left (easing, a cache) would differ from the workers' in-order
    # chunks. (A fresh renderer per frame proved the same at 0.35 s of set-up a frame.)
    renderer, one = WarpRenderer(photo, ref), [None] * len(kp)
    for i in np.random.default_rng(1).permutation(len(kp)):
        one[i] = renderer.render(kp[i])
    return photo, ref, kp, one


@pytest.mark.parametrize("workers", [2, 3])
def test_warp_frames_identical_whatever_the_workers(procedural_with_dropouts, workers):
    """Each frame is a function of its target alone: no easing state or cache carried from
    one chunk to the next, so any number of render processes gives the same bytes."""
    from gesticulate.render.warp import WarpRenderer

    photo, ref, kp, one = procedural_with_dropouts
    many = list(render_parallel(WarpRenderer(photo, ref), kp, workers=workers, chunk=9))
    assert len(many) == len(one)
    for i, (a, b) in enumerate(zip(one, many)):
        np.testing.assert_array_equal(a, b, err_msg=f"frame {i}")


def test_pipeline_frames_identical_whatever_the_workers(procedural_with_dropouts):
    """The same through the pipeline (retargeting, then rendering) for 1, 2 and 3 workers."""
    from gesticulate.pipeline import GeneratePipeline
    from gesticulate.skeleton.sequence import SkeletonSequence

    photo, ref, kp, _ = procedural_with_dropouts
    seq = SkeletonSequence(kp, 25.0, (128, 128))
    runs = [list(GeneratePipeline(render_workers=w, size=128).frames(photo, ref, seq))
            for w in (1, 2, 3)]
    for other in runs[1:]:
        assert len(other) == len(runs[0])
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


def _in_daemon(q):
    kp = np.zeros((60, 133, 3), np.float32)
    kp[:, 0, 0] = np.arange(60)
    out = list(render_parallel(Stateful(), kp, workers=2, chunk=10))
    q.put([int(f[0, 0, 0]) for f in out])


def test_daemonic_process_renders_in_place():
    """The web app's job workers are daemonic and may not fork children of their own."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_in_daemon, args=(q,), daemon=True)
    p.start()
    assert q.get(timeout=60) == list(range(60))
    p.join(timeout=10)


def _pid_and_square(x):
    import os
    return os.getpid(), x * x


def _raise(error):
    raise error


def _sleep_long():
    import time
    time.sleep(60)


def test_aside_runs_on_another_process_and_returns():
    import os
    with Aside(_pid_and_square, np.arange(4)) as job:
        pid, value = job.result()
        assert job.result()[0] == pid             # asked twice: one run
    assert pid != os.getpid()
    np.testing.assert_array_equal(value, [0, 1, 4, 9])


@pytest.mark.parametrize("error", [InputError("the audio is silent; record someone"),
                                   ValueError("boom")])
def test_aside_raises_what_its_job_raised(error):
    with pytest.raises(type(error)) as e:
        with Aside(_raise, error) as job:
            job.result()
    assert type(e.value) is type(error) and str(e.value) == str(error)


def test_leaving_an_aside_early_stops_its_process():
    """An error before the result is wanted (a photo with no person) must not leave the
    background job running."""
    import multiprocessing as mp
    import time
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="the photo failed"):
        with Aside(_sleep_long):
            raise RuntimeError("the photo failed")
    assert time.perf_counter() - t0 < 10
    assert not [p for p in mp.active_children() if p.is_alive()]


def _aside_in_daemon(q):
    import os
    with Aside(_pid_and_square, 3) as job:
        pid, value = job.result()
    q.put((pid == os.getpid(), value))


def test_aside_in_a_daemonic_process_runs_in_place():
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_aside_in_daemon, args=(q,), daemon=True)
    p.start()
    assert q.get(timeout=60) == (True, 9)
    p.join(timeout=10)


class _Handle:
    def __reduce__(self):
        raise TypeError("a handle cannot be pickled")


def _unpicklable_result():
    return _Handle()


def test_an_aside_result_that_cannot_cross_says_so():
    """The child's queue would drop it silently, and the parent report a process that died."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        with Aside(_unpicklable_result) as job:
            job.result()


def test_pipeline_forks_the_analysis_while_warm_or_once_while_cold(monkeypatch):
    """A cold child reloads torch and librosa each time (3 s): after the first, the analysis
    runs in place once, which loads them for the calls that follow."""
    import sys
    from gesticulate import pipeline as P
    monkeypatch.setattr(P, "_COLD_ASIDES", [0])
    modules = dict(sys.modules)
    for name in ("torch", "librosa", "pocketsphinx"):
        modules.pop(name, None)
    monkeypatch.setattr(sys, "modules", modules)
    assert [P._analysis_aside() for _ in range(3)] == [True, False, False]
    modules["torch"] = modules["librosa"] = object()
    assert P._analysis_aside(phones=False) and not P._analysis_aside(phones=True)
    modules["pocketsphinx"] = object()              # ... and the phones' decoder
    assert P._analysis_aside(phones=True)


def test_the_phones_are_recognised_beside_the_photo_and_reach_the_motion(monkeypatch, tmp_path):
    """The phones run in the audio's aside, after its features; what they found reaches the
    motion generator in this process."""
    import os

    from skimage.data import astronaut

    from gesticulate import pipeline as P
    from gesticulate.audio import phones

    class Stop(Exception):
        pass

    found = []

    def recognised(y, *, sr, transcript=None):
        return [("AA", 0.1, 0.2), ("pid", float(os.getpid()), 0.0)]

    def motion(self, features, reference, *, phone_timings=None, **kwargs):
        found.append(phone_timings)
        raise Stop

    monkeypatch.setattr(phones, "recognize_phones", recognised)
    monkeypatch.setattr(P, "_analysis_aside", lambda phones=True: True)
    monkeypatch.setattr(P.GeneratePipeline, "generate_motion", motion)
    t = np.arange(32000) / 16000
    talk = (0.3 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)
    with pytest.raises(Stop):
        P.GeneratePipeline(size=128, renderer="pose")(audio=(talk, 16000), image=astronaut(),
                                                      output=tmp_path / "o.mp4", progress=False)
    phone, pid = found[0]
    assert phone == ("AA", 0.1, 0.2) and pid[1] != os.getpid()
    assert not (tmp_path / "o.mp4").exists()


def _progress_bar():
    import io

    import tqdm
    for _ in tqdm.tqdm(range(3), file=io.StringIO()):
        pass


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_a_child_forked_while_a_thread_holds_the_progress_lock_does_not_hang():
    """tqdm's monitor thread takes the progress bars' lock now and then; a child forked at
    that moment inherited the lock held, and hung at its first bar (`gesticulate generate`'s
    audio analysis did, once, in CI)."""
    import multiprocessing as mp
    import threading

    import tqdm

    from gesticulate.render.parallel import _start_forked
    lock = tqdm.tqdm.get_lock()
    held, release = threading.Event(), threading.Event()

    def hold():
        with lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    child = mp.get_context("fork").Process(target=_progress_bar)
    try:
        _start_forked([child])
    finally:
        release.set()                 # the parent's thread lets go, as the monitor does
        holder.join()
    child.join(30)
    hung = child.is_alive()
    if hung:
        child.kill()
        child.join()
    assert not hung and child.exitcode == 0


_KILLED_HOLDER = """
import multiprocessing as mp, os, signal, time
from tqdm import tqdm
from gesticulate.render.parallel import Aside
tqdm.get_lock()                      # the session's bars' lock exists before any fork
def hold():                          # a child killed while it holds that lock
    tqdm.get_lock().acquire()
    time.sleep(60)
p = mp.get_context("fork").Process(target=hold)
p.start()
time.sleep(1.0)
os.kill(p.pid, signal.SIGKILL)
p.join()
def bar():
    with tqdm(total=3, disable=True) as b:
        b.update(3)
    return "drawn"
with Aside(bar) as a:
    print(a.result())
"""


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_a_child_killed_holding_the_progress_lock_does_not_hang_the_next():
    """tqdm's process lock is a semaphore every forked process shared: a child killed while it
    held it (a worker stopped on an error) left it held, and the next forked child hung at its
    first progress bar (the suite's generate once waited 10 minutes on its audio analysis).
    Each forked child now makes its own."""
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-c", _KILLED_HOLDER], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "drawn", p.stderr


def _pool_threads():
    from threadpoolctl import threadpool_info
    return {p["internal_api"]: p["num_threads"] for p in threadpool_info()}


class PoolThreads(Stateful):
    """A renderer whose frame holds the most threads any numerical pool of its process has."""

    def render(self, kp):
        frame = np.zeros((8, 8, 3), np.uint8)
        frame[0, 0, 0] = max(_pool_threads().values(), default=1)
        return frame


def test_workers_and_asides_run_the_numerical_pools_on_one_thread():
    """A forked worker has one core; its BLAS/OpenMP pool would spin threads on the others
    (on 2 cores it made rendering 1.5x slower)."""
    from threadpoolctl import threadpool_limits
    np.ones((64, 64)) @ np.ones((64, 64))        # the BLAS pool loaded here
    with threadpool_limits(2):                   # ... and several threads wide, as on 2 cores
        frames = list(render_parallel(PoolThreads(), np.zeros((60, 133, 3)), workers=2,
                                      chunk=10))
        assert {int(f[0, 0, 0]) for f in frames} == {1}
        with Aside(_pool_threads) as job:
            assert set(job.result().values()) <= {1}



def test_single_threaded_runs_the_pools_on_one_thread_and_puts_them_back():
    import cv2
    from threadpoolctl import threadpool_limits

    from gesticulate.render.parallel import single_threaded
    np.ones((64, 64)) @ np.ones((64, 64))        # the BLAS pool loaded here
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(3)
        with threadpool_limits(2):
            with single_threaded():
                assert cv2.getNumThreads() == 1 and set(_pool_threads().values()) == {1}
                with single_threaded():
                    pass
                assert cv2.getNumThreads() == 1
            assert cv2.getNumThreads() == 3
            with pytest.raises(ValueError):
                with single_threaded():
                    raise ValueError("boom")
            assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)


_PARENTS_GARBAGE = """
import gc
import av
import numpy as np
from gesticulate.render.parallel import render_parallel

class Collecting:
    def render(self, kp):
        gc.collect()                 # what an allocation in a worker may set off
        return np.zeros((4, 4, 3), np.uint8)

def resampler_garbage():
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 4800), np.float32), format="flt",
                                       layout="mono")
    frame.sample_rate = 48000
    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
    resampler.resample(frame)        # its filter graph, with slice threads
    loop = [resampler]
    loop.append(loop)                # only the cyclic collector frees it

gc.disable()
resampler_garbage()
print(len(list(render_parallel(Collecting(), np.zeros((60, 133, 3)), workers=2, chunk=10))))
"""


def test_a_worker_leaves_the_parents_garbage_alone():
    """A render worker that collected its parent's garbage freed a PyAV filter graph whose
    threads it does not have, and hung for good (the test suite's reenactment, once)."""
    import os
    import signal
    import subprocess
    import sys
    job = subprocess.Popen([sys.executable, "-c", _PARENTS_GARBAGE], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = job.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)       # its hung workers too
        job.communicate()
        pytest.fail("a render worker hung freeing its parent's garbage")
    assert job.returncode == 0, err
    assert out.split()[-1] == "60"
