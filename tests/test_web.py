"""The web app over HTTP on 127.0.0.1: a job end to end, the door's refusals, private files,
cancellation, abandonment, time limits, expiry and a clean restart."""

from __future__ import annotations

import os
import signal
import time

import av
import pytest
import requests

from gesticulate.web.config import ServerConfig
from gesticulate.web.jobs import JobManager, QueueFull
from gesticulate.web.validate import is_job_id, new_job_id
from web.live import LiveServer, make_inputs


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("web-inputs"))


@pytest.fixture(scope="module")
def srv():
    with LiveServer(workers=1, max_audio_bytes=300_000, max_body_bytes=1_000_000) as s:
        yield s


@pytest.fixture(scope="module")
def finished(srv, inputs):
    """The id of a job that finished."""
    job = srv.submit(inputs["audio"], inputs["image"]).json()["id"]
    assert srv.wait(job)["state"] == "done"
    return job


@pytest.fixture()
def config(srv):
    """The live server's config; whatever a test changes is put back afterwards."""
    saved = dict(vars(srv.manager.config))
    yield srv.manager.config
    vars(srv.manager.config).update(saved)


def test_job_end_to_end(srv, inputs):
    r = srv.submit(inputs["audio"], inputs["image"], seed="3", style="lively")
    assert r.status_code == 202, r.text
    job = r.json()
    assert is_job_id(job["id"]) and job["state"] == "queued" and job["position"] == 1
    s = srv.wait(job["id"])
    assert s["state"] == "done", s
    assert set(s["outputs"]) == {"video.mp4", "motion.npz", "overlay.png", "pose.mp4", "openpose.zip",
                                "style.txt"}
    base = f"{srv.url}/api/jobs/{job['id']}/files"
    video = requests.get(f"{base}/video.mp4?download=1", timeout=10)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert "attachment" in video.headers["content-disposition"]
    path = srv.manager.root / job["id"] / "video.mp4"
    with av.open(str(path)) as c:
        assert c.streams.video[0].codec_context.name == "h264" and c.streams.audio
    assert video.content == path.read_bytes()
    ranged = requests.get(f"{base}/video.mp4", headers={"range": "bytes=0-99"}, timeout=10)
    assert ranged.status_code == 206 and len(ranged.content) == 100  # seeking in <video>
    assert requests.get(f"{base}/overlay.png", timeout=10).content[:4] == b"\x89PNG"
    # only the outputs stay: the uploaded audio and photo are gone
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(s["outputs"])


def test_text_to_speech_job(srv, inputs):
    r = srv.submit(None, inputs["image"], text="Hello, this is a test.")
    assert r.status_code == 202, r.text
    assert srv.wait(r.json()["id"])["state"] == "done"


@pytest.mark.parametrize("path", [
    "/api/jobs/..%2F..%2Fetc%2Fpasswd", "/api/jobs/" + "A" * 32, "/api/jobs/short",
    "/api/jobs/" + "A" * 32 + "/files/video.mp4", "/static/..%2Fapp.py", "/static/index.html",
    "/static/%2e%2e/jobs.py", "/api/jobs/{id}/files/..%2F..%2Fvideo.mp4",
    "/api/jobs/{id}/files/photo.png", "/api/jobs/{id}/files/audio.wav",
])
def test_paths_never_reach_the_filesystem(srv, finished, path):
    job = finished
    r = requests.get(srv.url + path.replace("{id}", job), timeout=10)
    assert r.status_code == 404
    assert "root:" not in r.text and "import" not in r.text


def test_another_jobs_files_need_its_id(srv, finished):
    a, b = finished, new_job_id()
    assert requests.get(f"{srv.url}/api/jobs/{b}/files/video.mp4", timeout=10).status_code == 404
    assert requests.get(f"{srv.url}/api/jobs/{a}/files/video.mp4", timeout=10).status_code == 200


def test_security_headers(srv):
    r = requests.get(srv.url, timeout=10)
    assert r.status_code == 200 and "gesticulate" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"  # job ids never leak in a Referer


def test_body_over_the_limit_is_refused_early(srv, inputs):
    big = b"RIFF" + b"\0" * 1_200_000
    r = requests.post(f"{srv.url}/api/jobs", files={"audio": ("a.wav", big),
                      "image": ("p.png", inputs["image"].read_bytes())}, timeout=30)
    assert r.status_code == 413 and "larger than this server accepts" in r.json()["error"]
    assert list(srv.manager.root.iterdir()) == [] or all(
        j.state != "queued" for j in srv.manager.jobs.values())


def test_file_over_its_limit_leaves_nothing(srv, inputs, tmp_path):
    import numpy as np
    import soundfile as sf
    sf.write(tmp_path / "long.wav", np.zeros(200_000, np.float32) + 0.1, 16000)  # 400 kB
    before = set(srv.manager.root.iterdir())
    r = srv.submit(tmp_path / "long.wav", inputs["image"])
    assert r.status_code == 400 and "limit" in r.json()["error"]
    assert set(srv.manager.root.iterdir()) == before


def test_cancel(srv, inputs, config):
    r = srv.submit(inputs["audio"], inputs["image"], size="256", renderer="warp")
    job = r.json()["id"]
    c = requests.post(f"{srv.url}/api/jobs/{job}/cancel", timeout=10).json()
    s = srv.wait(job)
    assert s["state"] == "cancelled" and "your request" in s["error"]
    assert not (srv.manager.root / job).exists()
    assert c["id"] == job


def test_abandoned_job_is_cancelled_and_worker_replaced(srv, inputs, config):
    srv.wait_ready()
    config.abandon_after_s = 1.0
    # The worker is paused before the job reaches it (the spec waits in the pipe), so the job
    # cannot finish before it is abandoned, however fast the machine.
    frozen = srv.manager.slots[0].proc
    os.kill(frozen.pid, signal.SIGSTOP)
    try:
        job_id = srv.submit(inputs["audio"], inputs["image"]).json()["id"]
        job = srv.manager.get(job_id, touch=False)
        deadline = time.monotonic() + 60
        while not job.ended:  # nobody polls: the janitor must cancel it
            assert time.monotonic() < deadline, job.state
            time.sleep(0.1)
    finally:
        if frozen.is_alive():
            os.kill(frozen.pid, signal.SIGCONT)
    assert job.state == "cancelled" and "stopped following" in job.error
    assert not job.folder.exists()
    frozen.join(10)
    assert frozen.exitcode is not None  # the paused worker was killed, not left behind
    config.abandon_after_s = 60
    srv.wait_ready()
    assert srv.manager.slots[0].proc.pid != frozen.pid  # a replacement took over
    r = srv.submit(inputs["audio"], inputs["image"])
    assert srv.wait(r.json()["id"])["state"] == "done"


def test_hard_time_limit(srv, inputs, config):
    srv.wait_ready()
    config.job_timeout_s = 0.3
    # A paused worker cannot finish a tiny job inside the limit, however fast the machine
    # (seen on a clean clone: the job was done before 0.3 s had passed).
    frozen = srv.manager.slots[0].proc
    os.kill(frozen.pid, signal.SIGSTOP)
    try:
        s = srv.wait(srv.submit(inputs["audio"], inputs["image"]).json()["id"])
    finally:
        if frozen.is_alive():
            os.kill(frozen.pid, signal.SIGCONT)
    assert s["state"] == "failed" and "longer than" in s["error"]
    assert s["outputs"] == []
    frozen.join(10)
    assert frozen.exitcode is not None      # the worker past its limit was killed
    config.job_timeout_s = 900


def test_finished_jobs_expire(srv, inputs, config):
    job = srv.submit(inputs["audio"], inputs["image"]).json()["id"]
    assert srv.wait(job)["state"] == "done"
    config.keep_s = 0.2
    deadline = time.monotonic() + 10
    while requests.get(f"{srv.url}/api/jobs/{job}", timeout=10).status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert not (srv.manager.root / job).exists()


def test_a_jobs_folder_of_the_users_is_not_emptied(tmp_path):
    """A server given ``workdir`` empties ``workdir/jobs`` on start; one it did not make (the
    user's own ``jobs`` folder) is refused and kept. Its own is emptied on a restart."""
    from gesticulate.errors import OutputError
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="did not make"):
        JobManager(ServerConfig(workdir=tmp_path)).start()
    assert (tmp_path / "jobs" / "notes.txt").read_text() == "mine"
    (tmp_path / "jobs" / "notes.txt").unlink()
    (tmp_path / "jobs" / ".gesticulate-jobs").touch()       # as a killed server left it
    (tmp_path / "jobs" / "old-job").mkdir()
    manager = JobManager(ServerConfig(workdir=tmp_path))
    manager.start()
    try:
        assert [p.name for p in manager.root.iterdir()] == [".gesticulate-jobs"]
    finally:
        manager.stop()


def test_queue_is_bounded(tmp_path):
    manager = JobManager(ServerConfig(max_queue=2, workdir=tmp_path))  # not started: no worker
    manager.root.mkdir(parents=True)
    for _ in range(2):
        manager.submit(*manager.new_folder(), {})
    with pytest.raises(QueueFull):
        manager.submit(*manager.new_folder(), {})
    third = manager.jobs[list(manager.queue)[1]]
    assert manager.status(third)["position"] == 2


def test_clean_restart(tmp_path, inputs):
    stale = tmp_path / "jobs" / new_job_id()
    stale.mkdir(parents=True)
    (stale / "video.mp4").write_bytes(b"old")
    with LiveServer(workers=1, workdir=tmp_path) as s:
        assert not stale.exists()  # a restart starts clean
        job = s.submit(inputs["audio"], inputs["image"]).json()["id"]
        assert s.wait(job)["state"] == "done"
        pids = [slot.proc.pid for slot in s.manager.slots]
    assert not (tmp_path / "jobs").exists()  # stopping removes every job's files
    import psutil
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids)


def test_foreign_host_header_refused(tmp_path):
    with LiveServer(workers=1, allowed_hosts=["127.0.0.1", "localhost"]) as s:
        assert requests.get(s.url, timeout=10).status_code == 200
        r = requests.get(s.url + "/api/health", headers={"host": "evil.example:7860"}, timeout=10)
        assert r.status_code == 400 and "Host" in r.json()["error"]


def test_serve_refuses_a_busy_port():
    import socket

    from gesticulate.errors import OptionError
    from gesticulate.web import serve
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OptionError, match="--port"):
            serve(host="127.0.0.1", port=busy.getsockname()[1])
