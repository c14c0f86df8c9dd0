"""Holistic → COCO-WholeBody 133 extraction: the mapping, people counting, video, files."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from gesticulate.errors import InputError, OptionError
from gesticulate.image import load_image
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.extract import (
    count_people, extract, extract_image, iter_video_keypoints,
)
from gesticulate.skeleton.mediapipe_map import (
    FACE_MESH_TO_IBUG68, OUTSIDE_CONFIDENCE, PART_FLOOR, POSE_TO_BODY, UNCHECKED, landmarks_to_coco133,
)
from gesticulate.skeleton.sequence import SkeletonSequence
from gesticulate.video import VideoWriter, iter_frames, probe_video

PHOTOS = ("desk_host_body.png", "pats_oliver_slice18.png", "portrait_6.jpg", "portrait_s2.jpg")
HBR = ("hbr_speaker7.mp4", "hbr_speaker8.mp4", "hbr_speaker9.mp4", "hbr_speaker12.mp4")


# --- the mapping, on synthetic landmarks (no MediaPipe) --------------------------------------

def test_mapping_places_parts_and_confidences():
    rng = np.random.default_rng(0)
    pose = np.c_[rng.uniform(0.1, 0.9, (33, 2)), rng.uniform(0.2, 1.0, 33)]
    pose[16, :2] = (1.2, 0.5)  # right wrist outside the image
    face = rng.uniform(0.3, 0.6, (478, 2))
    left = rng.uniform(0.1, 0.9, (21, 2))
    kp = landmarks_to_coco133(pose=pose, face=face, left_hand=left, right_hand=None,
                              image_size=(200, 100))
    assert kp.shape == (133, 3) and kp.dtype == np.float32
    np.testing.assert_allclose(kp[L.NOSE], [pose[0, 0] * 200, pose[0, 1] * 100, pose[0, 2]], rtol=1e-5)
    np.testing.assert_allclose(kp[L.LEFT_SHOULDER, :2], pose[11, :2] * (200, 100), rtol=1e-5)
    assert POSE_TO_BODY[L.LEFT_WRIST] == 15 and POSE_TO_BODY[L.RIGHT_WRIST] == 16
    # outside the image: coordinates kept, confidence capped
    np.testing.assert_allclose(kp[L.RIGHT_WRIST, :2], (240, 50), rtol=1e-5)
    assert kp[L.RIGHT_WRIST, 2] <= OUTSIDE_CONFIDENCE + 1e-6
    # feet: heel and big toe from BlazePose, small toe unavailable
    np.testing.assert_allclose(kp[19, :2], pose[29, :2] * (200, 100), rtol=1e-5)
    assert kp[18, 2] == 0 and kp[21, 2] == 0 and kp[17, 2] > 0
    # face: iBUG 27 (nose bridge top) is the mean of mesh 168 and 6
    np.testing.assert_allclose(kp[L.face(27), :2], (face[168] + face[6]) / 2 * (200, 100), rtol=1e-5)
    # a detected part: one graded confidence for all its points (part_confidence)
    assert len(set(kp[L.FACE, 2].tolist())) == 1 and PART_FLOOR <= kp[L.face(0), 2] <= 1
    # hands: the person's left hand goes to 91–111 in MediaPipe's (= DWPose's) order
    np.testing.assert_allclose(kp[L.LEFT_HAND, :2], left * (200, 100), rtol=1e-5)
    assert len(set(kp[L.LEFT_HAND, 2].tolist())) == 1 and (kp[L.RIGHT_HAND] == 0).all()


def test_hand_and_face_confidences_are_graded_by_the_pose_models_agreement():
    """MediaPipe scores neither hands nor faces: a hand whose wrist sits on a clearly seen
    pose wrist scores near 1, one found two palms away from it falls under training's 0.7
    mask, never under the renderer's 0.3; a wrist the pose model does not see leaves the
    hand unchecked (0.8). The face likewise, by its nose tip against the pose nose."""
    pose = np.zeros((33, 3), np.float32)
    pose[:, :2], pose[:, 2] = 0.5, 1.0
    pose[15] = (0.30, 0.60, 1.0)                       # the person's left wrist
    hand = np.zeros((21, 2), np.float32)
    hand[:, 0], hand[:, 1] = 0.30, np.linspace(0.60, 0.52, 21)
    hand[9] = (0.30, 0.55)                             # palm: 0.05 of the frame

    def conf(h, vis=1.0):
        p = pose.copy()
        p[15, 2] = vis
        kp = landmarks_to_coco133(pose=p, face=None, left_hand=h, right_hand=None,
                                  image_size=(100, 100))
        return float(kp[L.LEFT_HAND_START, 2])
    assert conf(hand) > 0.95
    far = hand + (0.10, 0.0)                           # two palms away
    assert PART_FLOOR <= conf(far) < 0.7
    assert conf(far, vis=0.1) == pytest.approx(PART_FLOOR)
    assert conf(hand, vis=0.0) == pytest.approx(UNCHECKED)
    face = np.full((478, 2), 0.5, np.float32)
    face[[127, 234, 93]], face[[454, 356, 323]] = (0.4, 0.5), (0.6, 0.5)   # 0.2 wide
    kp = landmarks_to_coco133(pose=pose, face=face, left_hand=None, right_hand=None,
                              image_size=(100, 100))
    assert kp[L.face(30), 2] > 0.95
    kp = landmarks_to_coco133(pose=pose, face=face + (0.1, 0.0), left_hand=None,
                              right_hand=None, image_size=(100, 100))
    assert kp[L.face(30), 2] < 0.7


def test_one_hand_returned_as_both_hands_is_kept_once():
    """Holistic returns a hand lying over the other wrist's region as both hands
    (avspeech_sample1's right hand across her chest, her left arm under the frame's edge):
    it is kept where its wrist agrees with the pose wrist, the other hand cleared. Two real
    hands held together, even fingers laced, are both kept."""
    pose = np.zeros((33, 3), np.float32)
    pose[:, :2], pose[:, 2] = 0.5, 1.0
    pose[16] = (0.40, 0.70, 1.0)                       # right wrist, under its hand
    pose[15] = (0.65, 0.80, 0.6)                       # left wrist, a guess
    hand = np.zeros((21, 2), np.float32)
    hand[:, 0], hand[:, 1] = np.linspace(0.40, 0.48, 21), np.linspace(0.70, 0.62, 21)
    hand[9] = (0.44, 0.65)
    twice = hand + np.random.default_rng(0).normal(0, 0.003, hand.shape).astype(np.float32)
    kp = landmarks_to_coco133(pose=pose, face=None, left_hand=twice, right_hand=hand,
                              image_size=(100, 100))
    assert (kp[L.LEFT_HAND] == 0).all()
    np.testing.assert_allclose(kp[L.RIGHT_HAND, :2], hand * 100, rtol=1e-5)
    # the right hand returned as both, its left copy nearer the pose's own wrist: still kept right
    kp = landmarks_to_coco133(pose=pose, face=None, left_hand=hand, right_hand=twice,
                              image_size=(100, 100))
    assert (kp[L.LEFT_HAND] == 0).all() and (kp[L.RIGHT_HAND][:, 2] > 0).all()
    # ... also where the copy's wrist and palm follow the other crop (avspeech_sample1 at 512
    # px: the fingers 0.20 palm lengths apart, all 21 points 0.31): the fingers tell
    palm = float(np.linalg.norm(hand[9] - hand[0]))
    shift = np.full(21, 0.1)
    shift[[0, 1, 5, 9, 13, 17]] = 1.0                   # wrist and knuckles
    shift[[2, 6, 10, 14, 18]] = 0.45                    # the fingers' first joints
    moved = hand + np.stack([shift * palm, np.zeros(21)], axis=1).astype(np.float32)
    kp = landmarks_to_coco133(pose=pose, face=None, left_hand=moved, right_hand=hand,
                              image_size=(100, 100))
    assert (kp[L.LEFT_HAND] == 0).all() and (kp[L.RIGHT_HAND][:, 2] > 0).all()
    # two hands steepled, fingertips together: as close over the fingers (0.21 palm lengths),
    # but a left and a right hand, each other's mirror image
    steeple = np.zeros((21, 2), np.float32)
    steeple[0] = (0.455, 0.80)
    bases = [(0.465, 0.76), (0.48, 0.70), (0.475, 0.69), (0.47, 0.695), (0.465, 0.705)]
    tips = [(0.47, 0.66), (0.50, 0.58), (0.50, 0.565), (0.50, 0.575), (0.50, 0.595)]
    for k, (b, t) in enumerate(zip(np.array(bases), np.array(tips))):
        steeple[1 + 4 * k:5 + 4 * k] = b + (t - b) * (np.arange(4)[:, None] / 3.0)
    mirror = steeple.copy()
    mirror[:, 0] = 1.0 - steeple[:, 0]
    both = pose.copy()
    both[16], both[15] = (0.455, 0.80, 1.0), (0.545, 0.80, 1.0)
    kp = landmarks_to_coco133(pose=both, face=None, left_hand=mirror, right_hand=steeple,
                              image_size=(100, 100))
    assert (kp[L.LEFT_HAND][:, 2] > 0).all() and (kp[L.RIGHT_HAND][:, 2] > 0).all()
    # two hands together: mirrored about the wrists' midline, the fingers overlapping
    pose[15] = (0.56, 0.70, 1.0)
    other = hand.copy()
    other[:, 0] = 0.96 - hand[:, 0]
    kp = landmarks_to_coco133(pose=pose, face=None, left_hand=other, right_hand=hand,
                              image_size=(100, 100))
    assert (kp[L.LEFT_HAND][:, 2] > 0).all() and (kp[L.RIGHT_HAND][:, 2] > 0).all()


def test_face_table_is_68_distinct_mesh_points():
    assert len(FACE_MESH_TO_IBUG68) == 68
    flat = [i for idx in FACE_MESH_TO_IBUG68 for i in idx]
    assert all(0 <= i < 468 for i in flat)
    assert len({idx for idx in FACE_MESH_TO_IBUG68}) == 68


def test_nothing_detected_gives_zeros():
    kp = landmarks_to_coco133(pose=None, face=None, left_hand=None, right_hand=None,
                              image_size=(64, 64))
    assert (kp == 0).all()


# --- a real photo ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def desk(shared_data):
    rgb = load_image(shared_data / "photo" / "desk_host_body.png")
    return rgb, extract_image(rgb)


def _dist(kp, a, b):
    return float(np.linalg.norm(kp[a, :2] - kp[b, :2]))


def test_body_points_on_real_photo(desk):
    _, kp = desk
    sw = float(L.shoulder_width(kp))
    assert sw > 100  # a 512-px upper-body photo
    assert (kp[[L.NOSE, L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_SHOULDER, L.RIGHT_SHOULDER], 2] > 0.9).all()
    # frontal photo: the person's right side is on the image's left
    assert kp[L.RIGHT_EYE, 0] < kp[L.NOSE, 0] < kp[L.LEFT_EYE, 0]
    assert kp[L.NOSE, 1] > max(kp[L.LEFT_EYE, 1], kp[L.RIGHT_EYE, 1])
    assert kp[L.RIGHT_SHOULDER, 0] < kp[L.LEFT_SHOULDER, 0]
    assert kp[L.NOSE, 1] < kp[L.LEFT_SHOULDER, 1]


def test_hands_belong_to_the_right_wrists(desk):
    _, kp = desk
    sw = float(L.shoulder_width(kp))
    assert kp[L.LEFT_HAND_START, 2] > 0 and kp[L.RIGHT_HAND_START, 2] > 0
    assert _dist(kp, L.LEFT_WRIST, L.LEFT_HAND_START) < 0.2 * sw
    assert _dist(kp, L.RIGHT_WRIST, L.RIGHT_HAND_START) < 0.2 * sw
    assert _dist(kp, L.LEFT_WRIST, L.RIGHT_HAND_START) > 0.3 * sw


def test_face_points_in_ibug_order(desk):
    _, kp = desk
    f = lambda i: kp[L.face(i)]  # noqa: E731
    jaw = kp[list(L.JAW)]
    assert np.argmax(jaw[:, 1]) in (7, 8, 9)  # chin is the lowest jaw point
    assert jaw[0, 0] < f(8)[0] < jaw[16, 0]  # jaw runs from the image's left to its right
    brows, eyes = kp[list(L.RIGHT_BROW + L.LEFT_BROW)], kp[list(L.RIGHT_EYE_CONTOUR + L.LEFT_EYE_CONTOUR)]
    assert brows[:, 1].mean() < eyes[:, 1].mean()
    assert kp[list(L.RIGHT_BROW), 0].mean() < kp[list(L.LEFT_BROW), 0].mean()
    # eye contours around the body model's eye points, nose tip at the body nose
    sw = float(L.shoulder_width(kp))
    right_eye = kp[list(L.RIGHT_EYE_CONTOUR), :2].mean(0)
    left_eye = kp[list(L.LEFT_EYE_CONTOUR), :2].mean(0)
    assert np.linalg.norm(right_eye - kp[L.RIGHT_EYE, :2]) < 0.08 * sw
    assert np.linalg.norm(left_eye - kp[L.LEFT_EYE, :2]) < 0.08 * sw
    assert np.linalg.norm(f(30)[:2] - kp[L.NOSE, :2]) < 0.08 * sw
    # nose between eyes and mouth; mouth corners outside the inner-lip centres
    assert eyes[:, 1].mean() < f(33)[1] < f(51)[1]
    left_corner, right_corner = kp[L.MOUTH_LEFT_CORNER], kp[L.MOUTH_RIGHT_CORNER]
    for i in (L.INNER_LIP_TOP, L.INNER_LIP_BOTTOM):
        assert left_corner[0] < kp[i, 0] < right_corner[0]
    assert f(51)[1] < kp[L.INNER_LIP_TOP, 1] <= kp[L.INNER_LIP_BOTTOM, 1] < f(57)[1]
    assert f(57)[1] < f(8)[1]  # lower lip above the chin


@pytest.mark.parametrize("name", PHOTOS)
def test_real_photos_are_one_person(shared_data, name):
    rgb = load_image(shared_data / "photo" / name)
    assert count_people(rgb) == 1
    kp = extract_image(rgb)
    assert (kp[L.FACE, 2] > 0).all() and kp[L.NOSE, 2] > 0.9


# --- people counting -------------------------------------------------------------------------

def _side_by_side(a: np.ndarray, b: np.ndarray, height: int = 512) -> np.ndarray:
    ims = [Image.fromarray(x).resize((round(x.shape[1] * height / x.shape[0]), height)) for x in (a, b)]
    return np.concatenate([np.asarray(i) for i in ims], axis=1)


@pytest.mark.parametrize("pair", [("desk_host_body.png", "portrait_s2.jpg"),
                                  ("portrait_6.jpg", "pats_oliver_slice18.png")])
def test_two_people_are_refused(shared_data, pair):
    both = _side_by_side(*(load_image(shared_data / "photo" / p) for p in pair))
    assert count_people(both) == 2
    with pytest.raises(InputError, match="2 people"):
        extract_image(both)


def test_hands_are_not_counted_as_people(shared_data):
    # Regression: the short-range face model saw a second face in these frames (hands).
    frames = itertools.islice(iter_frames(shared_data / "video" / "hbr_speaker7.mp4"), 30, 91, 15)
    assert [count_people(f) for f in frames] == [1, 1, 1, 1, 1]


@pytest.mark.parametrize("image", ["coffee", "gradient"])
def test_no_person_is_refused(image):
    if image == "coffee":
        from skimage.data import coffee
        rgb = coffee()
    else:
        ramp = np.linspace(0, 255, 256, dtype=np.uint8)
        rgb = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], 128 * np.ones((1, 1), np.uint8)), -1)
    assert count_people(rgb) == 0
    with pytest.raises(InputError, match="no person found"):
        extract_image(rgb)


# --- video -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HBR)
def test_video_finds_hands_in_most_frames(shared_data, name):
    frames = list(itertools.islice(iter_video_keypoints(shared_data / "video" / name), 40))
    kp = np.stack([k for _, k in frames])
    assert kp.shape == (40, 133, 3) and frames[0][0].shape == (768, 768, 3)
    any_hand = (kp[:, L.LEFT_HAND_START, 2] > 0) | (kp[:, L.RIGHT_HAND_START, 2] > 0)
    assert any_hand.mean() >= 0.8
    assert (kp[:, L.FACE, 2] > 0).all(axis=1).mean() >= 0.9
    # a tracked hand stays near its own wrist
    for wrist, hand in ((L.LEFT_WRIST, L.LEFT_HAND_START), (L.RIGHT_WRIST, L.RIGHT_HAND_START)):
        seen = (kp[:, hand, 2] > 0) & (kp[:, wrist, 2] > 0.5)
        d = np.linalg.norm(kp[seen, hand, :2] - kp[seen, wrist, :2], axis=-1)
        assert np.median(d) < 0.25 * np.median(L.shoulder_width(kp))


def _short_clip(src, dst, n=12):
    info = probe_video(src)
    with VideoWriter(dst, fps=info.fps, size=(info.width, info.height)) as w:
        for frame in itertools.islice(iter_frames(src), n):
            w.write(frame)


def test_extract_video_job_writes_npz_and_overlay(shared_data, tmp_path):
    clip = tmp_path / "clip.mp4"
    _short_clip(shared_data / "video" / "hbr_speaker8.mp4", clip)
    seq = extract(clip, output=tmp_path / "poses.npz", overlay=tmp_path / "overlay.mp4",
                  fps=15, progress=False)
    back = SkeletonSequence.load(tmp_path / "poses.npz")
    assert len(back) == len(seq) == 6 and back.fps == 15 and back.image_size == (768, 768)
    np.testing.assert_array_equal(back.keypoints, seq.keypoints)
    overlay = list(iter_frames(tmp_path / "overlay.mp4"))
    assert len(overlay) == 6 and overlay[0].shape == (768, 768, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "overlay.mp4", "poses.npz"]


def test_extract_image_job_round_trip(shared_data, tmp_path):
    seq = extract(shared_data / "photo" / "portrait_6.jpg", output=tmp_path / "p.npz",
                  overlay=tmp_path / "p.png", progress=False)
    back = SkeletonSequence.load(tmp_path / "p.npz")
    assert back.keypoints.shape == (1, 133, 3) and back.image_size == (624, 624)
    np.testing.assert_array_equal(back.keypoints, seq.keypoints)
    photo = np.asarray(Image.open(shared_data / "photo" / "portrait_6.jpg").convert("RGB"))
    drawn = np.asarray(Image.open(tmp_path / "p.png"))
    assert drawn.shape == photo.shape and (drawn != photo).any()


# --- bad input -------------------------------------------------------------------------------

def test_bad_inputs(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    junk = tmp_path / "blob.xyz"
    junk.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(InputError, match="not found"):
        extract(tmp_path / "missing.mp4", output=tmp_path / "a.npz")
    with pytest.raises(InputError, match="not an image"):
        extract(text, output=tmp_path / "a.npz")
    with pytest.raises(InputError, match="neither an image nor a video"):
        extract(junk, output=tmp_path / "a.npz")
    Image.fromarray(np.zeros((128, 128, 3), np.uint8)).save(tmp_path / "black.png")
    with pytest.raises(OptionError, match=".npz"):
        extract(tmp_path / "black.png", output=tmp_path / "a.json")
    with pytest.raises(OptionError, match="overlay"):
        extract(tmp_path / "black.png", output=tmp_path / "a.npz", overlay=tmp_path / "o.mp4")
    with pytest.raises(OptionError, match="fps"):
        extract(tmp_path / "black.png", output=tmp_path / "a.npz", fps=0)
    with pytest.raises(InputError, match="no person"):
        extract(tmp_path / "black.png", output=tmp_path / "a.npz", overlay=tmp_path / "o.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["black.png", "blob.xyz", "notes.png"]


def test_bad_videos_leave_no_output(tmp_path):
    clip = tmp_path / "noise.mp4"
    rng = np.random.default_rng(0)
    with VideoWriter(clip, fps=25, size=(128, 96)) as w:
        for _ in range(20):
            w.write(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))
    with pytest.raises(InputError, match="no person found in any frame"):
        extract(clip, output=tmp_path / "a.npz", overlay=tmp_path / "o.mp4", progress=False)
    data = bytearray(clip.read_bytes())
    start = data.find(b"mdat") + 200
    data[start:start + len(data) // 2] = bytes(len(data) // 2)  # zero the middle of the frames
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupt|not a readable video"):
        extract(broken, output=tmp_path / "a.npz", overlay=tmp_path / "o.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "noise.mp4"]
