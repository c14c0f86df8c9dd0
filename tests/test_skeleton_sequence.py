import numpy as np
import pytest

from gesticulate.errors import InputError
from gesticulate.skeleton.sequence import SkeletonSequence


def test_one_frame_becomes_a_sequence_of_one():
    seq = SkeletonSequence(np.zeros((133, 3)), 25, (64, 48))
    assert seq.keypoints.shape == (1, 133, 3) and seq.keypoints.dtype == np.float32


@pytest.mark.parametrize("shape", [(10, 18, 3), (10, 133, 2), (133,), (2, 10, 133, 3)])
def test_keypoints_of_another_layout_are_an_input_error(shape):
    with pytest.raises(InputError, match=r"\(T, 133, 3\)"):
        SkeletonSequence(np.zeros(shape), 25, (64, 48))
