"""Identity similarity with dlib's face descriptor: same person high, different people low."""

from __future__ import annotations

import numpy as np
import pytest

# dlib and the face models come with the test extra (through [eval]): no skip when they are
# missing, the install is broken then.
from gesticulate.errors import InputError
from gesticulate.image import load_image
from gesticulate.metrics.identity import FaceEmbedder, face_similarity, identity_similarity


@pytest.fixture(scope="module")
def embedder():
    return FaceEmbedder()


def _frames(path, indices):
    from gesticulate.video import iter_frames

    out = {}
    for i, f in enumerate(iter_frames(path)):
        if i in indices:
            out[i] = f
        if i >= max(indices):
            break
    return [out[i] for i in indices]


@pytest.mark.realdata
def test_same_person_high_different_people_low(shared_data, embedder):
    first, late = _frames(shared_data / "video" / "hbr_speaker7.mp4", [0, 90])
    score = identity_similarity(first, [late], embedder=embedder)
    assert score.similarity > 0.6 and score.distance < 0.5 and score.same_person_rate == 1.0
    a = embedder.embed(load_image(shared_data / "photo" / "portrait_6.jpg"))
    b = embedder.embed(load_image(shared_data / "photo" / "portrait_s2.jpg"))
    assert a.shape == (128,) and face_similarity(a, b) < 0.4
    assert np.linalg.norm(a - b) > 0.6


def test_no_face_in_reference_is_an_input_error(embedder):
    blank = np.full((200, 200, 3), 127, np.uint8)
    assert embedder.embed(blank) is None
    with pytest.raises(InputError, match="no face"):
        identity_similarity(blank, [blank], embedder=embedder)


@pytest.mark.realdata
def test_frames_without_faces_are_counted(shared_data, embedder):
    ref = load_image(shared_data / "photo" / "portrait_6.jpg")
    blank = np.zeros((100, 100, 3), np.uint8)
    s = identity_similarity(ref, [ref, blank], embedder=embedder)
    assert s.num_frames == 2 and s.face_found_rate == 0.5 and s.similarity == pytest.approx(1.0)
