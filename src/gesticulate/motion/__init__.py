"""Stage 1: audio features + the photo's skeleton → a (T, 133, 3) skeleton sequence.

``get_generator("procedural")`` is the weight-free default; see :mod:`gesticulate.motion.base`
for the call every generator answers.
"""

from gesticulate.motion.base import MotionGenerator, available_generators, get_generator

__all__ = ["MotionGenerator", "available_generators", "get_generator"]
