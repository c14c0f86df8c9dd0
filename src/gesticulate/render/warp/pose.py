"""Per-frame bone transforms from a target skeleton (RENDERING.md, "Retargeting").

Bones copy the target's *directions* and its *lengths* relative to the photo's, from 60 % to
140 % (:data:`STRETCH`): the retargeted motion already chose each bone's length (the photo's,
foreshortened where the motion's is, longer where the photo shows the limb foreshortened and the
motion unfolds it), and a renderer that held them at the photo's length drew the hand short of
where the skeleton puts it (ted_lia_driving1 arm fidelity 0.86 -> 0.90 and hands re-detected
0.54 -> 0.72 when allowed to 140 %; box PSNR within 0.1 dB). A hand turns with all its
landmarks and stretches within 80 to 125 % (:meth:`Poser._hand`); the head rolls with the
eye line, and a turn or a nod moves the inner face across a skull that all but stays
(:meth:`Poser._parallax`, RENDERING.md's yaw by parallax: fitted as one rigid head, the hair
slid with the nose; self-reenactment's most-moved box PSNR over the still photo, mean of 12
clips, +2.70 -> +2.78 dB with the meshes' pockets and the cuff's drape fixed beside it;
un_speech_female, whose head turns most, +1.50 -> +1.77). Each frame's transforms are a
function of that frame's target alone: the motion was already cleaned, gap-filled and eased
over the whole sequence (:mod:`gesticulate.skeleton.retarget`), so a bone whose target points
are missing here simply takes the photo's pose, and a video's frames do not depend on which
process rendered them.
"""

from __future__ import annotations

import numpy as np

from gesticulate.render.warp import bones as B
from gesticulate.render.warp.parts import Parts
from gesticulate.skeleton import layout as L
from gesticulate.skeleton.retarget import LENGTH_RANGE, TURN_RANGE

STRETCH = LENGTH_RANGE   # a bone's length in a frame, relative to the photo's: the retarget's range
# A hand's length along its axis, relative to the photo's. Narrower than a bone's: a hand
# squashed to another person's foreshortening is no longer seen as a hand (desk_host_body.png
# driven by un_speech_female: hands re-detected 0.71 with 60-140 %, 0.97 with 80-125 %, 0.97
# held at 100 %; ted_lia_driving1's most-moved box PSNR +5.83, +5.59, +5.34 dB over still).
HAND_STRETCH = (0.8, 1.25)
# A finger's length (knuckle to tip, over the palm's wrist to middle knuckle) in the target
# over the photo's, within FINGER_STRETCH, and its turn against the hand's, within FINGER_TURN
# radians (Poser._fingers). Wider, 50-200 % and any turn, the fingers of hbr_speaker12's hand
# on his knee were drawn long and thin, with torn bits of finger under them (most-moved box
# PSNR over still +1.047 dB without finger bones, +0.817 with). As here: hbr_speaker12 +1.027,
# hbr_speaker9 +2.785 -> +2.842, interview_1wrQ6Msp7wM +1.010 -> +1.019, avspeech_sample1
# +3.036 -> +3.057; hands re-detected unchanged but for hbr_speaker12's 1.000 -> 0.993.
FINGER_STRETCH = (0.8, 1.25)
FINGER_TURN = 0.5
# A finger reaching less than FINGER_SURE[0] palm lengths (curled towards the camera or into a
# fist) has no direction to give: it turns with the hand; from FINGER_SURE[1] on, it takes the
# target's direction; between, a blend.
FINGER_SURE = (0.25, 0.5)
# The head's scale: a fit of its points shrinks it as it turns or nods (the face narrows or
# shortens; 0.85 on ted_lia_driving2 where her head turned and neither it nor her shoulders
# came nearer), and a head comes nearer the camera only a little more than the shoulders
# below it (a lean). So it follows the body's growth within HEAD_SCALE_SLACK, and keeps to
# HEAD_SCALE on its own where the shoulders are not seen. Self-reenactment most-moved box
# PSNR over the still (12 clips, 512 px): hbr_speaker9 +2.92 -> +2.97 dB, un_speech_female
# +2.14 -> +2.19, hbr_speaker12 +1.47 -> +1.51, ted_lia_driving2/3 +0.02 each, the rest within
# 0.01; the body's growth alone (no slack) gave avspeech_sample1 -0.06.
HEAD_SCALE = (0.85, 1.15)
HEAD_SCALE_SLACK = 0.03

# The inner face's shift across the contour by the ears (a turn's or a nod's parallax), at
# most this share of the photo's face width (x and y): RENDERING.md's yaw within 20 degrees.
PARALLAX = np.array([0.07, 0.05])
PARALLAX_STILL = 0.01
PARALLAX_STILL_PX = 1.0
# An elbow's offset from where the photo's upper arm puts it (from the target's shoulder) is
# shrunk by ELBOW_STILL shoulder widths (a radial dead zone, on top of the retarget's soft hold
# of an anchored bone's angle within 0.04 rad of the photo's), no further than lets the forearm
# reach the target's wrist within its stretch. A tracker puts the elbow
# of a loose sleeve a few pixels off as the forearm turns, and turning the whole upper arm by
# that shifts its cloth against the real frame's. Most-moved box PSNR over still, 12 clips'
# self-reenactment: mean +2.90 -> +2.98 dB; interview_1wrQ6Msp7wM (small checked sleeves)
# +0.89 -> +1.18, avspeech_sample2 +0.77 -> +1.22, hbr_speaker12 +1.16 -> +1.30;
# ted_lia_driving1 lost most, +6.18 -> +6.13. A hard hold that eased to the target's from one
# to two times the zone gained less (interview +1.06).
ELBOW_STILL = 0.05
# A hand showing one straight finger with the others curled (a point): that finger is never
# turned closer than this to straight up. A warp turns the photo's hand as a whole, and such a
# hand turned upright reads as a raised middle finger, whichever finger it is (desk_host_body.png,
# pointing sideways, driven by hbr_speaker12's raised open hands: all three most-moved frames).
# Past it the hand bends at the wrist instead, on the side of up where the photo's finger is.
LONE_FINGER_UP = np.deg2rad(50.0)
# A finger counts as straight when its tip lies this many times as far from the wrist as its
# knuckle does, the others curled when theirs lie within LONE_FINGER_CURLED times and this
# share of the straight one's. desk_host_body.png's pointing hand: 2.45 against 1.41 at most.
# The other shared photos' and clips' first frames' hands (open, clasped, foreshortened): the
# second finger reaches 0.66-0.99 of the first, or 0.60 and 2.38 (pats_oliver_slice18.png's
# right hand); none is taken for a point.
LONE_FINGER_STRAIGHT = 2.0
LONE_FINGER_CURLED = 1.5
LONE_FINGER_SHARE = 0.6


def _rot(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def _angle(v: np.ndarray) -> float:
    return float(np.arctan2(v[1], v[0]))


def _wrap(a: float) -> float:
    return float((a + np.pi) % (2 * np.pi) - np.pi)


def _bone_affine(origin: np.ndarray, target: np.ndarray, axis: np.ndarray, theta: float,
                 stretch: float) -> np.ndarray:
    """2x3 affine: scale by ``stretch`` along ``axis`` about ``origin``, rotate by ``theta``,
    move ``origin`` to ``target``."""
    u = axis / max(np.linalg.norm(axis), 1e-9)
    scale = np.eye(2) + (stretch - 1.0) * np.outer(u, u)
    m = _rot(theta) @ scale
    return np.hstack([m, (target - m @ origin)[:, None]])


def lone_finger(hand: np.ndarray, valid: np.ndarray) -> np.ndarray | None:
    """The unit direction (wrist to fingertip) of the one straight finger of a hand whose
    other fingers are curled (a point), or None: ``hand`` ``(21, 2)`` landmarks, ``valid``
    ``(21,)`` which are usable. The thumb is not counted (it sticks out of many fists)."""
    fingers = L.HAND_FINGERS[1:]
    if not valid[[0, *(f[0] for f in fingers), *(f[3] for f in fingers)]].all():
        return None
    wrist = hand[0]
    reach = np.array([np.linalg.norm(hand[f[3]] - wrist)
                      / max(np.linalg.norm(hand[f[0]] - wrist), 1e-6) for f in fingers])
    k = int(np.argmax(reach))
    rest = np.delete(reach, k)
    if reach[k] < LONE_FINGER_STRAIGHT or rest.max() > min(LONE_FINGER_CURLED,
                                                           LONE_FINGER_SHARE * reach[k]):
        return None
    d = hand[fingers[k][3]] - wrist
    return d / max(np.linalg.norm(d), 1e-9)


def _not_upright(theta: float, finger: np.ndarray) -> float:
    """``theta`` changed as little as possible so that ``finger`` (a unit vector in the
    photo) turned by it stays :data:`LONE_FINGER_UP` or more from straight up, on the side of
    up the photo's finger is on (a turn past up to the other side jumps there only once it is
    that far beyond up: no flicker while the target wavers about upright)."""
    up = -np.pi / 2
    side = 1.0 if _wrap(_angle(finger) - up) >= 0 else -1.0
    psi = _wrap(_angle(finger) + theta - up)
    if abs(psi) >= LONE_FINGER_UP:
        return theta
    return theta + side * LONE_FINGER_UP - psi


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Least-squares similarity ``dst ≈ s R(θ) src + t`` (Umeyama, 2D): returns θ, s, t."""
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    sxx = (a * a).sum()
    if sxx < 1e-9:
        return 0.0, 1.0, md - ms
    dot = (a * b).sum()
    cross = (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum()
    theta = np.arctan2(cross, dot)
    s = np.hypot(dot, cross) / sxx
    t = md - s * _rot(theta) @ ms
    return float(theta), float(s), t


class Poser:
    """Turns target keypoints into bone transforms for one photo's rig.

    Parameters
    ----------
    reference : np.ndarray
        ``(133, 3)`` keypoints of the photo.
    valid : np.ndarray
        ``(133,)`` bool, usable reference points.
    parts : Parts
        The rig's layers (which arms are rigged and their joints).
    size : tuple
        ``(w, h)`` in pixels.
    """

    def __init__(self, reference: np.ndarray, valid: np.ndarray, parts: Parts,
                 size: tuple[int, int]):
        self.ref = reference.astype(np.float64)
        self.valid = valid
        self.parts = parts
        self.size = size
        self.photo_eyes = self._eye_line(self.ref, valid)
        # The head layer splits between skull and face only where the face's outlines are
        # seen (rig._face_share); without them the face's bone stays the skull's.
        self.has_face = B.face_outlines(self.ref, valid) is not None
        outer = self.ref[B.FACE_OUTER[valid[B.FACE_OUTER]], 0]
        self.face_width = max(float(np.ptp(outer)), 1.0) if len(outer) else 1.0
        self.lone = {}      # hand start -> the direction of its lone straight finger
        for side, info in parts.arm_info.items():
            hs = B.ARMS[side]["hand_start"]
            finger = lone_finger(self.ref[hs:hs + 21, :2], valid[hs:hs + 21]) \
                if info.has_hand else None
            if finger is not None:
                self.lone[hs] = finger

    @staticmethod
    def _hold(value: np.ndarray | None, rest: np.ndarray) -> np.ndarray:
        """``value`` when present, else the photo's own ``rest`` (no state between frames)."""
        if value is not None and np.all(np.isfinite(value)):
            return np.asarray(value, np.float64)
        return rest

    def _ok(self, target_valid: np.ndarray, idx) -> bool:
        return bool(np.all(target_valid[np.atleast_1d(idx)]))

    def torso(self, tgt: np.ndarray, tv: np.ndarray) -> np.ndarray:
        """The shoulder line's turn (within ±30°) and its growth (up to 15 %), or, as it
        narrows (a speaker turning towards profile), a squeeze along it alone (the body keeps
        its height), down to the retarget's :data:`~gesticulate.skeleton.retarget.TURN_RANGE`;
        translation: the retargeted motion already keeps the body in the frame."""
        ls, rs = L.LEFT_SHOULDER, L.RIGHT_SHOULDER
        value = None
        if self.parts.shoulder_line is not None and self._ok(tv, [ls, rs]):
            src, dst = self.ref[[ls, rs], :2], tgt[[ls, rs], :2]
            theta, s, _ = similarity(src, dst)
            s = float(np.clip(s, TURN_RANGE, 1.15))
            theta = float(np.clip(_wrap(theta), -0.5, 0.5))
            shift = dst.mean(0) - src.mean(0)
            sw = self.parts.shoulder_width
            shift = np.clip(shift, -2 * sw, 2 * sw)
            value = np.array([theta, s, shift[0], shift[1]])
        theta, s, tx, ty = self._hold(value, np.array([0.0, 1.0, 0.0, 0.0]))
        mid = self.parts.shoulder_line[0] if self.parts.shoulder_line is not None else np.zeros(2)
        m = max(s, 1.0) * _rot(theta)
        if s < 1.0:
            normal = self.parts.shoulder_line[1]
            u = np.array([normal[1], -normal[0]])              # along the photo's shoulders
            m = m @ (np.eye(2) + (s - 1.0) * np.outer(u, u))
        return np.hstack([m, (mid + [tx, ty] - m @ mid)[:, None]])

    def lower(self, tgt: np.ndarray, tv: np.ndarray) -> np.ndarray:
        """Translation of the hips where the photo and the target both show them (the body's
        bottom follows a walking speaker); none otherwise (a seated body stays put)."""
        hips = [L.LEFT_HIP, L.RIGHT_HIP]
        out = np.hstack([np.eye(2), np.zeros((2, 1))])
        if self.valid[hips].all() and self._ok(tv, hips):
            shift = tgt[hips, :2].mean(0) - self.ref[hips, :2].mean(0)
            sw = max(self.parts.shoulder_width, 1.0)
            out[:, 2] = np.clip(shift, -2 * sw, 2 * sw)
        return out

    def head(self, tgt: np.ndarray, tv: np.ndarray, torso: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """The skull's and the inner face's transforms: a similarity of the skull points
        (nose, eye corners, the jaw by the ears), its roll the eye line's when both eyes are
        seen, clamped to ±25°, its translation bounded relative to where the torso carries the
        head; each then shifted by its share of the turn's parallax (:meth:`_parallax`)."""
        idx = B.HEAD_RIGID[self.valid[B.HEAD_RIGID] & tv[B.HEAD_RIGID]]
        if len(idx) < 6:
            idx = B.HEAD_BODY[self.valid[B.HEAD_BODY] & tv[B.HEAD_BODY]]
        value = None
        src = self.ref[idx, :2]
        c = src.mean(0) if len(idx) else self.ref[L.NOSE, :2]
        carried = torso[:, :2] @ c + torso[:, 2] - c        # where the torso takes the head
        if len(idx) >= 3:
            theta, s, _ = similarity(src, tgt[idx, :2])
            eyes = np.array([self.photo_eyes, self._eye_line(tgt, tv)])
            if np.isfinite(eyes).all():
                # The roll is the eye line's: a head turning sideways moves the nose tip
                # across the jaw, which a fit of all the rigid points takes for a roll (the
                # head leaned 20 degrees where the eyes leaned 10 on ted_lia_driving2).
                theta = _angle(eyes[1]) - _angle(eyes[0])
            size = max(float(np.ptp(src, axis=0).max()), 1.0)
            shift = carried + np.clip(tgt[idx, :2].mean(0) - c - carried, -0.5 * size, 0.5 * size)
            lo, hi = self._head_scale_range(tgt, tv, torso)
            value = np.array([np.clip(_wrap(theta), -0.45, 0.45), np.clip(s, lo, hi),
                              shift[0], shift[1]])
        theta, s, tx, ty = self._hold(value, np.array([0.0, 1.0, *carried]))
        m = s * _rot(theta)
        head = np.hstack([m, (c + [tx, ty] - m @ c)[:, None]])
        skull, face = self._parallax(tgt, tv, head)
        return (np.hstack([m, head[:, 2:] + (m @ skull)[:, None]]),
                np.hstack([m, head[:, 2:] + (m @ face)[:, None]]))

    def _head_scale_range(self, tgt: np.ndarray, tv: np.ndarray, torso: np.ndarray
                          ) -> tuple[float, float]:
        """The head's scale range: within :data:`HEAD_SCALE_SLACK` of the body's growth
        (the torso's, 1 when it narrows in a turn) where the target's shoulders are seen,
        within :data:`HEAD_SCALE` otherwise."""
        if self.parts.shoulder_line is None or not self._ok(tv, [L.LEFT_SHOULDER,
                                                                 L.RIGHT_SHOULDER]):
            return HEAD_SCALE
        grow = max(float(np.sqrt(abs(np.linalg.det(torso[:, :2])))), 1.0)
        return (max(HEAD_SCALE[0], grow * (1.0 - HEAD_SCALE_SLACK)),
                min(HEAD_SCALE[1], grow * (1.0 + HEAD_SCALE_SLACK)))

    def _parallax(self, tgt: np.ndarray, tv: np.ndarray, head: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Shifts (photo pixels, before ``head``) of the skull and of the inner face, from
        how far the target's inner face moved across its contour by the ears relative to the
        photo's (:data:`PARALLAX`). The head's fit spreads its residuals over both groups
        (they sum to zero), and so are the shifts: the skull with its hair takes the contour's
        share, the eyes, nose and mouth the inner face's. A head turned sideways then shows
        its face turning inside a skull that stays (fitted to all the points, the whole head
        slid with the nose, the hair too)."""
        inner = B.FACE_INNER[self.valid[B.FACE_INNER] & tv[B.FACE_INNER]]
        outer = B.FACE_OUTER[self.valid[B.FACE_OUTER] & tv[B.FACE_OUTER]]
        if not self.has_face or len(inner) < 6 or len(outer) < 2:
            return np.zeros(2), np.zeros(2)
        back = np.linalg.inv(head[:, :2])
        res = (tgt[:, :2] - head[:, 2]) @ back.T - self.ref[:, :2]    # in the photo's frame
        d = res[inner].mean(0) - res[outer].mean(0)
        width = self.face_width
        # The tracker's jitter of the contour (a pixel or two) is no turn: shrunk by a dead zone.
        still = max(PARALLAX_STILL * width, PARALLAX_STILL_PX)
        d = np.sign(d) * np.clip(np.abs(d) - still, 0.0, PARALLAX * width)
        n_in, n_out = len(inner), len(outer)
        return -n_in / (n_in + n_out) * d, n_out / (n_in + n_out) * d

    @staticmethod
    def _eye_line(kp: np.ndarray, seen: np.ndarray) -> np.ndarray:
        """From the middle of the right eye to the middle of the left (corners 36/39 and
        42/45) ``(2,)``; NaN unless all four corners are seen."""
        corners = [L.face(i) for i in (36, 39, 42, 45)]
        if not seen[corners].all():
            return np.full(2, np.nan)
        p = kp[corners, :2]
        return 0.5 * (p[2] + p[3]) - 0.5 * (p[0] + p[1])

    def _bone_angle(self, tgt: np.ndarray, tv: np.ndarray, a: int | np.ndarray,
                    b: int | np.ndarray, ref_dir: np.ndarray) -> tuple[float, float]:
        """Rotation (relative to the photo) and length ratio of a bone a→b in the target; a and
        b are keypoint indices or fixed target points."""
        pa = tgt[a, :2] if np.isscalar(a) else a
        pb = tgt[b, :2] if np.isscalar(b) else b
        ok = (not np.isscalar(a) or tv[a]) and (not np.isscalar(b) or tv[b])
        value = None
        if ok:
            d = np.asarray(pb, np.float64) - pa
            n = np.linalg.norm(d)
            if n > 1e-6:
                ratio = n / max(np.linalg.norm(ref_dir), 1e-9)
                value = np.array([_wrap(_angle(d) - _angle(ref_dir)), np.clip(ratio, *STRETCH)])
        theta, ratio = self._hold(value, np.array([0.0, 1.0]))
        return float(theta), float(ratio)

    def arm(self, side: str, tgt: np.ndarray, tv: np.ndarray, torso: np.ndarray
            ) -> dict[int, np.ndarray]:
        """Upper-arm, forearm and hand transforms of one rigged arm."""
        info, arm = self.parts.arm_info[side], B.ARMS[side]
        S, E, W, H = info.joints
        s_t = tgt[arm["shoulder"], :2] if tv[arm["shoulder"]] else torso[:, :2] @ S + torso[:, 2]
        if info.mode == "full" and tv[arm["elbow"]]:
            tgt = tgt.copy()
            wrist = tgt[arm["wrist"], :2] if tv[arm["wrist"]] else None
            tgt[arm["elbow"], :2] = self._still_elbow(s_t, tgt[arm["elbow"], :2], E - S,
                                                      wrist, W - E)
        th_u, r_u = self._bone_angle(tgt, tv, arm["shoulder"], arm["elbow"], E - S)
        if info.mode != "full":
            # Wrist out of frame: only a small swing, the rest is pinned at the border.
            th_u = float(np.clip(th_u, -0.15, 0.15))
            a_up = _bone_affine(S, s_t, E - S, th_u, 1.0)
            return {arm["upper"]: a_up, arm["fore"]: a_up, arm["hand"]: a_up,
                    **{b: a_up for b in arm["fingers"]}}
        a_up = _bone_affine(S, s_t, E - S, th_u, r_u)
        return {arm["upper"]: a_up, **self._below(side, tgt, tv, a_up, arm["elbow"])}

    def _below(self, side: str, tgt: np.ndarray, tv: np.ndarray, a_up: np.ndarray,
               elbow: int | np.ndarray) -> dict[int, np.ndarray]:
        """Forearm, hand and finger transforms of an arm whose upper arm ``a_up`` carries: the
        forearm turned as the target's ``elbow`` (a keypoint, or a point) to its wrist."""
        info, arm = self.parts.arm_info[side], B.ARMS[side]
        _, E, W, H = info.joints
        e_t = a_up[:, :2] @ E + a_up[:, 2]
        th_f, r_f = self._bone_angle(tgt, tv, elbow, arm["wrist"], W - E)
        a_fore = _bone_affine(E, e_t, W - E, th_f, r_f)
        w_t = a_fore[:, :2] @ W + a_fore[:, 2]
        a_hand = self._hand(arm["hand_start"], tgt, tv, W, w_t, H - W, th_f, info.has_hand)
        fingers = self._fingers(arm["hand_start"], tgt, tv, a_hand, info.has_hand)
        return {arm["fore"]: a_fore, arm["hand"]: a_hand, **dict(zip(arm["fingers"], fingers))}

    def hung(self, side: str, target: np.ndarray, a_up: np.ndarray) -> dict[int, np.ndarray]:
        """:meth:`transforms`' forearm, hand and fingers of ``side``'s arm hung from an upper
        arm placed by ``a_up`` ``(2, 3)``, the forearm turned from where ``a_up`` puts the
        elbow to the target's wrist (:mod:`~gesticulate.render.warp.lent`: another rig's
        upper arm)."""
        tgt, tv = self._target(target)
        E = self.parts.arm_info[side].joints[1]
        return self._below(side, tgt, tv, a_up, a_up[:, :2] @ E + a_up[:, 2])

    def _still_elbow(self, s_t: np.ndarray, e_t: np.ndarray, upper: np.ndarray,
                     w_t: np.ndarray | None, fore: np.ndarray) -> np.ndarray:
        """The target's elbow ``e_t``, its offset from the photo's upper arm ``upper`` hung
        from the target's shoulder ``s_t`` shrunk by :data:`ELBOW_STILL` shoulder widths; but
        no nearer that than keeps the forearm to the target's wrist ``w_t`` within
        :data:`STRETCH` of the photo's ``fore`` (a shorter forearm cannot reach the wrist)."""
        still = s_t + upper
        d = e_t - still
        r0 = ELBOW_STILL * max(self.parts.shoulder_width, 1.0)
        n = float(np.linalg.norm(d))
        held = still + d * max(0.0, 1.0 - r0 / max(n, 1e-9))
        if w_t is None:
            return held
        length = max(float(np.linalg.norm(fore)), 1e-9)

        def fits(e: np.ndarray) -> bool:
            return STRETCH[0] <= np.linalg.norm(w_t - e) / length <= STRETCH[1]

        if fits(held) or not fits(e_t):   # (the target's own forearm misses it anyway)
            return held
        lo, hi = 0.0, 1.0                 # from the held elbow towards the target's
        for _ in range(12):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if fits(held + mid * (e_t - held)) else (mid, hi)
        return held + hi * (e_t - held)

    def _fingers(self, hs: int, tgt: np.ndarray, tv: np.ndarray, a_hand: np.ndarray,
                 has_hand: bool) -> list[np.ndarray]:
        """Each finger's transform (:data:`bones.FINGER_CHAINS`): its knuckle stays where the
        hand carries it; it turns to the target finger's direction (knuckle to tip) and
        stretches along itself by how much farther the target's tip reaches than the photo's,
        each over its palm's length (:data:`FINGER_STRETCH`). The hand's turn where either
        finger is too curled to give a direction (:data:`FINGER_SURE`), and the hand's
        transform for a finger not seen in both, or on a pointing hand (its curled fingers
        would be stretched into a fist's knuckles)."""
        out = [a_hand] * len(B.FINGER_CHAINS)
        mid = L.HAND_MIDDLE[0]
        palm = [hs, hs + mid]
        if not has_hand or hs in self.lone or not (self.valid[palm].all() and tv[palm].all()):
            return out
        ref, pt = self.ref[hs:hs + 21, :2], tgt[hs:hs + 21, :2]
        len_ref = np.linalg.norm(ref[mid] - ref[0])
        len_tgt = np.linalg.norm(pt[mid] - pt[0])
        if len_ref < 2 or len_tgt < 2:
            return out
        m = a_hand[:, :2]
        for k, chain in enumerate(B.FINGER_CHAINS):
            idx = [hs + j for j in chain]
            if not (self.valid[idx].all() and tv[idx].all()):
                continue
            p, q = ref[chain[-1]] - ref[chain[0]], pt[chain[-1]] - pt[chain[0]]
            reach_p, reach_q = np.linalg.norm(p) / len_ref, np.linalg.norm(q) / len_tgt
            lo, hi = FINGER_SURE
            sure = float(np.clip((min(reach_p, reach_q) - lo) / (hi - lo), 0.0, 1.0))
            if sure <= 0:
                continue
            # The hand's own turn of this finger (its affine maps p somewhere); the target's
            # direction, blended in by how sure both directions are.
            carried = m @ p
            turn = float(np.clip(_wrap(_angle(q) - _angle(carried)), -FINGER_TURN, FINGER_TURN)
                         ) * sure
            stretch = 1.0 + (np.clip(reach_q / reach_p, *FINGER_STRETCH) - 1.0) * sure
            knuckle = ref[chain[0]]
            base = m @ knuckle + a_hand[:, 2]
            f = _rot(turn) @ m
            u = f @ p / max(np.linalg.norm(f @ p), 1e-9)
            f = (np.eye(2) + (stretch - 1.0) * np.outer(u, u)) @ f
            out[k] = np.hstack([f, (base - f @ knuckle)[:, None]])
        return out

    def _hand(self, hs: int, tgt: np.ndarray, tv: np.ndarray, W: np.ndarray, w_t: np.ndarray,
              axis: np.ndarray, th_fore: float, has_hand: bool) -> np.ndarray:
        """The hand's transform about the wrist the forearm carries to ``w_t``.

        Its turn is the least-squares rotation of all the hand's landmarks seen in both the
        photo and the target (about each wrist), and its length along ``axis`` their
        least-squares stretch (within :data:`HAND_STRETCH`). One direction (wrist to knuckles)
        is not enough: a hand resting on a knee, seen from above, has its knuckles up and
        right of the wrist while its fingers hang down, and a hand turned by that direction
        alone stood upright beside the target's (hbr_speaker12: 26 px mean landmark error).
        No hand in the photo, or none seen in the target: the hand turns with the forearm.
        A photo's pointing hand is never turned upright (:data:`LONE_FINGER_UP`).
        """
        idx = np.arange(hs, hs + 21)
        both = idx[self.valid[idx] & tv[idx]] if has_hand else idx[:0]
        theta, stretch = th_fore, 1.0
        if len(both) >= 5 and tv[hs] and self.valid[hs]:
            src = self.ref[both, :2] - self.ref[hs, :2]
            dst = tgt[both, :2] - tgt[hs, :2]
            dot = (src * dst).sum()
            cross = (src[:, 0] * dst[:, 1] - src[:, 1] * dst[:, 0]).sum()
            if np.hypot(dot, cross) > 1e-6:
                theta = float(np.arctan2(cross, dot))
                u = axis / max(np.linalg.norm(axis), 1e-9)
                a_ref = src @ u
                a_tgt = dst @ (_rot(theta) @ u)
                denom = float(a_ref @ a_ref)
                if denom > 1e-6:
                    stretch = float(np.clip((a_ref @ a_tgt) / denom, *HAND_STRETCH))
        if hs in self.lone:
            theta = _not_upright(theta, self.lone[hs])
        return _bone_affine(W, w_t, axis, theta, stretch)

    def transforms(self, target: np.ndarray) -> np.ndarray:
        """Bone transforms ``(NUM_BONES, 2, 3)`` (photo → output pixels) for one target frame
        ``(133, 3)``."""
        tgt, tv = self._target(target)
        out = np.tile(np.hstack([np.eye(2), np.zeros((2, 1))]), (B.NUM_BONES, 1, 1))
        out[B.TORSO] = self.torso(tgt, tv)
        out[B.LOWER] = self.lower(tgt, tv)
        out[B.HEAD], out[B.FACE] = self.head(tgt, tv, out[B.TORSO])
        for side in self.parts.arm_info:
            for bone, a in self.arm(side, tgt, tv, out[B.TORSO]).items():
                out[bone] = a
        return out

    def _target(self, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The target ``(133, 3)`` as float64 with NaN as 0, and which of its points count
        (confident, not absurdly far off the picture)."""
        tgt = np.nan_to_num(np.asarray(target, np.float64)[:, :3])
        w, h = self.size
        return tgt, (tgt[:, 2] >= B.MIN_CONFIDENCE) & (np.abs(tgt[:, :2]) < 4 * max(w, h)).all(1)
