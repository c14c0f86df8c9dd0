"""The page in real headless Chromium (Debian's package, driven by Playwright): upload speech and
a photo, generate, watch the video play, download it; record from a (fake) microphone; type
text; refusals shown on the page. Skipped with a reason when chromium is not installed.

Set GESTICULATE_SCREENSHOTS=folder to keep screenshots of each state of the page.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import pytest

from web.browser import launch
from web.live import LiveServer, make_inputs

SHOTS = os.environ.get("GESTICULATE_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser():
    with launch() as b:
        yield b


@pytest.fixture(scope="module")
def srv():
    with LiveServer(workers=1, max_audio_bytes=400_000, warmup=True) as s:
        s.wait_ready()
        yield s


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("browser inputs ü")  # spaces and unicode in the paths
    return make_inputs(d)


@pytest.fixture()
def page(browser, srv):
    p = browser.page()
    errors = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(srv.url)
    p.wait_for_selector("#motion option", state="attached")
    yield p
    p.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def generate(page, *, size="96", renderer="pose"):
    page.select_option("#size", size)
    page.select_option("#renderer", renderer)
    page.click("#generate")


def wait_done(page, timeout_ms=180_000):
    page.wait_for_selector("#status-line[data-state=done], #job-error:not([hidden])",
                           timeout=timeout_ms)
    assert page.get_attribute("#status-line", "data-state") == "done", \
        page.text_content("#job-error")


def test_upload_generate_play_download(page, inputs, tmp_path):
    shot(page, "1-idle")
    page.set_input_files("#audio-file", str(inputs["audio"]))
    page.set_input_files("#image-file", str(inputs["image"]))
    generate(page, renderer="warp")
    page.wait_for_selector("#status:not([hidden])")
    page.wait_for_selector("#status-line[data-state=running]", timeout=60_000)
    shot(page, "2-in-progress")
    wait_done(page)
    assert page.is_visible("#overlay-fig") and page.is_visible("#video")
    page.evaluate("v => { v.muted = true; return v.play(); }", page.query_selector("#video"))
    page.wait_for_function("v => v.currentTime > 0.3 && !v.paused", arg=page.query_selector("#video"),
                           timeout=20_000)
    assert page.evaluate("document.getElementById('video').videoWidth") == 96
    shot(page, "3-finished")
    with page.expect_download() as dl:
        page.click("#dl-video")
    path = tmp_path / "downloaded.mp4"
    dl.value.save_as(path)
    assert dl.value.suggested_filename == "gesticulate.mp4"
    with av.open(str(path)) as c:
        assert c.streams.video[0].codec_context.name == "h264" and c.streams.audio


def test_oversized_upload_refused_on_the_page(page, srv, inputs, tmp_path):
    big = tmp_path / "big.wav"
    big.write_bytes(inputs["audio"].read_bytes() + b"\0" * 500_000)
    page.set_input_files("#audio-file", str(big))
    page.set_input_files("#image-file", str(inputs["image"]))
    generate(page)
    page.wait_for_selector("#form-error:not([hidden])")
    assert "the limit is 400 kB" in page.text_content("#form-error")
    # the server refuses it too when the page's own check is out of the way
    page.evaluate("state.config.max_audio_bytes = 1e12")
    generate(page)
    page.wait_for_selector("#form-error:has-text('larger than')")
    assert "400 kB" in page.text_content("#form-error")
    shot(page, "4-refused-oversized")


def test_not_audio_refused_on_the_page(page, inputs):
    page.set_input_files("#audio-file", str(inputs["notaudio"]))
    page.set_input_files("#image-file", str(inputs["image"]))
    generate(page)
    page.wait_for_selector("#form-error:not([hidden])")
    text = page.text_content("#form-error")
    assert "not audio" in text and "wav" in text
    assert not page.is_visible("#status")
    shot(page, "5-refused-not-audio")


def test_failed_job_shows_its_message(page, inputs, tmp_path):
    from PIL import Image
    from skimage.data import coffee
    Image.fromarray(coffee()).save(tmp_path / "cup.png")
    page.set_input_files("#audio-file", str(inputs["audio"]))
    page.set_input_files("#image-file", str(tmp_path / "cup.png"))
    generate(page)
    page.wait_for_selector("#job-error:not([hidden])", timeout=60_000)
    assert "person" in page.text_content("#job-error").lower()
    shot(page, "6-failed-no-person")


def test_queue_position_shown(page, srv, inputs, tmp_path):
    import soundfile as sf
    from web.live import speechlike
    sf.write(tmp_path / "long.wav", speechlike(6.0), 16000)
    ahead = srv.submit(tmp_path / "long.wav", inputs["image"], size="256", renderer="warp")
    page.set_input_files("#audio-file", str(inputs["audio"]))
    page.set_input_files("#image-file", str(inputs["image"]))
    generate(page)
    page.wait_for_selector("#status-line[data-state=queued]", timeout=30_000)
    assert "next in line" in page.text_content("#status-line")
    shot(page, "2b-queued")
    page.click("#cancel")
    page.wait_for_selector("#job-error:has-text('cancelled at your request')")
    import requests
    requests.post(f"{srv.url}/api/jobs/{ahead.json()['id']}/cancel", timeout=10)
    srv.wait(ahead.json()["id"])


def test_record_from_microphone(page, inputs):
    """Chromium's fake microphone (a beep) through MediaRecorder → webm/opus → a video."""
    page.click(".tab[data-mode=record]")
    page.click("#record-btn")
    page.wait_for_timeout(2000)
    page.click("#record-btn")
    page.wait_for_selector("#audio-preview:not([hidden])")
    assert "Recorded" in page.text_content("#record-state")
    page.set_input_files("#image-file", str(inputs["image"]))
    generate(page)
    wait_done(page)


def test_typed_text_is_spoken(page, inputs):
    page.click(".tab[data-mode=text]")
    page.fill("#speech-text", "Good morning. Thank you all for coming today.")
    page.set_input_files("#image-file", str(inputs["image"]))
    generate(page)
    wait_done(page)
    assert page.evaluate("document.getElementById('video').src").endswith("/video.mp4")
