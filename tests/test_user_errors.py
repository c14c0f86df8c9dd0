"""Mistakes a user makes with inputs and outputs get a message that says what is wrong."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf

from gesticulate.audio.io import check_audio, load_audio
from gesticulate.errors import InputError, OptionError, refuse_url
from gesticulate.image import load_image
from gesticulate.pipeline import GeneratePipeline
from gesticulate.skeleton.extract import extract
from gesticulate.skeleton.sequence import SkeletonSequence
from gesticulate.video import VideoWriter

SR = 16000


def test_an_audio_of_nan_samples_is_called_corrupt_not_silent(tmp_path):
    path = tmp_path / "nan.wav"
    sf.write(path, np.full(SR * 2, np.nan, np.float32), SR, subtype="FLOAT")
    with pytest.raises(InputError, match="not numbers") as e:
        load_audio(path)
    assert "silent" not in str(e.value)
    # A few stray NaNs in real speech are zeroed, not refused.
    t = np.arange(SR * 2) / SR
    y = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    y[::1000] = np.nan
    sf.write(tmp_path / "few.wav", y, SR, subtype="FLOAT")
    assert np.isfinite(load_audio(tmp_path / "few.wav")).all()


@pytest.mark.parametrize("url", ["https://example.com/me.jpg", "http://x.org/a.png"])
def test_urls_are_refused_with_a_reason(url):
    with pytest.raises(InputError, match="URL.*never downloads"):
        load_image(url)
    with pytest.raises(InputError, match="URL"):
        load_audio(url.replace(".jpg", ".wav").replace(".png", ".wav"))
    with pytest.raises(InputError, match="URL"):
        SkeletonSequence.load(url + ".npz")
    with pytest.raises(InputError, match="URL"):
        extract(url.replace(".jpg", ".mp4").replace(".png", ".mp4"), output="out.npz")


def test_a_windows_drive_is_not_a_url():
    refuse_url("C://talk.wav", "audio")     # no error: a drive letter, not a scheme


def test_every_reader_refuses_a_folder_and_a_missing_file_alike(tmp_path):
    """One check for every input file: a folder and a missing path get the same kind of
    message whichever reader is given them."""
    from gesticulate.evaluate.reenact import load_clip
    from gesticulate.video import probe_video
    readers = [load_image, load_audio, SkeletonSequence.load, probe_video,
               lambda p: extract(p, output=tmp_path / "out.npz"),
               lambda p: load_clip(p, size=64, progress=False)]
    for read in readers:
        with pytest.raises(InputError, match="is a folder, not an? .* file; give the path of a ") as e:
            read(tmp_path)
        assert "file file" not in str(e.value) and " a audio" not in str(e.value)
        with pytest.raises(InputError, match="not found"):
            read(tmp_path / "missing.file")


def test_api_samples_that_are_not_numbers_are_refused():
    y = np.full(SR, np.nan, np.float32)
    with pytest.raises(InputError, match="not numbers"):
        check_audio(y, sr=SR)


@pytest.mark.parametrize("name", ["talk.avi", "talk.webm", "talk"])
def test_a_video_name_that_is_not_mp4_is_refused(tmp_path, name):
    with pytest.raises(OptionError, match=r"talk\.mp4"):
        VideoWriter(tmp_path / name, fps=25, size=(64, 64))
    assert list(tmp_path.iterdir()) == []


def test_audio_without_speech_warns(caplog):
    rng = np.random.default_rng(0)
    hum = (0.05 * np.sin(2 * np.pi * 50 * np.arange(SR * 3) / SR)).astype(np.float32)
    hum += 0.002 * rng.standard_normal(len(hum)).astype(np.float32)
    with caplog.at_level(logging.WARNING, logger="gesticulate"):
        GeneratePipeline.warn_without_speech(GeneratePipeline().features(hum, SR))
    assert "no speech found" in caplog.text


def test_an_output_that_names_an_input_is_refused_and_the_input_kept(tmp_path):
    """``generate --audio talk.mp4 --output talk.mp4`` wrote the video over the user's own."""
    from gesticulate.errors import OutputError
    from gesticulate.skeleton.extract import extract as extract_skeleton
    talk = tmp_path / "talk.mp4"
    talk.write_bytes(b"the user's video")
    (tmp_path / "link.mp4").symlink_to(talk)
    for output in (talk, tmp_path / "link.mp4", tmp_path / "sub" / ".." / "talk.mp4"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(OutputError, match="is the audio this command reads"):
            GeneratePipeline()(audio=talk, image=tmp_path / "photo.png", output=output)
    with pytest.raises(OutputError, match="is the motion this command reads"):
        GeneratePipeline().render(motion=talk, image=tmp_path / "photo.png", audio=None,
                                  output=talk)
    with pytest.raises(OutputError, match="is the input this command reads"):
        extract_skeleton(talk, output=tmp_path / "s.npz", overlay=talk)
    with pytest.raises(OptionError, match="both name"):
        GeneratePipeline()(audio=tmp_path / "a.wav", image=tmp_path / "photo.png",
                           output=tmp_path / "out.mp4", motion_output=tmp_path / "out.mp4")
    with pytest.raises(OptionError, match="both name"):
        extract_skeleton(talk, output=tmp_path / "s.npz", overlay=tmp_path / "s.npz")
    assert talk.read_bytes() == b"the user's video"


def test_a_reenactment_report_never_replaces_a_folder_of_the_users(tmp_path):
    """``gesticulate reenact clip.mp4 --output mine`` deleted what ``mine`` held; it is refused
    before any work, and the folder is kept."""
    from gesticulate.errors import OutputError
    from gesticulate.evaluate.reenact import reenact
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not read: the output is refused first")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="other things in it"):
        reenact([clip], output=mine, progress=False)
    assert (mine / "notes.txt").read_text() == "mine"
    with pytest.raises(OutputError, match="is a file"):
        reenact([clip], output=clip, progress=False)
    # An earlier report is replaced, but not when the clip to reenact lies in it.
    (mine / "notes.txt").unlink()
    (mine / "reenact.json").write_text("{}")
    (mine / "clip.mp4").write_bytes(clip.read_bytes())
    with pytest.raises(OutputError, match="which this command reads"):
        reenact([mine / "clip.mp4"], output=mine, progress=False)
    assert sorted(p.name for p in mine.iterdir()) == ["clip.mp4", "reenact.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "mine"]


def test_a_small_photo_enlarged_for_the_video_warns(caplog, monkeypatch):
    """A 100 px photo for a 512 px video is 5x enlarged: soft, and the user is told."""
    import gesticulate.skeleton.extract as X
    monkeypatch.setattr(X, "extract_image", lambda rgb: np.zeros((133, 3), np.float32))
    small = np.full((100, 80, 3), 128, np.uint8)
    with caplog.at_level(logging.WARNING, logger="gesticulate"):
        rgb, _ = GeneratePipeline(size=512).prepare_photo(small)
    assert rgb.shape == (512, 410, 3)
    assert "enlarged 5.1x" in caplog.text and "smaller --size" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gesticulate"):
        GeneratePipeline(size=192).prepare_photo(small)
    assert "enlarged" not in caplog.text


def test_an_espeak_failure_in_demo_is_a_message_not_a_traceback(tmp_path):
    """eSpeak NG without its voice data: `gesticulate demo` says what to do and exits 2."""
    import subprocess
    import sys
    code = ("import sys, espeakng_loader; espeakng_loader.get_data_path = lambda: '/nonexistent'; "
            "from gesticulate.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "demo", "--output", str(tmp_path / "d.mp4")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "gesticulate demo: error: eSpeak NG could not start" in done.stderr
    assert "Traceback" not in done.stderr and "reinstall" in done.stderr.lower()
    assert list(tmp_path.iterdir()) == []


def test_a_dataset_is_built_only_in_a_new_or_empty_folder_or_a_dataset(tmp_path):
    """``build-dataset videos --output ~`` took the home folder for a dataset and, clearing a
    killed run's temporaries, deleted its hidden files; ``--output videos`` the same there."""
    from gesticulate.data.build import _clean_temporaries, build_dataset
    from gesticulate.errors import OutputError
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".bashrc").write_text("mine")
    video = home / "talk.mp4"
    video.write_bytes(b"never read: the output is refused first")
    with pytest.raises(OutputError, match="no dataset"):
        build_dataset([video], output=home, report=False, progress=False)
    assert sorted(p.name for p in home.iterdir()) == [".bashrc", ".ssh", "talk.mp4"]
    # In a dataset folder, a resumed build removes its own temporaries only.
    data = tmp_path / "data"
    (data / "clips" / ".clip_0001.a8b9c0d1.tmp").mkdir(parents=True)
    (data / ".git").mkdir()
    for name in (".gitignore", ".env.local", ".eslintrc.json", ".build.x1y2z3w4", ".lock"):
        (data / name).write_text("")
    _clean_temporaries(data)
    assert sorted(p.name for p in data.iterdir()) == [".env.local", ".eslintrc.json", ".git",
                                                      ".gitignore", ".lock", "clips"]
    assert not any((data / "clips").iterdir())


def test_a_dataset_report_is_written_as_a_web_page_only(tmp_path):
    """``inspect ds --output ds/manifest.jsonl`` wrote the report over the dataset's manifest."""
    from gesticulate.data.report import inspect
    from gesticulate.data.synthetic import make_synthetic_dataset
    ds = make_synthetic_dataset(tmp_path / "ds", num_speakers=3, clips_per_speaker=1, seconds=2.0)
    manifest = (ds / "manifest.jsonl").read_text()
    with pytest.raises(OptionError, match="name it e.g. manifest.html"):
        inspect(ds, path=ds / "manifest.jsonl", num_overlays=0)
    assert (ds / "manifest.jsonl").read_text() == manifest
    path, _ = inspect(ds, path=tmp_path / "report.html", num_overlays=0)
    assert path.read_text().startswith("<!doctype html>")


def test_skeletons_are_written_only_to_an_npz_that_is_no_input(tmp_path, capsys):
    """``sample -o photo.png`` (after minutes of sampling) wrote the skeletons over the photo;
    ``--motion-output clip.png`` over any png. Refused first, the files kept."""
    from gesticulate.cli import main
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"the user's photo")
    for out in (photo, tmp_path / "other.png"):
        code = main(["sample", "--checkpoint", str(tmp_path / "run"), "--audio",
                     str(tmp_path / "a.wav"), "--image", str(photo), "-o", str(out)])
        assert code == 2 and "skeletons are written as .npz" in capsys.readouterr().err
    code = main(["sample", "--checkpoint", str(tmp_path / "run"), "--audio",
                 str(tmp_path / "a.wav"), "--image", str(photo), "-o", str(tmp_path / "s.npz"),
                 "--style", str(tmp_path / "s.npz")])
    assert code == 2 and "is the style clip this command reads" in capsys.readouterr().err
    with pytest.raises(OptionError, match="written as .npz"):
        GeneratePipeline()(audio=tmp_path / "a.wav", image=photo, output=tmp_path / "v.mp4",
                           motion_output=tmp_path / "other.png")
    assert photo.read_bytes() == b"the user's photo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]
