"""Long videos: chunked generation against whole-sequence generation (tiny configs, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _render_diffusion_data import SMALL, draw_person, randomized
from gesticulate.data.synthetic import template_pose
from gesticulate.models.renderer_unet import Renderer_tiny
from gesticulate.render.diffusion import DiffusionRenderer

S, N = 32, 9


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def keypoints(n: int = N) -> np.ndarray:
    kp = np.repeat(template_pose(size=S)[None], n, 0)
    kp[:, 91:133, 1] -= np.linspace(0, 6, n)[:, None]          # hands rise over the clip
    kp[:, 9:11, 1] -= np.linspace(0, 6, n)[:, None]
    return kp


def renderer(folder, **kw) -> DiffusionRenderer:
    kp = template_pose(size=S)
    return DiffusionRenderer(folder, draw_person(kp, size=S), kp, num_steps=3, guidance_scale=1.0,
                             color_anchor=0.0, **kw)


def frames(r: DiffusionRenderer, kp, audio=None) -> torch.Tensor:
    return torch.stack(list(r.render_sequence_square(kp, audio)))   # (T, 3, S, S)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    torch.manual_seed(0)
    out = {}
    for temporal in (False, True):
        folder = tmp_path_factory.mktemp(f"temporal{int(temporal)}")
        randomized(Renderer_tiny(**{**SMALL, "temporal": temporal})).save_pretrained(folder)
        out[temporal] = folder
    return out


def test_without_temporal_layers_chunked_equals_whole(checkpoints):
    """Per-frame noise from (seed, frame) and exact stitching: chunking changes nothing."""
    audio = np.random.default_rng(0).normal(size=(N, 84)).astype(np.float32)
    whole = frames(renderer(checkpoints[False], chunk_frames=N), keypoints(), audio)
    chunked = frames(renderer(checkpoints[False], chunk_frames=3, overlap=1), keypoints(), audio)
    assert whole.shape == chunked.shape == (N, 3, S, S)
    assert torch.allclose(whole, chunked, atol=1e-4)


def test_clips_as_short_as_the_overlap_render(checkpoints):
    """One or two frames (no more than the 2-frame overlap) make one window, as before the
    window starts were shared with stage 1."""
    r = renderer(checkpoints[True], chunk_frames=4, overlap=2)
    for n in (1, 2):
        assert frames(r, keypoints(n)).shape == (n, 3, S, S)


def test_chunked_matches_whole_at_the_borders(checkpoints):
    """With temporal attention the context differs, but the borders stay close to the whole
    sequence's frames: much closer than another seed's frames, and no jump at a border."""
    whole = frames(renderer(checkpoints[True], chunk_frames=N), keypoints())
    other = frames(renderer(checkpoints[True], chunk_frames=N, seed=1), keypoints())
    chunked = frames(renderer(checkpoints[True], chunk_frames=4, overlap=1), keypoints())
    borders = [2, 3, 4, 5, 6]                      # windows [0,4) [3,7) [6,9): frames around 3 and 6
    err = (chunked[borders] - whole[borders]).abs().mean()
    seed_err = (other - whole).abs().mean()
    assert err < 0.25 * seed_err, (float(err), float(seed_err))
    step = (chunked[1:] - chunked[:-1]).abs().mean((1, 2, 3))
    step_whole = (whole[1:] - whole[:-1]).abs().mean((1, 2, 3))
    assert step.max() < 1.5 * step_whole.max() + 1e-3   # no seam larger than normal motion


def test_first_window_is_unaffected_by_what_comes_after(checkpoints):
    # The motion masks of frames 0-3 look 2 frames ahead (their sweep), and their activity
    # (measured over 5 frames) 2 more: what comes after frame 7 cannot matter.
    short = frames(renderer(checkpoints[True], chunk_frames=4, overlap=1), keypoints()[:8])
    long = frames(renderer(checkpoints[True], chunk_frames=4, overlap=1), keypoints())
    assert torch.allclose(short[:3], long[:3], atol=1e-5)  # frame 3 is cross-faded with window 2


def test_render_sequence_gives_photo_sized_frames_and_color_anchor_pulls_to_the_reference(checkpoints):
    kp = template_pose(size=S)
    photo = np.ascontiguousarray(np.pad(draw_person(kp, size=S), ((0, 0), (4, 4), (0, 0)), mode="edge"))
    kp_photo = kp.copy()
    kp_photo[:, 0] += 4
    seq = np.repeat(kp_photo[None], 5, 0)
    outs = {}
    for anchor in (0.0, 1.0):
        r = DiffusionRenderer(checkpoints[True], photo, kp_photo, num_steps=2, guidance_scale=1.0,
                              color_anchor=anchor)
        outs[anchor] = np.stack(list(r.render_sequence(seq)))
    assert outs[0.0].shape == (5, S, S + 8, 3) and outs[0.0].dtype == np.uint8
    ref_mean = photo.reshape(-1, 3).mean(0)
    gap = lambda f: np.abs(f.reshape(-1, 3).mean(0) - ref_mean).mean()  # noqa: E731
    assert gap(outs[1.0]) < gap(outs[0.0])


def test_predicted_activity_weighs_the_audio_masks(checkpoints):
    """A stage-1 prediction of face, lips and hands motion (MotionDiT's mask head) scales each
    region's mask frame by frame; without one the renderer measures it on the motion."""
    r = renderer(checkpoints[False])
    assert r.model.config.mask_shape == "motion"
    kp = r.box.keypoints(keypoints())
    plain = r.conditions(kp, None, None, np.ones((N, 3), np.float32))["masks"]
    measured = r.conditions(kp, None, None)["masks"]
    assert measured.max() <= 1 and not torch.equal(measured, plain)
    act = np.zeros((N, 3), np.float32)
    act[:, 2] = np.linspace(0, 1, N)                        # hands only, fading in
    masks = r.conditions(kp, None, None, act)["masks"][0]    # (T, R, S, S)
    hands = list(r.model.config.regions).index("hands")
    assert masks[:, [i for i in range(masks.shape[1]) if i != hands]].abs().sum() == 0
    assert torch.allclose(masks[-1, hands], plain[0, -1, hands])
    assert masks[0, hands].abs().sum() == 0
    ones = torch.stack(list(r.render_sequence_square(keypoints(), None, activity=np.ones((N, 3)))))
    assert not torch.equal(ones, torch.stack(list(
        r.render_sequence_square(keypoints(), None, activity=act))))
