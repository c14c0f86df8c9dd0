"""Wrists MediaPipe guesses: a photo's arm hanging out of the picture folded back up over its
upper arm (skeleton.clean.drop_folded_guesses), and a driving wrist without its hand, which
pose fidelity does not ask a render to reproduce (metrics.fidelity)."""

from __future__ import annotations

import numpy as np

from gesticulate.data.synthetic import template_pose
from gesticulate.metrics.fidelity import pose_fidelity
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.clean import drop_folded_guesses

SIZE = 256


def _folded(elbow_y: float, *, hand: bool) -> np.ndarray:
    """The template photo with its left arm hanging straight down to an elbow at
    ``elbow_y`` and the forearm folded back up over the upper arm (the guess's shape)."""
    ref = template_pose(size=SIZE).astype(np.float64)
    s = ref[L.LEFT_SHOULDER, :2]
    ref[L.LEFT_ELBOW, :2] = [s[0] + 4.0, elbow_y]
    ref[L.LEFT_WRIST, :2] = [s[0] + 12.0, 0.5 * (s[1] + elbow_y)]
    ref[L.LEFT_HAND, 2] = 0.9 if hand else 0.0
    ref[[L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST], 2] = 0.95
    return ref


def test_a_wrist_folded_up_from_an_elbow_at_the_bottom_edge_without_a_hand_is_a_guess():
    out = drop_folded_guesses(_folded(0.96 * SIZE, hand=False), (SIZE, SIZE))
    assert out[L.LEFT_WRIST, 2] == 0 and (out[L.LEFT_HAND, 2] == 0).all()
    assert out[L.LEFT_ELBOW, 2] > 0.9 and out[L.RIGHT_WRIST, 2] > 0       # nothing else
    # A folded arm that shows its hand, or whose elbow is well inside the frame, is real
    # (hbr_speaker12's raised forearms; interview_1wrQ6Msp7wM's hand at her chest).
    for ref in (_folded(0.96 * SIZE, hand=True), _folded(0.75 * SIZE, hand=False)):
        out = drop_folded_guesses(ref, (SIZE, SIZE))
        assert out[L.LEFT_WRIST, 2] > 0.9
    # An arm hanging straight (not folded) keeps its wrist even without a hand found.
    ref = _folded(0.96 * SIZE, hand=False)
    ref[L.LEFT_WRIST, :2] = ref[L.LEFT_ELBOW, :2] + [10.0, 30.0]
    assert drop_folded_guesses(ref, (SIZE, SIZE))[L.LEFT_WRIST, 2] > 0.9


def test_fidelity_does_not_ask_for_a_wrist_guessed_without_its_hand():
    drv = np.repeat(template_pose(size=SIZE)[None].astype(np.float64), 10, axis=0)
    drv[:, L.LEFT_HAND, 2] = 0.0                      # the left hand is never found
    red = drv.copy()
    red[:, L.LEFT_WRIST, :2] += 100.0                 # and the render puts that wrist elsewhere
    assert pose_fidelity(red, drv)["arm_fidelity"] == 1.0
    red = drv.copy()
    red[:, L.RIGHT_WRIST, :2] += 100.0                # a wrist with its hand is still asked for
    assert pose_fidelity(red, drv)["arm_fidelity"] < 0.9


def test_fidelity_leaves_out_the_points_it_is_told_not_to_ask_and_keeps_their_scale():
    """A point the detector loses on the still photo itself (portrait_6's right shoulder at
    the frame's corner, tracked just outside it) is left out; its shoulder still sets the
    tolerance, so the other points are judged as before."""
    from gesticulate.metrics.fidelity import ARM_POINTS
    drv = np.repeat(template_pose(size=SIZE)[None].astype(np.float64), 10, axis=0)
    red = drv.copy()
    red[:, L.RIGHT_SHOULDER, 2] = 0.1                 # lost by the re-detection
    assert pose_fidelity(red, drv)["arm_fidelity"] < 0.9
    skip = ARM_POINTS == L.RIGHT_SHOULDER
    assert pose_fidelity(red, drv, not_asked=skip)["arm_fidelity"] == 1.0
    red[:, L.LEFT_ELBOW, :2] += 100.0                 # the others are still asked for
    assert pose_fidelity(red, drv, not_asked=skip)["arm_fidelity"] < 0.9


def test_fidelity_does_not_ask_for_a_point_the_motion_puts_outside_the_picture():
    """A close-up's elbow slid past the frame's corner is out of sight in the video: no
    detector finds it there. A point inside the picture is still asked for."""
    drv = np.repeat(template_pose(size=SIZE)[None].astype(np.float64), 10, axis=0)
    drv[5:, L.LEFT_ELBOW, 0] = -8.0                   # out past the left edge in half the frames
    red = drv.copy()
    red[:, L.LEFT_ELBOW, 2] = 0.0                     # never re-detected
    assert pose_fidelity(red, drv)["arm_fidelity"] < 0.95
    assert pose_fidelity(red, drv, size=(SIZE, SIZE))["arm_fidelity"] < 0.95   # inside: asked
    red[:5, L.LEFT_ELBOW, 2] = 1.0                    # found while it is in the picture
    assert pose_fidelity(red, drv)["arm_fidelity"] < 0.95
    assert pose_fidelity(red, drv, size=(SIZE, SIZE))["arm_fidelity"] == 1.0


def test_fidelity_finds_a_border_point_the_detector_places_just_past_the_edge():
    """avspeech_sample1's generated elbow lies 3 px above the bottom edge; MediaPipe places it
    3 px past it, where the skeleton caps its confidence at OUTSIDE_CONFIDENCE (0.1) so that
    nothing draws it. It was found where it was asked to be, and counts; a point past the edge
    but further than the tolerance from the driving one, or not found at all, does not."""
    from gesticulate.skeleton.mediapipe_map import OUTSIDE_CONFIDENCE
    drv = np.repeat(template_pose(size=SIZE)[None].astype(np.float64), 10, axis=0)
    drv[:, L.LEFT_ELBOW, :2] = (40.0, SIZE - 3.0)
    red = drv.copy()
    red[:, L.LEFT_ELBOW, 1] = SIZE + 3.0
    red[:, L.LEFT_ELBOW, 2] = OUTSIDE_CONFIDENCE
    assert pose_fidelity(red, drv)["arm_fidelity"] < 0.9                   # no picture: a miss
    assert pose_fidelity(red, drv, size=(SIZE, SIZE))["arm_fidelity"] == 1.0
    red[:, L.LEFT_ELBOW, 1] = SIZE + 60.0                                   # past, but far off
    assert pose_fidelity(red, drv, size=(SIZE, SIZE))["arm_fidelity"] < 0.9
    red[:, L.LEFT_ELBOW, 1] = SIZE + 3.0
    red[:, L.LEFT_ELBOW, 2] = 0.0                                           # not found
    assert pose_fidelity(red, drv, size=(SIZE, SIZE))["arm_fidelity"] < 0.9


def test_fidelity_does_not_ask_for_a_hand_the_motion_puts_past_the_frame():
    """A generated hand dropping past the frame's bottom edge (a lectern speaker's) is out of
    sight: with the video's size given, a frame whose driving wrist or knuckle lies outside it
    does not ask for the hand; one whose hand lies inside still does."""
    drv = np.repeat(template_pose(size=SIZE)[None].astype(np.float64), 10, axis=0)
    hand = np.arange(L.LEFT_HAND_START, L.LEFT_HAND_START + 21)
    drv[:, hand, 2] = 0.9
    red = drv.copy()
    red[:, hand, 2] = 0.0                               # never re-detected
    drv[:5, hand, 1] += SIZE - drv[:5, L.LEFT_HAND_START, 1:2] + 4.0  # wrist 4 px below the edge
    other = L.RIGHT_HAND_START                          # the template's own right hand
    red[:, other:other + 21, 2] = drv[:, other:other + 21, 2]
    whole = pose_fidelity(red, drv)
    cut = pose_fidelity(red, drv, size=(SIZE, SIZE))
    assert cut["hand_frames"] == whole["hand_frames"] - 5
    assert cut["hands_redetected"] > whole["hands_redetected"]
    drv[:5, hand, 1] -= 40.0                            # back inside: asked, and missed
    assert pose_fidelity(red, drv, size=(SIZE, SIZE))["hand_frames"] == whole["hand_frames"]
