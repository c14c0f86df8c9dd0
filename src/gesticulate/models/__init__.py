"""Learned networks. They only predict; pipelines and training loops live elsewhere."""

from gesticulate.models.motion_dit import (PRESETS, MotionDiT, MotionDiT_B, MotionDiT_S,
                                           MotionDiT_tiny, MotionDiTConfig)

__all__ = ["PRESETS", "MotionDiT", "MotionDiTConfig", "MotionDiT_tiny", "MotionDiT_S",
           "MotionDiT_B"]
