"""Fault test: a worker killed mid-job fails that job with a message; the server keeps serving,
a replacement worker starts, and the next job succeeds."""

from __future__ import annotations

import os
import signal
import time

import requests
import soundfile as sf

from web.live import LiveServer, make_inputs, speechlike


def test_worker_killed_mid_job(tmp_path):
    inputs = make_inputs(tmp_path)
    sf.write(tmp_path / "long.wav", speechlike(8.0), 16000)  # long enough to catch it working
    with LiveServer(workers=1) as srv:
        job_id = srv.submit(tmp_path / "long.wav", inputs["image"], size="256",
                            renderer="warp").json()["id"]
        job = srv.manager.get(job_id)
        deadline = time.monotonic() + 120
        while not (job.state == "running" and job.stage in ("motion", "render")):
            assert time.monotonic() < deadline and not job.ended, job.state
            srv.wait(job_id, until=("running", "done", "failed", "cancelled"))
            time.sleep(0.05)
        victim = job.worker_pid
        os.kill(victim, signal.SIGKILL)
        s = srv.wait(job_id)
        assert s["state"] == "failed", s
        assert "killed by signal SIGKILL" in s["error"] and "Submit the job again" in s["error"]
        assert s["outputs"] == [] and not job.folder.exists()  # nothing partial is left
        assert requests.get(f"{srv.url}/api/health", timeout=10).status_code == 200
        srv.wait_ready()
        assert srv.manager.slots[0].proc.pid != victim  # a replacement took over
        nxt = srv.submit(inputs["audio"], inputs["image"]).json()["id"]
        assert srv.wait(nxt)["state"] == "done"
