"""Per-frame skeletons and face counts while frames stream past.

MediaPipe Holistic in tracking mode (``static_image_mode=False``, ``model_complexity=1``, the
only one that works offline) gives one person's 133 keypoints per frame; it follows only one
person, so people are counted separately with MediaPipe face detection (full-range model,
``model_selection=1``) on every ``face_every``-th frame.
"""

from __future__ import annotations

import numpy as np

from gesticulate._native import quiet_native_stderr
from gesticulate.skeleton.extract import MIN_FACE_SCORE, Holistic, count_faces
from gesticulate.skeleton.mediapipe_map import results_to_coco133


class FrameTracker:
    """Feed frames in order; get ``(133, 3)`` pixel keypoints per frame and face counts.

    Use as a context manager (MediaPipe graphs hold native resources). ``start`` is the index
    of the first frame fed, so a video tracked in segments counts faces on the same frames as
    one tracked whole.
    """

    def __init__(self, *, face_every: int = 5, min_face_confidence: float = MIN_FACE_SCORE,
                 start: int = 0) -> None:
        import mediapipe as mp

        self._holistic = Holistic(static_image_mode=False, refine_face=False)
        with quiet_native_stderr():
            self._faces = mp.solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=min_face_confidence)
        self.face_every = max(1, int(face_every))
        self._n = int(start)  # index of the next frame: faces are counted on multiples of face_every

    def __enter__(self) -> "FrameTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._holistic.__exit__()
        self._faces.close()

    def process(self, frame: np.ndarray) -> tuple[np.ndarray, int | None]:
        """Keypoints ``(133, 3)`` of an RGB uint8 frame ``(H, W, 3)``, and its face count.

        The face count is None on frames that are not sampled.
        """
        h, w = frame.shape[:2]
        frame = np.ascontiguousarray(frame)
        kp = results_to_coco133(self._holistic.process(frame), image_size=(w, h))
        faces = None
        if self._n % self.face_every == 0:
            faces = count_faces(self._faces.process(frame).detections)
        self._n += 1
        return kp, faces
