"""Person segmentation with MediaPipe selfie segmentation (its model ships inside
``mediapipe==0.10.21``): the soft person probability of RGB frames.

Shared by the warp renderer (once per photo) and the silhouette metrics (every frame of a
video), so it lives below both.
"""

from __future__ import annotations

import numpy as np

from gesticulate._native import quiet_native_stderr


class SelfieSegmenter:
    """MediaPipe selfie segmentation, opened once for many frames.

    ``model_selection=0`` is the square "general" model (256x256), right for portraits and
    upper-body crops; its output is resized to the input size by MediaPipe.
    """

    def __init__(self) -> None:
        import mediapipe as mp  # heavy: imported only where segmentation is used

        with quiet_native_stderr():
            self._graph = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)

    def probability(self, image: np.ndarray) -> np.ndarray:
        """Person probability ``(H, W)`` float32 in 0..1 of an RGB uint8 frame ``(H, W, 3)``."""
        with quiet_native_stderr():
            result = self._graph.process(np.ascontiguousarray(image))
        prob = result.segmentation_mask
        if prob is None:
            return np.zeros(image.shape[:2], np.float32)
        return np.clip(prob.astype(np.float32), 0.0, 1.0)

    def close(self) -> None:
        self._graph.close()

    def __enter__(self) -> "SelfieSegmenter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def person_probability(image: np.ndarray) -> np.ndarray:
    """Person probability ``(H, W)`` float32 of one RGB photo."""
    with SelfieSegmenter() as seg:
        return seg.probability(image)
