import numpy as np
import pytest

from gesticulate.windows import window_starts


@pytest.mark.parametrize("total,window,overlap,expect", [
    (10, 4, 1, [0, 3, 6]), (4, 4, 1, [0]), (5, 4, 0, [0, 4]), (3, 8, 2, [0]), (0, 4, 1, [0]),
    (100, 48, 8, [0, 40, 80]), (30, 48, 8, [0])])
def test_window_starts(total, window, overlap, expect):
    starts = window_starts(total, window=window, overlap=overlap)
    assert starts == expect
    assert starts[-1] + window >= total


@pytest.mark.parametrize("window,overlap", [(48, 8), (4, 1), (5, 0), (16, 15)])
def test_every_frame_is_covered_and_by_no_more_windows_than_needed(window, overlap):
    most = -(-window // (window - overlap))  # windows that can overlap one frame
    for t in range(1, 300):
        cover = np.zeros(t, int)
        for s in window_starts(t, window=window, overlap=overlap):
            cover[s:s + window] += 1
        assert cover.min() >= 1 and cover.max() <= most
