"""The reenactment harness (``gesticulate reenact``) and ``gesticulate render`` with motion made
elsewhere, on a clip the project renders itself from the bundled astronaut photo (so it runs
without ../shared/data; the real clips are in test_reenact_realdata.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from gesticulate.cli import main
from gesticulate.evaluate import reenact_scores as S
from gesticulate.skeleton.sequence import SkeletonSequence
from gesticulate.video import probe_video

SR = 16000


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 2 s talking-astronaut clip at 30 fps with its sound, its skeletons and its photo."""
    from skimage.data import astronaut

    from gesticulate.pipeline import GeneratePipeline
    from test_cli import speechlike

    d = tmp_path_factory.mktemp("reenact")
    sf.write(d / "speech.wav", speechlike(2.0), SR)
    Image.fromarray(astronaut()).save(d / "photo.png")
    result = GeneratePipeline(size=192, fps=30)(audio=d / "speech.wav", image=d / "photo.png",
                                                output=d / "talk.mp4", progress=False)
    result.motion.save(d / "motion30.npz")
    return d


def test_reenact_writes_the_report(clip, tmp_path):
    out = tmp_path / "report"
    assert main(["-q", "reenact", str(clip / "talk.mp4"), "--output", str(out), "--size", "192"]) == 0
    for name in ("reenact.json", "reenact.md", "index.html", "talk.mp4", "talk.png"):
        assert (out / name).is_file(), name
    result = json.loads((out / "reenact.json").read_text())
    rows = result["clips"][0]["rows"]
    assert set(rows) == {"warp", "still", "real"}
    warp, still = rows["warp"], rows["still"]
    for key in ("psnr", "ssim", "psnr_box", "ssim_box", "psnr_box_moved", "ssim_box_moved",
                "arm_fidelity", "pieces", "holes"):
        assert warp[key] is not None and still[key] is not None, key
    assert 10 < warp["psnr_box"] < 100 and 0 < warp["ssim_box"] <= 1
    # The real frames are re-detected at the report's size too: the detector's ceiling there.
    # The clip is the warp renderer's own, so its frames re-detect much as the render does.
    real = rows["real"]
    assert real["arm_fidelity"] == pytest.approx(warp["arm_fidelity"], abs=0.1)
    assert still["psnr_box_moved"] <= still["psnr_box"] + 1e-6     # moved frames are harder
    assert probe_video(out / "talk.mp4").fps == pytest.approx(30, abs=0.1)
    assert "| talk | warp |" in (out / "reenact.md").read_text()
    assert "talk.png" in (out / "index.html").read_text()


def test_reenact_drive_a_photo_with_a_clip(clip, tmp_path):
    out = tmp_path / "drive"
    assert main(["-q", "reenact", str(clip / "photo.png"), "--drive", str(clip / "talk.mp4"),
                 "--output", str(out), "--size", "192"]) == 0
    result = json.loads((out / "reenact.json").read_text())
    row = result["clips"][0]["rows"]["warp"]
    assert result["clips"][0]["clip"] == "photo_by_talk"
    for key in ("arm_fidelity", "pieces", "holes"):
        assert 0 <= row[key] <= 1, key
    # The astronaut's own arms barely move: the fitted bones keep the photo's lengths.
    assert 0.9 <= row["fitted_limb_ratio_p50"] <= 1.1


@pytest.mark.parametrize("args, message", [
    (["missing.mp4"], "not found"),
    (["PHOTO"], "needs a video"),
    (["CLIP", "--size", "20"], "--size"),
    (["CLIP", "--renderer", "diffusion"], "--renderer-checkpoint"),
    (["CLIP", "--max-seconds", "0.01"], "fewer than 2 frames"),
    (["CLIP", "COPY"], "several clips are named talk"),
])
def test_reenact_refuses_bad_inputs(clip, tmp_path, capsys, args, message):
    copy = tmp_path / "elsewhere" / "talk.mp4"
    copy.parent.mkdir()
    copy.write_bytes((clip / "talk.mp4").read_bytes())
    args = [a.replace("PHOTO", str(clip / "photo.png")).replace("CLIP", str(clip / "talk.mp4"))
            .replace("COPY", str(copy)) for a in args]
    out = tmp_path / "never"
    assert main(["-q", "reenact", *args, "--output", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_render_takes_the_motion_rate_and_resamples_on_request(clip, tmp_path):
    """`render` used to refuse a motion not at --fps; it now renders at the motion's own rate,
    or resamples to --fps when given."""
    common = ["--motion", str(clip / "motion30.npz"), "--image", str(clip / "photo.png"),
              "--audio", str(clip / "speech.wav"), "--size", "128"]
    assert main(["-q", "render", *common, "-o", str(tmp_path / "own.mp4")]) == 0
    info = probe_video(tmp_path / "own.mp4")
    assert info.fps == pytest.approx(30, abs=0.1) and abs(info.num_frames - 60) <= 1
    assert main(["-q", "render", *common, "--fps", "25", "-o", str(tmp_path / "r25.mp4")]) == 0
    info = probe_video(tmp_path / "r25.mp4")
    assert info.fps == pytest.approx(25, abs=0.1) and abs(info.num_frames - 50) <= 1


def test_render_names_a_dataset_clips_own_audio_when_given_another(clip, tmp_path, capsys):
    """A dataset's clip (import-poses, build-dataset) keeps its stretch of the speech beside
    its skeleton: given the whole source's audio instead, `render` refuses and names it; not
    when the file beside it does not last as long as the motion, nor for a bad motion path."""
    from gesticulate.errors import InputError
    from gesticulate.pipeline import GeneratePipeline
    folder = (tmp_path / "clips" / "talk-0000000").resolve()
    folder.mkdir(parents=True)
    (folder / "skeleton.npz").write_bytes((clip / "motion30.npz").read_bytes())
    (folder / "audio.wav").write_bytes((clip / "speech.wav").read_bytes())
    y, sr = sf.read(clip / "speech.wav")
    sf.write(tmp_path / "source.wav", np.concatenate([y, y, y]), sr)
    common = ["--motion", str(folder / "skeleton.npz"), "--image", str(clip / "photo.png"),
              "--size", "128"]
    out = tmp_path / "never.mp4"
    assert main(["-q", "render", *common, "--audio", str(tmp_path / "source.wav"),
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "give the audio the motion was made from" in err
    assert f"the clip's own speech is {folder / 'audio.wav'}" in err
    assert not out.exists()
    assert main(["-q", "render", *common, "--audio", str(folder / "audio.wav"),
                 "-o", str(tmp_path / "own.mp4")]) == 0
    pipe = GeneratePipeline(size=128)
    with pytest.raises(InputError, match="the clip's own speech"):      # samples, not a path
        pipe.render(motion=folder / "skeleton.npz", image=clip / "photo.png",
                    audio=(np.concatenate([y, y, y]), sr), output=out, progress=False)
    (folder / "audio.wav").write_bytes((tmp_path / "source.wav").read_bytes())
    with pytest.raises(InputError) as refused:                        # not the clip's length
        pipe.render(motion=folder / "skeleton.npz", image=clip / "photo.png",
                    audio=tmp_path / "source.wav", output=out, progress=False)
    assert "own speech" not in str(refused.value)
    with pytest.raises(InputError):                                     # no motion there
        pipe.render(motion=tmp_path, image=clip / "photo.png", audio=tmp_path / "source.wav",
                    output=out, progress=False)
    assert not out.exists()


def test_render_accepts_another_persons_motion(clip, tmp_path):
    """A motion of a person three times bigger elsewhere in a bigger frame is fitted to the
    photo (retargeted) instead of being drawn where it was."""
    seq = SkeletonSequence.load(clip / "motion30.npz")
    kp = seq.keypoints.copy()
    kp[..., :2] = kp[..., :2] * 3.0 + [400.0, 150.0]
    SkeletonSequence(kp, seq.fps, (2000, 1500)).save(tmp_path / "big.npz")
    assert main(["-q", "render", "--motion", str(tmp_path / "big.npz"), "--image",
                 str(clip / "photo.png"), "--audio", str(clip / "speech.wav"), "--size", "128",
                 "-o", str(tmp_path / "big.mp4")]) == 0
    assert main(["-q", "render", "--motion", str(clip / "motion30.npz"), "--image",
                 str(clip / "photo.png"), "--audio", str(clip / "speech.wav"), "--size", "128",
                 "-o", str(tmp_path / "own.mp4")]) == 0
    from gesticulate.video import iter_frames
    big, own = list(iter_frames(tmp_path / "big.mp4")), list(iter_frames(tmp_path / "own.mp4"))
    # A second in (past any easing in), the big person's motion renders as the photo's own.
    assert len(big) == len(own) and S.psnr(big[30], own[30]) > 30


def test_ssim_equals_scikit_image():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 50, 3)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-40, 40, a.shape), 0, 255).astype(np.uint8)
    ref = structural_similarity(a, b, channel_axis=2, data_range=255)
    assert S.ssim(a, b) == pytest.approx(ref, abs=1e-4)


def test_most_moved_and_person_box():
    score = np.array([0.0, 5.0, 1.0, 9.0, 8.0, 2.0, 7.0, 0.5])
    assert list(S.most_moved(score)) == [3, 4]
    assert S.top_frames(score, count=2, apart=2) == [3, 6]
    kp = np.zeros((2, 133, 3))
    kp[:, 5, :] = [40, 50, 1]
    kp[:, 6, :] = [80, 50, 1]
    kp[1, 100, :] = [90, 95, 1]
    assert S.person_box(kp, (120, 100)) == (30, 40, 100, 100)


def test_the_real_row_is_the_real_frames_re_detected(monkeypatch):
    """The real row's pose fidelity is that of the real frames' own re-detection (the
    detector's ceiling at the report's size), not the render's."""
    from gesticulate.data.synthetic import template_pose

    kp = np.repeat(template_pose(size=128)[None], 6, axis=0)
    real = [np.zeros((128, 128, 3), np.uint8)] * 6
    rendered = [np.full((128, 128, 3), 255, np.uint8)] * 6

    def redetect(frames, *, progress):            # finds the person in the real frames only
        found = len(frames) > 1 and frames[0].mean() < 128
        return kp.copy() if found else np.zeros((len(frames), 133, 3))

    monkeypatch.setattr(S, "_redetect", redetect)
    rows = S.self_scores(real, rendered, kp, fps=25.0, renderer="warp", progress=False)["rows"]
    assert rows["real"]["arm_fidelity"] == 1.0
    assert rows["warp"]["arm_fidelity"] == 0.0 and rows["still"]["arm_fidelity"] == 0.0
