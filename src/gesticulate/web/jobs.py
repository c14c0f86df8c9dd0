"""The job queue and its worker processes: bounded, isolated, self-healing, self-cleaning.

One :class:`JobManager` per server. Jobs wait in a bounded FIFO; each of ``workers``
:class:`WorkerSlot` threads owns one worker *process* (:mod:`gesticulate.web.worker`) and feeds
it one job at a time. Faults stay inside their job:

- a worker that crashes or is killed fails the job it held (the message says so) and its slot
  starts a replacement process; other jobs and the server carry on;
- a job runs at most ``job_timeout_s``; a job whose page stopped polling for
  ``abandon_after_s`` is cancelled (its worker is killed and replaced), so a closed tab
  leaves no work running;
- a job's folder holds only its inputs and outputs under fixed names; inputs are deleted when
  the job ends, the folder when it fails, and finished jobs expire after ``keep_s``.

State lives in memory; a restart starts clean (the jobs folder is emptied on start and stop).
"""

from __future__ import annotations

import collections
import json
import logging
import multiprocessing as mp
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from gesticulate.atomic import is_empty
from gesticulate.errors import OutputError
from gesticulate.web.config import ServerConfig
from gesticulate.web.validate import is_job_id, new_job_id
from gesticulate.web.worker import OUTPUTS, worker_main

log = logging.getLogger("gesticulate.web")

JOBS_MARK = ".gesticulate-jobs"     # in the jobs folder a server made (and may empty)
STAGES = {"queued": "waiting for a worker", "starting": "starting", "audio": "reading the speech",
          "photo": "finding the person in the photo", "motion": "generating the motion",
          "render": "rendering the video", "done": "writing the video",
          "export": "writing previews and pose files"}


class QueueFull(Exception):
    """The bounded queue holds ``max_queue`` jobs already."""


@dataclass
class Job:
    """One generation request and what became of it."""

    id: str
    folder: Path
    spec: dict                          # what the worker receives (JSON)
    created: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.monotonic)   # last poll by its page
    state: str = "queued"               # queued | running | done | failed | cancelled
    stage: str = "queued"
    progress: float = 0.0               # 0..1 of the whole job
    error: str | None = None
    outputs: list = field(default_factory=list)
    started: float | None = None        # monotonic
    finished: float | None = None       # monotonic
    cancel: str | None = None           # why a cancel was asked for (set while running)
    worker_pid: int | None = None

    @property
    def ended(self) -> bool:
        return self.state in ("done", "failed", "cancelled")


class JobManager:
    """The queue, the worker slots and the janitor of one server."""

    def __init__(self, config: ServerConfig) -> None:
        config.check()
        self.config = config
        self._own_workdir = config.workdir is None
        base = Path(config.workdir) if config.workdir else Path(
            tempfile.mkdtemp(prefix="gesticulate-serve-"))
        self.root = base / "jobs"
        self.jobs: dict[str, Job] = {}
        self.queue: collections.deque[str] = collections.deque()
        self.cond = threading.Condition()
        self.stopping = False
        self.slots: list[WorkerSlot] = []
        self._janitor: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Empty the jobs folder (a clean restart), start the worker slots and the janitor.
        A ``jobs`` folder in a given ``workdir`` that no server made (no :data:`JOBS_MARK`, and
        more in it than job folders) is the user's: refused, not emptied."""
        if self.root.exists():
            if not (self.root / JOBS_MARK).is_file() and not is_empty(self.root) \
                    and not all(p.is_dir() and is_job_id(p.name) for p in self.root.iterdir()):
                raise OutputError(f"{self.root} is a folder this server did not make, and "
                                  "starting would empty it; give another workdir")
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, mode=0o700)
        (self.root / JOBS_MARK).touch()
        threads = max(1, (os.cpu_count() or 1) // self.config.workers)
        self.slots = [WorkerSlot(self, i, threads=threads) for i in range(self.config.workers)]
        for slot in self.slots:
            slot.start()
        self._janitor = threading.Thread(target=self._janitor_loop, daemon=True,
                                         name="gesticulate-janitor")
        self._janitor.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel everything, stop the workers and remove every job's files."""
        with self.cond:
            self.stopping = True
            for job_id in list(self.queue):
                self._finish(self.jobs[job_id], "cancelled", "the server is shutting down")
            self.queue.clear()
            self.cond.notify_all()
        for slot in self.slots:
            slot.join(timeout)
        shutil.rmtree(self.root, ignore_errors=True)
        if self._own_workdir:
            shutil.rmtree(self.root.parent, ignore_errors=True)

    # -- requests --------------------------------------------------------------------------

    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its private folder (mode 0700)."""
        job_id = new_job_id()
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        return job_id, folder

    def submit(self, job_id: str, folder: Path, spec: dict) -> Job:
        """Queue a job whose inputs are in ``folder``; raises :class:`QueueFull`."""
        with self.cond:
            if self.stopping or len(self.queue) >= self.config.max_queue:
                raise QueueFull
            job = Job(id=job_id, folder=folder, spec=dict(spec, id=job_id, dir=str(folder)))
            self.jobs[job_id] = job
            self.queue.append(job_id)
            self.cond.notify_all()
        return job

    def get(self, job_id: str, *, touch: bool = True) -> Job | None:
        """The job with this id, or None; only well-formed ids are looked up."""
        if not is_job_id(job_id):
            return None
        with self.cond:
            job = self.jobs.get(job_id)
            if job is not None and touch:
                job.last_seen = time.monotonic()
            return job

    def status(self, job: Job) -> dict:
        """What the page shows: state, stage, progress, queue position, error, outputs."""
        with self.cond:
            position = self.queue.index(job.id) + 1 if job.state == "queued" else None
            now = time.monotonic()
            return {"id": job.id, "state": job.state, "stage": job.stage,
                    "stage_text": STAGES.get(job.stage, job.stage),
                    "progress": round(job.progress, 3), "position": position,
                    "queued": len(self.queue), "error": job.error,
                    "outputs": list(job.outputs),
                    "elapsed_s": round((job.finished or now) - (job.started or now), 1)}

    def cancel(self, job: Job, reason: str) -> None:
        """Cancel a queued job at once; a running one when its slot next looks (< 0.5 s)."""
        with self.cond:
            if job.state == "queued":
                self.queue.remove(job.id)
                self._finish(job, "cancelled", reason)
            elif job.state == "running" and job.cancel is None:
                job.cancel = reason

    def output_path(self, job: Job, name: str) -> Path | None:
        """The file ``name`` of a finished job, only if it is one of the fixed output names."""
        if name not in OUTPUTS or job.state != "done" or name not in job.outputs:
            return None
        path = job.folder / name
        return path if path.is_file() else None

    def health(self) -> dict:
        with self.cond:
            running = sum(1 for j in self.jobs.values() if j.state == "running")
            return {"workers": len(self.slots), "workers_ready": sum(s.ready for s in self.slots),
                    "queued": len(self.queue), "running": running,
                    "max_queue": self.config.max_queue}

    # -- used by the slots -------------------------------------------------------------------

    def next_job(self, timeout: float) -> Job | None:
        with self.cond:
            if not self.queue and not self.stopping:
                self.cond.wait(timeout)
            if self.stopping or not self.queue:
                return None
            job = self.jobs[self.queue.popleft()]
            job.state, job.stage, job.started = "running", "starting", time.monotonic()
            return job

    def progress(self, job: Job, stage: str, fraction: float) -> None:
        with self.cond:
            if job.state == "running":
                job.stage, job.progress = stage, max(job.progress, min(1.0, float(fraction)))

    def finish(self, job: Job, state: str, error: str | None = None, outputs=()) -> None:
        with self.cond:
            self._finish(job, state, error, outputs)

    def _finish(self, job: Job, state: str, error: str | None = None, outputs=()) -> None:
        """Record the end of a job and clean its folder (caller holds the lock). The folder is
        cleaned before the state says the job ended: a reader that sees it ended (without the
        lock) finds no partial output left (seen on a clean clone: a cancelled job's folder
        still there just after its state read "cancelled")."""
        kept = [n for n in outputs if n in OUTPUTS]
        if state == "done":
            for p in job.folder.iterdir():  # inputs and any stray temp file go
                if p.name not in kept:
                    _remove(p)
        else:
            shutil.rmtree(job.folder, ignore_errors=True)
        job.outputs, job.worker_pid = kept, None
        if state == "done":
            job.stage, job.progress = "done", 1.0
        job.error, job.finished = error, time.monotonic()
        job.state = state
        log.info("job %s… %s%s", job.id[:6], state, f": {error}" if error else "")

    def _janitor_loop(self) -> None:
        cfg = self.config
        while not self.stopping:
            time.sleep(0.5)
            now = time.monotonic()
            with self.cond:
                for job in list(self.jobs.values()):
                    if not job.ended and now - job.last_seen > cfg.abandon_after_s:
                        self.cancel(job, f"cancelled: the page stopped following this job for "
                                         f"{cfg.abandon_after_s:.0f} s (closed tab or lost "
                                         "connection)")
                    elif job.ended and now - job.finished > cfg.keep_s:
                        shutil.rmtree(job.folder, ignore_errors=True)
                        del self.jobs[job.id]


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


class WorkerSlot(threading.Thread):
    """Owns one worker process at a time: feeds it jobs, watches it, replaces it when it dies."""

    def __init__(self, manager: JobManager, index: int, *, threads: int) -> None:
        super().__init__(daemon=True, name=f"gesticulate-worker-{index}")
        self.manager, self.index, self.threads = manager, index, threads
        self.ready = False
        self.proc = None

    def run(self) -> None:
        backoff = 0.5
        while not self.manager.stopping:
            proc, conn = self._spawn()
            if not self._wait_ready(proc, conn):
                self._kill(proc, conn)
                time.sleep(backoff)
                backoff = min(30.0, backoff * 2)  # a worker that cannot start: do not spin
                continue
            backoff = 0.5
            graceful = self._serve(proc, conn)
            self._kill(proc, conn, graceful=graceful)

    def _spawn(self):
        ctx = mp.get_context("spawn")  # a fresh interpreter: no server threads, sockets, locks
        conn, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=worker_main, args=(child, self.manager.config.warmup,
                                                     self.threads),
                           name=f"gesticulate-worker-{self.index}", daemon=True)
        proc.start()
        child.close()  # so a dead worker reads as EOF here
        self.proc = proc
        return proc, conn

    def _wait_ready(self, proc, conn) -> bool:
        while not self.manager.stopping:
            if conn.poll(0.5):
                try:
                    msg = json.loads(conn.recv_bytes().decode())
                except (EOFError, OSError, ValueError):
                    log.error("worker %d died while starting (exit code %s)", self.index,
                              proc.exitcode)
                    return False
                self.ready = msg.get("type") == "ready"
                return self.ready
            if not proc.is_alive():
                return False
        return False

    def _serve(self, proc, conn) -> bool:
        """Run jobs in this process until it dies, is recycled, or the server stops.

        Returns True when the process is idle and may be stopped politely."""
        for _ in range(self.manager.config.max_jobs_per_worker):
            job = None
            while job is None:
                if self.manager.stopping or not proc.is_alive():
                    return True
                job = self.manager.next_job(timeout=0.5)
            if not self._run(job, proc, conn):
                return False
        return True

    def _run(self, job: Job, proc, conn) -> bool:
        """One job; False if the worker process had to be killed or was lost."""
        m = self.manager
        job.worker_pid = proc.pid
        deadline = job.started + m.config.job_timeout_s
        try:
            conn.send_bytes(json.dumps(job.spec).encode())
        except OSError:
            m.finish(job, "failed", _lost_message(proc, job.stage))
            return False
        while True:
            reason = job.cancel or ("the server is shutting down" if m.stopping else None)
            if reason is None and time.monotonic() > deadline:
                reason = (f"the job took longer than {m.config.job_timeout_s:.0f} s and was "
                          "stopped; try a smaller size or shorter audio")
            if reason is not None:
                self._kill(proc, conn)
                m.finish(job, "cancelled" if job.cancel or m.stopping else "failed", reason)
                return False
            if not conn.poll(0.25):
                continue
            try:
                msg = json.loads(conn.recv_bytes().decode())
            except (EOFError, OSError, ValueError):
                proc.join(2.0)
                m.finish(job, "failed", _lost_message(proc, job.stage))
                return False
            kind = msg.get("type")
            if kind == "progress":
                m.progress(job, str(msg.get("stage")), float(msg.get("fraction", 0.0)))
            elif kind in ("done", "failed"):
                m.finish(job, kind, msg.get("error"), outputs=msg.get("outputs", ()))
                return True

    def _kill(self, proc, conn, *, graceful: bool = False) -> None:
        """Stop the process: asked politely when idle, SIGTERM then SIGKILL mid-job."""
        self.ready = False
        if proc.is_alive() and graceful:
            try:
                conn.send_bytes(b'{"type": "stop"}')
            except OSError:
                pass
            proc.join(2.0)
        if proc.is_alive():
            proc.terminate()
            proc.join(3.0)
            if proc.is_alive():
                proc.kill()
                proc.join(3.0)
        conn.close()


def _lost_message(proc, stage: str) -> str:
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            how = f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with code {code}"
    return (f"the worker process running this job {how} while {STAGES.get(stage, stage)}; "
            "the server is fine and has started a new worker. Submit the job again; if it "
            "fails the same way, try a smaller size or shorter audio")
