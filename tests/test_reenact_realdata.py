"""The reenactment harness on real clips (../shared/data, skipped when absent): the warp
renderer must animate real people's own motion better than holding their first frame still,
keep their arms re-detectable where the motion put them, and leave no pieces or holes.

Thresholds from issue 14 at 256 px on four clips: two seated speakers whose arms barely move
(hbr_speaker9, and hbr_speaker7, whose small trunk sway must be followed: held still, his render
was further from the real frames than his photo), one whose hands travel from his lap to
gesturing (hbr_speaker8), and a TED speaker who walks and gestures (ted_lia_driving1, 10 fps,
no sound). The full table over every
shared clip is ``benchmarks/reenact.py``.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

CLIPS = {"hbr_speaker9.mp4": False, "hbr_speaker7.mp4": False, "hbr_speaker8.mp4": True,
         "ted_lia_driving1_noaudio.mp4": True}


@pytest.fixture(scope="module")
def result(shared_data, tmp_path_factory):
    from gesticulate.evaluate.reenact import reenact

    clips = [shared_data / "video" / c for c in CLIPS]
    return reenact(clips, output=tmp_path_factory.mktemp("reenact") / "report", size=256,
                   max_seconds=8.0, progress=False)


@pytest.mark.parametrize("name", list(CLIPS))
def test_render_beats_the_still_photo(result, name):
    clip = next(c for c in result["clips"] if c["clip"] == name.rsplit(".", 1)[0])
    warp, still = clip["rows"]["warp"], clip["rows"]["still"]
    dpsnr = warp["psnr_box_moved"] - still["psnr_box_moved"]
    dssim = warp["ssim_box_moved"] - still["ssim_box_moved"]
    travel = CLIPS[name]
    assert dpsnr >= (1.0 if travel else 0.0), dpsnr
    assert dssim >= (0.02 if travel else 0.0), dssim


@pytest.mark.parametrize("name", list(CLIPS))
def test_render_is_whole(result, name):
    clip = next(c for c in result["clips"] if c["clip"] == name.rsplit(".", 1)[0])
    warp, real = clip["rows"]["warp"], clip["rows"]["real"]
    assert warp["pieces"] <= real["pieces"] + 0.05
    assert warp["holes"] <= real["holes"] + 0.05


@pytest.mark.parametrize("name", ["hbr_speaker9.mp4", "hbr_speaker8.mp4"])
def test_arms_and_hands_where_the_motion_put_them(result, name):
    clip = next(c for c in result["clips"] if c["clip"] == name.rsplit(".", 1)[0])
    warp = clip["rows"]["warp"]
    assert warp["arm_fidelity"] >= 0.9
    assert warp["hands_redetected"] >= 0.9


def test_mean_gain(result):
    mean = result["mean"]
    assert mean["warp"]["psnr_box_moved"] - mean["still"]["psnr_box_moved"] >= 1.5
