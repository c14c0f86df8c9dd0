"""The trunk's travel read from the chest's texture (synthetic frames with a known sway)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from _metrics_helpers import base_pose
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.retarget import retarget
from gesticulate.skeleton.trunk import (TRACKED, TRUST, TrunkTracker, steady_trunk,
                                        track_trunk, tracked_source)

FPS = 25.0
SHOULDERS = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER]


def texture(size: int = 512, seed: int = 0) -> np.ndarray:
    """A cloth-like RGB texture: blurred noise (corners everywhere, smooth enough for sub-pixel
    shifts)."""
    rng = np.random.default_rng(seed)
    g = cv2.GaussianBlur(rng.uniform(0, 255, (size, size)).astype(np.float32), (0, 0), 2.0)
    g = cv2.normalize(g, None, 0, 255, cv2.NORM_MINMAX)
    return np.repeat(g[..., None], 3, axis=2).astype(np.uint8)


def sway(num_frames: int) -> np.ndarray:
    """A real trunk's sway: a few pixels, slow, ``(T, 2)``, 0 on the first frame."""
    t = np.arange(num_frames) / FPS
    return np.stack([2.5 * np.sin(2 * np.pi * 0.4 * t), 1.5 * (1 - np.cos(2 * np.pi * 0.3 * t))], 1)


def shifted(image: np.ndarray, d: np.ndarray) -> np.ndarray:
    m = np.float32([[1, 0, d[0]], [0, 1, d[1]]])
    return cv2.warpAffine(image, m, image.shape[1::-1], flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REFLECT)


def scene(num_frames: int = 60, *, hand_on_chest: bool = False):
    """Frames of a textured body swaying by :func:`sway`, and its detector keypoints: shoulders
    riding the other way by 2 px plus 0.5 px of jitter, as MediaPipe's do with the arms.
    ``hand_on_chest``: a textured hand lies on the chest in the first frame, then rises."""
    rng = np.random.default_rng(1)
    base, tex, d = base_pose(), texture(), sway(num_frames)
    skin = texture(seed=5)
    frames, kps = [], []
    for t in range(num_frames):
        f = shifted(tex, d[t])
        kp = base.copy()
        kp[:, :2] += d[t]
        kp[SHOULDERS, :2] += -0.8 * d[t] + rng.normal(0, 0.5, (2, 2))
        if hand_on_chest:
            c = np.array([256.0, 270.0 - 3.0 * t])
            disc = np.hypot(*(np.mgrid[0:512, 0:512][::-1] - c[:, None, None])) < 42
            f[disc] = shifted(skin, c - (256, 270))[disc]     # the hand carries its texture
            kp[L.RIGHT_ELBOW, :2] = (150, 360)
            kp[L.RIGHT_WRIST, :2] = c
            a = np.linspace(0, 2 * np.pi, 21, endpoint=False)
            kp[L.RIGHT_HAND, :2] = c + 42 * np.stack([np.cos(a), np.sin(a)], 1)   # its outline
        frames.append(f)
        kps.append(kp)
    return frames, np.stack(kps), d


def test_the_chest_is_followed_to_a_fraction_of_a_pixel():
    frames, kps, d = scene()
    travel = track_trunk(frames, kps).travel
    assert np.isfinite(travel).all()
    assert np.abs(travel - d).max() < 0.25, np.abs(travel - d).max()
    # The detector's own neck is off by 2-5 px; after steady_trunk it travels as the chest.
    neck = lambda k: k[:, SHOULDERS, :2].mean(1) - k[0, SHOULDERS, :2].mean(0)   # noqa: E731
    assert np.abs(neck(kps) - d).max() > 3
    steady, tracked = steady_trunk(kps, travel, fps=FPS)
    assert tracked
    assert np.abs(neck(steady) - d).max() < 0.3
    # Only the trunk moves: shoulders and hips; arms, hands and face stay the detector's.
    moved = np.abs(steady - kps).max(axis=(0, 2)) > 1e-4
    assert set(np.flatnonzero(moved)) == {L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP,
                                          L.RIGHT_HIP}


def test_a_hand_on_the_chest_does_not_drag_it():
    frames, kps, d = scene(hand_on_chest=True)
    travel = track_trunk(frames, kps).travel
    ok = np.isfinite(travel).all(1)
    assert ok.mean() > 0.8                  # the rest of the chest is seen
    # Off by under 0.6 px (in the first frame of the hand's rise); corners taken on the hand
    # (no arms mask) drag it 6 px.
    assert np.abs(travel[ok] - d[ok]).max() < 0.6


def test_where_texture_and_detector_disagree_the_detector_is_kept():
    _, kps, d = scene()
    sw = 100.0
    travel = d.copy()
    travel[20:45] += (0.3 * sw, 0.0)         # a speaker walking away from the first texture
    assert L.shoulder_width(kps).mean() == pytest.approx(sw, rel=0.05)
    steady, tracked = steady_trunk(kps, travel, fps=FPS)
    assert tracked and 0.3 > TRUST
    # Far (> 0.4 s) from the frames that agree, no correction; near them, the one they give.
    assert np.abs(steady[29:36] - kps[29:36]).max() < 1e-4
    neck = steady[:, SHOULDERS, :2].mean(1) - steady[0, SHOULDERS, :2].mean(0)
    assert np.abs(neck[:18] - d[:18]).max() < 0.3


def test_no_chest_to_follow_leaves_the_skeleton_as_it_is():
    frames, kps, _ = scene(10)
    flat = [np.full_like(f, 90) for f in frames]              # a plain black jumper
    travel = track_trunk(flat, kps).travel
    assert np.isnan(travel[1:]).all()
    steady, tracked = steady_trunk(kps, travel, fps=FPS)
    assert not tracked and np.array_equal(steady, kps)
    gone = kps.copy()
    gone[:, :, 2] = 0                                         # nobody in any frame
    assert np.isnan(TrunkTracker().update(frames[0], gone[0])).all()


def test_the_retarget_keeps_a_tracked_trunks_small_sway():
    _, kps, d = scene()
    steady, _ = steady_trunk(kps, d, fps=FPS)
    ref = steady[0]
    size = (512, 512)
    neck = lambda k: k[:, SHOULDERS, :2].mean(1) - k[0, SHOULDERS, :2].mean(0)   # noqa: E731
    held = retarget(steady, fps=FPS, reference=ref, size=size)
    kept = retarget(steady, fps=FPS, reference=ref, size=size, trunk_tracked=True)
    # A detector's trunk gets a dead zone: most of a 2.5 px sway on 100 px shoulders is lost.
    assert np.abs(neck(held) - d).max() > 1.5
    assert np.abs(neck(kept) - d).max() < 0.6


def test_the_sequence_says_its_trunk_was_tracked():
    assert tracked_source({"body": "x"}, True) == {"body": "x", TRACKED[0]: TRACKED[1]}
    assert tracked_source({"body": "x"}, False) == {"body": "x"}
    assert tracked_source(None, False) is None


@pytest.mark.realdata
def test_extract_follows_a_real_chest(shared_data):
    """hbr_speaker7's chest moves 3 px down and aside while MediaPipe's shoulders move 6 px the
    other way; the extracted trunk travels with the chest."""
    from gesticulate.skeleton.extract import extract_video

    seq = extract_video(shared_data / "video" / "hbr_speaker7.mp4", progress=False)
    assert TRACKED[0] in seq.confidence_source
    neck = seq.keypoints[:, SHOULDERS, :2].mean(1)
    travel = neck - neck[0]
    assert travel[60:, 1].mean() > 1.5 and travel[60:, 0].mean() > 0.5, travel[::10]


def test_the_background_tracker_keeps_order_and_gives_the_same_travel():
    from gesticulate.skeleton.trunk import Background

    frames, kps, _ = scene(20)
    with Background() as bg:
        for f, k in zip(frames, kps):
            bg.feed(f, k)
        travel = bg.travel
    assert np.array_equal(travel, track_trunk(frames, kps).travel)


def test_a_tracked_trunk_survives_saving_and_reaches_the_retarget(tmp_path):
    from gesticulate.pipeline import GeneratePipeline
    from gesticulate.skeleton.sequence import SkeletonSequence

    _, kps, d = scene()
    steady, tracked = steady_trunk(kps, d, fps=FPS)
    seq = SkeletonSequence(steady, FPS, (512, 512), confidence_source=tracked_source(
        {"body": "MediaPipe"}, tracked))
    seq.save(tmp_path / "m.npz")
    back = SkeletonSequence.load(tmp_path / "m.npz")
    assert back.confidence_source[TRACKED[0]] == TRACKED[1]
    pipe = GeneratePipeline()
    neck = lambda k: k[:, SHOULDERS, :2].mean(1) - k[0, SHOULDERS, :2].mean(0)   # noqa: E731
    kept = pipe.fit_motion(back, steady[0], image_size=(512, 512)).keypoints
    back.confidence_source = {"body": "MediaPipe"}
    held = pipe.fit_motion(back, steady[0], image_size=(512, 512)).keypoints
    assert np.abs(neck(kept) - d).max() < 0.6 < np.abs(neck(held) - d).max()


def fading_scene(num_frames: int):
    """:func:`scene`'s sway on a chest whose texture turns into another over the frames (a
    jacket catching other light, a speaker turning): no corner of the first frame is left to
    follow at the end."""
    _, kps, d = scene(num_frames)
    a, b = texture(seed=0).astype(np.float32), texture(seed=7).astype(np.float32)
    frames = []
    for t in range(num_frames):
        mix = t / (num_frames - 1)
        frames.append(shifted(((1 - mix) * a + mix * b).astype(np.uint8), d[t]))
    return frames, kps, d


def test_a_long_track_takes_new_anchors_and_keeps_following():
    frames, kps, d = fading_scene(150)
    once = track_trunk(frames, kps).travel
    ok = np.isfinite(once).all(1)
    assert not ok[-30:].any()               # the first frame's corners are gone by the end
    anchored = track_trunk(frames, kps, reanchor=25)
    assert np.isfinite(anchored.travel).all() and (anchored.epochs == 0).all()
    # Carried on from anchor to anchor, five times: within a pixel at the end.
    err = np.abs(anchored.travel - d)
    assert err.max() < 1.0 and err[:25].max() < 0.25, err.max(1)[::10]
    with pytest.raises(ValueError, match="reanchor"):
        TrunkTracker(reanchor=0)


def test_a_lost_chest_starts_a_new_epoch_read_from_its_own_first_frame():
    frames, kps, d = scene(60)
    cut = [np.full_like(f, 90) for f in frames[20:30]]      # ten frames of a plain jumper ...
    later = [shifted(f, (30.0, -20.0)) for f in frames[30:]]    # ... then the chest elsewhere
    kps = kps.copy()
    kps[30:, :, :2] += (30.0, -20.0)
    kps[30, SHOULDERS, 1] += 3.0             # the detector's jitter on the new epoch's first frame
    tracker = track_trunk(frames[:20] + cut + later, kps, reanchor=5)
    travel, epochs = tracker.travel, tracker.epochs
    assert (epochs[:20] == 0).all() and (epochs[30:] == 1).all()
    assert np.isnan(travel[20:30]).all()
    # The new epoch has its own origin: its first frame.
    assert np.abs(travel[30:] - (d[30:] - d[30])).max() < 0.3
    # steady_trunk reads each epoch from its own first frame, in any window of the track: the
    # neck travels as the chest does (the detector's own is 2-5 px off).
    neck = lambda k: k[:, SHOULDERS, :2].mean(1)      # noqa: E731
    for a, b in ((0, 60), (25, 60), (5, 40)):
        steady, tracked = steady_trunk(kps[a:b], travel[a:b], fps=FPS, epochs=epochs[a:b])
        assert tracked
        for e in np.unique(epochs[a:b]):
            mine = np.flatnonzero(np.isfinite(travel[a:b]).all(1) & (epochs[a:b] == e))
            got = neck(steady[mine]) - neck(steady[mine[:1]])
            want = d[a + mine] - d[a + mine[0]]
            assert np.abs(got - want).max() < 0.3, (a, b, e)
            if e != epochs[a:b][np.isfinite(travel[a:b]).all(1)][0]:
                # A later epoch agrees with the detector on the median, not with its first frame.
                off = np.median(neck(steady[mine]) - neck(kps[a + mine]), axis=0)
                assert np.abs(off).max() < 0.5, off
