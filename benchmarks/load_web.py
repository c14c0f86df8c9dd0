"""Load test of ``gesticulate serve`` on loopback: N requests from C concurrent clients.

Starts the server in a subprocess on 127.0.0.1 (a free port, a temporary workdir), waits for
its workers to warm up, then C client threads submit N jobs with tiny settings (size 64–96,
1–2 s of speech), follow each to the end and download its video. Prints completed / failed /
refused, p50 and p95 latency (submit → video downloaded), peak memory of the server and its
workers together, and memory after the run, then stops the server with SIGINT and checks it
exits cleanly and removes its files. Bounded: every request and the whole run have deadlines.

    python benchmarks/load_web.py [--requests 50] [--clients 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import requests
import soundfile as sf
from PIL import Image

SR = 16000


def speechlike(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(140 + 30 * np.sin(2 * np.pi * 0.7 * t)) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = (np.sin(2 * np.pi * 4 * t) > 0.2).astype(float)
    return (0.3 * voice * env + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its children, in bytes."""
    try:
        p = psutil.Process(pid)
        procs = [p] + p.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def rss_own(pid: int) -> int:
    """Resident memory of one process in MiB."""
    try:
        return psutil.Process(pid).memory_info().rss >> 20
    except psutil.NoSuchProcess:
        return 0


class Sampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.stop = pid, every, 0, False

    def run(self) -> None:
        while not self.stop:
            self.peak = max(self.peak, tree_rss(self.pid))
            time.sleep(self.every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, workdir: str) -> subprocess.Popen:
    code = ("from gesticulate.web import serve; "
            f"serve(host='127.0.0.1', port={port}, workers={workers}, log_level='warning', "
            f"max_queue=64, workdir={workdir!r})")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=open(Path(workdir) / "server.log", "w"))


def wait_ready(url: str, workers: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/health", timeout=2).json()["workers_ready"] >= workers:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("the server's workers did not become ready in time")


def one_job(url: str, audio: Path, image: Path, size: int, timeout: float) -> tuple[str, float, str]:
    """(outcome, latency s, message) for one request, followed to its downloaded video."""
    t0 = time.monotonic()
    with open(audio, "rb") as a, open(image, "rb") as i:
        r = requests.post(f"{url}/api/jobs", files={"audio": ("a.wav", a), "image": ("p.png", i)},
                          data={"size": str(size)}, timeout=60)
    if r.status_code != 202:
        return "refused", time.monotonic() - t0, r.json().get("error", r.text)[:80]
    job = r.json()["id"]
    while True:
        s = requests.get(f"{url}/api/jobs/{job}", timeout=10).json()
        if s["state"] in ("done", "failed", "cancelled"):
            break
        if time.monotonic() - t0 > timeout:
            requests.post(f"{url}/api/jobs/{job}/cancel", timeout=10)
            return "timeout", time.monotonic() - t0, "client gave up"
        time.sleep(0.2)
    if s["state"] != "done":
        return "failed", time.monotonic() - t0, s["error"][:80]
    v = requests.get(f"{url}/api/jobs/{job}/files/video.mp4", timeout=30)
    ok = v.status_code == 200 and v.content[4:8] == b"ftyp"
    return ("completed" if ok else "failed"), time.monotonic() - t0, "" if ok else "bad video"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--deadline", type=float, default=540.0, help="whole run, seconds")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gesticulate-load-")
    from skimage.data import astronaut
    image = Path(work) / "person.png"
    Image.fromarray(astronaut()).resize((256, 256)).save(image)
    audios = []
    for k, seconds in enumerate((1.0, 1.5, 2.0)):
        audios.append(Path(work) / f"speech{k}.wav")
        sf.write(audios[-1], speechlike(seconds, k), SR)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers, work)
    try:
        t_start = time.monotonic()
        wait_ready(url, args.workers, timeout=300)
        print(f"server ready in {time.monotonic() - t_start:.1f} s ({args.workers} workers, warmed up)")
        time.sleep(2)
        baseline = tree_rss(server.pid)
        print(f"  per process at baseline (MiB): server {rss_own(server.pid)}, workers "
              f"{[rss_own(c.pid) for c in psutil.Process(server.pid).children()]}")
        sampler = Sampler(server.pid)
        sampler.start()
        results, lock, counter = [], threading.Lock(), iter(range(args.requests))
        t0 = time.monotonic()

        def client(c: int) -> None:
            while time.monotonic() - t0 < args.deadline:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                try:
                    out = one_job(url, audios[n % 3], image, (64, 80, 96)[n % 3],
                                  timeout=args.deadline - (time.monotonic() - t0))
                except requests.RequestException as e:
                    out = ("error", time.monotonic() - t0, type(e).__name__)
                with lock:
                    results.append(out)
        threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        time.sleep(5)  # idle: workers stay loaded, nothing may keep growing
        after = tree_rss(server.pid)
        print(f"  per process after the run (MiB): server {rss_own(server.pid)}, workers "
              f"{[rss_own(c.pid) for c in psutil.Process(server.pid).children()]}")
        sampler.stop = True
        report(results, args, wall, baseline, sampler.peak, after, server, work)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            code = server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            code = "killed after 20 s"
        left = [p for p in (Path(work) / "jobs").glob("*")] if (Path(work) / "jobs").exists() else []
        print(f"server stopped with SIGINT: exit {code}; job folders left: {len(left)}")
        orphans = [p for p in psutil.process_iter(["cmdline"])
                   if "gesticulate.web.worker" in " ".join(p.info["cmdline"] or [])
                   or ("multiprocessing.spawn" in " ".join(p.info["cmdline"] or [])
                       and p.ppid() == server.pid)]
        print(f"worker processes left running: {len(orphans)}")


def report(results, args, wall, baseline, peak, after, server, work) -> None:
    lat = np.array([r[1] for r in results if r[0] == "completed"])
    counts = {k: sum(r[0] == k for r in results) for k in ("completed", "failed", "refused",
                                                            "timeout", "error")}
    print(f"{args.requests} requests from {args.clients} clients, {args.workers} workers, "
          f"{wall:.1f} s wall")
    print("  " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if len(lat):
        print(f"  latency p50 {np.percentile(lat, 50):.2f} s, p95 {np.percentile(lat, 95):.2f} s, "
              f"max {lat.max():.2f} s; throughput {len(lat) / wall:.2f} jobs/s")
    msgs = sorted({r[2] for r in results if r[0] != "completed"})
    for m in msgs[:5]:
        print(f"  message: {m}")
    mb = 1024 * 1024
    print(f"  memory (server + workers, RSS): baseline {baseline / mb:.0f} MiB, peak "
          f"{peak / mb:.0f} MiB, after {after / mb:.0f} MiB "
          f"({(after - baseline) / mb:+.0f} MiB vs baseline)")
    alive = server.poll() is None and requests.get(
        f"http://127.0.0.1:{server.args[-1].split('port=')[1].split(',')[0]}/api/health",
        timeout=5).ok
    print(f"  server alive and healthy after the run: {alive}")
    jobs = Path(work) / "jobs"
    inputs_left = [p for p in jobs.glob("*/*") if p.name.startswith(("audio.", "photo.", "upload."))]
    print(f"  uploaded inputs still on disk: {len(inputs_left)}")


if __name__ == "__main__":
    main()
