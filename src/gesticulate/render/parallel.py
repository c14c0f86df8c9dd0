"""Frame-by-frame rendering on several cores.

The warp renderer runs one frame on one core, and the encoder needs cores too; on a 2-core
laptop that leaves half the machine idle. :func:`render_parallel` forks worker processes
that inherit the renderer already built for the photo (no second set-up, no re-import),
hands them chunks of frames in turn (worker ``i`` renders chunks ``i, i + W, i + 2W, ...``),
and yields the frames back in order. Each worker may run at most ``ahead`` chunks in front of
the consumer, so memory is bounded by ``W * ahead * chunk`` frames whatever the video's length.

Renderers here keep no state between frames that changes what they draw (the warp renderer
reuses a layer only when its rounded inputs are identical), so the frames are the same bytes
whatever the number of workers (tested with 1, 2 and 3 on motion with dropouts).

An exception in a worker is raised in the parent as it was raised in the worker, same class
and message (an :class:`~gesticulate.errors.InputError` stays one, so the CLI prints it as a
user error), with the worker's traceback attached as its cause, as
:mod:`concurrent.futures` does.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import os
import pickle
import queue as queue_mod
import traceback
from typing import Iterator

import numpy as np

CHUNK = 25       # frames per chunk (1 s at 25 fps)
AHEAD = 2        # chunks a worker may render ahead of the consumer


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


def _may_fork() -> bool:
    """Whether children may be forked here: not without ``fork``, nor in a daemonic process
    (the web app's job workers, which may not have children and already share the cores)."""
    return can_fork() and not mp.current_process().daemon


def _fresh_progress_locks() -> None:
    """In a forked child: new locks for tqdm's progress bars, its own.

    - The thread lock: tqdm's monitor thread takes it every few seconds; a child forked while
      it held the lock inherits it held by a thread the child does not have, and hung at its
      first progress bar (seen once in ``gesticulate generate``'s audio analysis, forked beside
      the photo's set-up).
    - The process lock (a semaphore shared by every process forked from the one that made
      it): a child killed while it held it (a render worker or a job stopped on an error)
      left it held for good, and every later child hung at its first progress bar (the test
      suite's ``generate`` once waited 10 minutes on its audio analysis). A child's bars
      interleave with nobody's that its own lock does not cover."""
    try:
        from tqdm import std
    except ImportError:     # pragma: no cover - tqdm is a dependency
        return
    std.TqdmDefaultWriteLock.th_lock = std.TRLock()
    try:
        std.TqdmDefaultWriteLock.mp_lock = mp.RLock()
    except OSError:         # pragma: no cover - no semaphores here: the thread lock alone
        std.TqdmDefaultWriteLock.mp_lock = None
    classes = [std.tqdm]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if "_lock" in vars(cls):
            cls.set_lock(std.TqdmDefaultWriteLock())


os.register_at_fork(after_in_child=_fresh_progress_locks)


@contextlib.contextmanager
def single_threaded():
    """OpenCV's and the numerical libraries' (OpenBLAS, OpenMP) thread pools on one thread
    inside the block, as they were after it, for forking workers (:func:`_start_forked`).
    The settings are the process's: not for blocks that overlap in two threads. (Around the
    warp renderer's set-up, whose backdrop fill runs on a second thread, it made that fill
    differ from one build to the next: not used there.)"""
    import cv2
    from threadpoolctl import threadpool_limits
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        cv2.setNumThreads(threads)


def _start_forked(procs) -> None:
    """Start forked processes, one core each: forked while this process runs OpenCV's and
    the numerical libraries' pools on one thread (:func:`single_threaded`), which they
    inherit. OpenCV's pool does not survive a fork (a child that touches it hangs). A
    BLAS pool of several threads in a render worker spun them on ``sched_yield`` between a
    frame's small matrix products, stealing the cores the other workers and the encoder need:
    on 2 cores, 60 s of speech at 512 px, rendering alone took 15.7 s with it and 10.5 s
    without, and 4.5 s of system time fell to 0.3 s.

    This process's objects are frozen for the children (``gc.freeze``): their cyclic
    collector leaves them be. A render worker in the test suite collected this process's
    garbage, found in it a PyAV filter graph (an audio resampler's) whose slice threads it
    does not have, and hung for good freeing it. (Collecting here first instead costs 0.17 s
    in a process that has built a renderer; freezing costs nothing.)"""
    gc.freeze()
    try:
        with single_threaded():
            for p in procs:
                p.start()
    finally:
        gc.unfreeze()


def default_workers() -> int:
    """Render processes worth starting here: one per core, at most 4, 1 on a single core."""
    return max(1, min(4, os.cpu_count() or 1))


class _WorkerTraceback(Exception):
    """The traceback of an exception raised in a render worker, as text."""

    def __str__(self) -> str:
        return "\n\n" + self.args[0]


class _Failure:
    """A worker's exception on its way to the parent, with the worker's traceback."""

    def __init__(self, error: BaseException) -> None:
        tb = "".join(traceback.format_exception(error))
        try:  # the queue pickles in a feeder thread and the parent unpickles: fail here instead
            pickle.loads(pickle.dumps(error))
        except Exception:  # noqa: BLE001 - any exception that cannot cross: keep its words
            error = RuntimeError(f"{type(error).__name__}: {error}")
        self.error, self.traceback = error, tb

    def raise_it(self):
        raise self.error from _WorkerTraceback(self.traceback)


def _worker(renderer, keypoints: np.ndarray, index: int, workers: int, chunk: int, out,
            then) -> None:
    try:
        for start in range(index * chunk, len(keypoints), workers * chunk):
            for kp in keypoints[start:start + chunk]:
                out.put(then(renderer.render(kp)))
        out.put(None)
    except BaseException as e:  # noqa: BLE001 - sent to the parent, which raises it
        out.put(_Failure(e))


def render_parallel(renderer, keypoints: np.ndarray, *, workers: int,
                    chunk: int = CHUNK, ahead: int = AHEAD, then=None) -> Iterator[np.ndarray]:
    """Yield ``then(renderer.render(kp))`` for each row of ``keypoints`` ``(T, 133, 3)``, in
    order. ``then`` runs in the worker (e.g. :func:`gesticulate.video.to_i420`, which halves
    the bytes each frame costs to send back).

    With ``workers <= 1``, on a platform without ``fork``, in a daemonic process (the web app's
    job workers, which may not have children and already share the cores), or for a clip of
    one chunk or less, frames are rendered in this process.
    """
    keypoints = np.asarray(keypoints)
    then = then or (lambda frame: frame)
    if workers <= 1 or len(keypoints) <= chunk or not _may_fork():
        for kp in keypoints:
            yield then(renderer.render(kp))
        return
    ctx = mp.get_context("fork")
    queues = [ctx.Queue(maxsize=ahead * chunk) for _ in range(workers)]
    procs = [ctx.Process(target=_worker, args=(renderer, keypoints, i, workers, chunk, q, then),
                         daemon=True) for i, q in enumerate(queues)]
    _start_forked(procs)
    try:
        for start in range(0, len(keypoints), chunk):
            k = (start // chunk) % workers
            for _ in range(min(chunk, len(keypoints) - start)):
                item = _get(queues[k], procs[k])
                if isinstance(item, _Failure):
                    item.raise_it()
                yield item
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(timeout=5)
        for q in queues:
            q.close()
            q.cancel_join_thread()


def _get(q, proc, what: str = "a render worker"):
    """Next item from a worker's queue; a worker that died without a word is an error."""
    while True:
        try:
            return q.get(timeout=1.0)
        except queue_mod.Empty:
            if not proc.is_alive():
                try:   # it may have put its last item and exited since the timeout
                    return q.get(timeout=0.1)
                except queue_mod.Empty:
                    pass
                raise RuntimeError(f"{what} exited (code {proc.exitcode}) before it finished; "
                                   "this is a bug or the machine ran out of memory") from None


def _aside_worker(fn, args, out) -> None:
    try:
        value = fn(*args)
        pickle.dumps(value)     # here, not in the queue's feeder thread, which drops it silently
        out.put(value)
    except BaseException as e:  # noqa: BLE001 - sent to the parent, which raises it
        out.put(_Failure(e))


class Aside:
    """``fn(*args)`` run on another core (a forked process) while this one goes on.

    ``.result()`` waits for it and returns what ``fn`` returned (it must pickle), or raises
    what ``fn`` raised, as :func:`render_parallel` does. Where no process can be forked (see
    :func:`render_parallel`: no ``fork``, a daemonic process), or with ``inline``, ``fn`` runs
    in ``.result()``.
    Use as a context manager: leaving the block (an error in it included) stops the process.
    """

    def __init__(self, fn, *args, what: str = "a background job", inline: bool = False) -> None:
        self._fn, self._args, self._what, self._inline = fn, args, what, inline
        self._proc = self._queue = None
        self._done, self._value = False, None

    def __enter__(self) -> "Aside":
        if not self._inline and _may_fork():
            ctx = mp.get_context("fork")
            self._queue = ctx.Queue(maxsize=1)
            self._proc = ctx.Process(target=_aside_worker,
                                     args=(self._fn, self._args, self._queue), daemon=True)
            _start_forked([self._proc])
        return self

    def result(self):
        if not self._done:
            if self._proc is None:
                value = self._fn(*self._args)
            else:
                value = _get(self._queue, self._proc, self._what)
                self._proc.join(timeout=5)
                if isinstance(value, _Failure):
                    value.raise_it()
            self._done, self._value = True, value
        return self._value

    def __exit__(self, *exc) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join(timeout=5)
            self._queue.close()
            self._queue.cancel_join_thread()
