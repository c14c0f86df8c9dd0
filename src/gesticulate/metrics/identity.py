"""Identity similarity: does the generated person look like the reference photo?

dlib's face recognition ResNet (128-d descriptor; models from ``face-recognition-models``,
dlib from ``dlib-bin``, both plain wheels, no compiling and nothing downloaded at run time).
Faces are found with dlib's HOG frontal detector and aligned with the 5-point landmark model,
as in dlib's own face recognition example.

Two numbers per pair of faces:

* ``distance``: Euclidean distance of the descriptors; dlib's rule: under 0.6 = same person.
* ``similarity``: ``clip(1 - distance / 1.2, 0, 1)``: 1 = identical, 0.5 = dlib's threshold,
  0 = far apart. Preferred to the cosine of the descriptors, which is squeezed into a narrow
  band (measured on ../shared/data: two frames of one speaker 0.97, different people
  0.73–0.90), while the distance separates them (0.33 vs 0.67–1.12). The cosine is reported too.

The identity metric of a video is the mean similarity between the reference face and the faces
of sampled frames, with the mean distance and the fraction of frames under 0.6 beside it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from gesticulate.errors import InputError
from gesticulate.extras import require

SAME_PERSON_DISTANCE = 0.6  # dlib's threshold on the Euclidean descriptor distance


def _models() -> tuple[str, str]:
    # face_recognition_models imports pkg_resources (setuptools<81, in the eval extra too).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frm = require("face_recognition_models", extra="eval", what="identity similarity")
    return frm.pose_predictor_five_point_model_location(), frm.face_recognition_model_location()


class FaceEmbedder:
    """dlib face detector + 5-point aligner + 128-d descriptor network (loaded once)."""

    def __init__(self, *, upsample: int = 1, jitter: int = 0):
        dlib = require("dlib", extra="eval", what="identity similarity")
        shape_path, rec_path = _models()
        self._dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(shape_path)
        self.net = dlib.face_recognition_model_v1(rec_path)
        self.upsample, self.jitter = upsample, jitter

    def embed(self, image: np.ndarray) -> np.ndarray | None:
        """128-d descriptor of the largest face in an RGB ``(H, W, 3)`` uint8 image, or None."""
        img = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
        faces = self.detector(img, self.upsample)
        if len(faces) == 0:
            return None
        face = max(faces, key=lambda r: r.width() * r.height())
        chip = self._dlib.get_face_chip(img, self.shape(img, face), size=150, padding=0.25)
        d = self.net.compute_face_descriptor(chip, self.jitter)
        return np.asarray(d, dtype=np.float64)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def face_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """``clip(1 - ‖a - b‖ / (2 · 0.6), 0, 1)`` of two descriptors: > 0.5 = same person (dlib)."""
    return float(np.clip(1.0 - np.linalg.norm(a - b) / (2 * SAME_PERSON_DISTANCE), 0.0, 1.0))


@dataclass
class IdentityScore:
    """Identity of generated frames against a reference face."""

    similarity: float          # mean of clip(1 - distance/1.2, 0, 1) (NaN when no face found)
    distance: float            # mean Euclidean descriptor distance
    cosine: float              # mean cosine similarity of the descriptors
    same_person_rate: float    # fraction of scored frames with distance < 0.6
    face_found_rate: float     # fraction of sampled frames where a face was found
    num_frames: int            # frames sampled

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def identity_similarity(reference: np.ndarray, frames, *,
                        embedder: FaceEmbedder | None = None) -> IdentityScore:
    """Compare the face in ``reference`` (RGB image) with the faces in ``frames`` (RGB images).

    Raises InputError when the reference has no detectable face.
    """
    emb = embedder or FaceEmbedder()
    ref = emb.embed(reference)
    if ref is None:
        raise InputError("no face found in the reference photo; use a photo with a clearly "
                         "visible frontal face")
    sims, coss, dists, n = [], [], [], 0
    for frame in frames:
        n += 1
        d = emb.embed(frame)
        if d is not None:
            sims.append(face_similarity(ref, d))
            coss.append(cosine_similarity(ref, d))
            dists.append(float(np.linalg.norm(ref - d)))
    nan = float("nan")
    return IdentityScore(
        similarity=float(np.mean(sims)) if sims else nan,
        distance=float(np.mean(dists)) if dists else nan,
        cosine=float(np.mean(coss)) if coss else nan,
        same_person_rate=float(np.mean(np.array(dists) < SAME_PERSON_DISTANCE)) if dists else nan,
        face_found_rate=len(sims) / n if n else nan, num_frames=n)
