"""The 133-point whole-body skeleton: layout, sequences and their files, extraction, drawing."""

from gesticulate.skeleton.layout import LAYOUT_NAME, NUM_KEYPOINTS
from gesticulate.skeleton.sequence import SkeletonSequence

__all__ = ["LAYOUT_NAME", "NUM_KEYPOINTS", "SkeletonSequence"]
