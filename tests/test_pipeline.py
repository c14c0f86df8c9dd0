"""GeneratePipeline's options: its own copy, and no method named like an option."""

from __future__ import annotations

import dataclasses

import pytest

from gesticulate.errors import OptionError
from gesticulate.pipeline import GenerateOptions, GeneratePipeline


def test_the_callers_options_are_left_as_they_were():
    mine = GenerateOptions(size=256)
    pipe = GeneratePipeline(mine, size=128, phones=False, renderer="pose")
    assert mine == GenerateOptions(size=256)
    assert (pipe.options.size, pipe.options.phones, pipe.options.renderer) == (128, False, "pose")
    other = GeneratePipeline(mine)
    assert other.options == mine and other.options is not mine


@pytest.mark.parametrize("overrides,match", [({"sise": 128}, "unknown option 'sise'"),
                                             ({"size": 1}, "--size 1 is out of range")])
def test_bad_overrides_are_refused_and_change_nothing(overrides, match):
    mine = GenerateOptions()
    with pytest.raises(OptionError, match=match):
        GeneratePipeline(mine, **overrides)
    assert mine == GenerateOptions()


def test_no_method_shares_a_name_with_an_option():
    clash = [f.name for f in dataclasses.fields(GenerateOptions)
             if hasattr(GeneratePipeline, f.name)]
    assert clash == []


def test_smoothing_before_rendering_is_a_switch():
    """``smooth`` (on by default; ``--no-smooth``) smooths the motion's body and hands before
    rendering; off, a jittering wrist reaches the renderer as it is."""
    import numpy as np

    from gesticulate.data.synthetic import template_pose
    from gesticulate.skeleton import layout as L
    from gesticulate.skeleton.sequence import SkeletonSequence
    ref = template_pose(size=256).astype(np.float64)
    rng = np.random.default_rng(0)
    kp = np.repeat(ref[None], 50, axis=0)
    kp[:, L.LEFT_WRIST, 1] += np.linspace(0, 40, 50) + rng.normal(0, 3, 50)   # jitter on a lift
    motion = SkeletonSequence(kp.astype(np.float32), 25.0, (256, 256))

    def jitter(smooth: bool) -> float:
        out = GeneratePipeline(smooth=smooth).fit_motion(motion, ref, image_size=(256, 256))
        return float(np.abs(np.diff(out.keypoints[:, L.LEFT_WRIST, 1], 2)).mean())
    assert jitter(True) < 0.5 * jitter(False)


def test_web_form_flags():
    from gesticulate.web.validate import parse_settings
    motions = {"procedural": ["auto"], "diffusion": []}
    off = parse_settings({"smooth": "0", "hands_first": "1"}, max_size=512, motions=motions,
                         checkpoints={})
    assert off["smooth"] is False and off["hands_first"] is False   # procedural: not learned
    on = parse_settings({"motion": "diffusion", "hands_first": "1"}, max_size=512,
                        motions=motions, checkpoints={"diffusion": "run"})
    assert on["smooth"] is True and on["hands_first"] is True and on["checkpoint"] == "run"


def test_predicted_region_activity_reaches_the_renderer_through_smoothing_and_fitting():
    """A learned model's face, lips and hands activity (MotionDiT's mask head) stays with its
    motion through the smoothing and the fit to the photo, for the diffusion renderer."""
    import numpy as np

    from gesticulate.data.synthetic import template_pose
    from gesticulate.pipeline import smooth_learned
    from gesticulate.skeleton.sequence import SkeletonSequence
    ref = template_pose(size=256)
    act = np.random.default_rng(0).random((20, 3)).astype(np.float32)
    motion = SkeletonSequence(np.repeat(ref[None], 20, 0), 25.0, (256, 256), region_activity=act)
    fitted = GeneratePipeline().fit_motion(smooth_learned(motion), ref, image_size=(256, 256))
    assert np.array_equal(fitted.region_activity, act)
