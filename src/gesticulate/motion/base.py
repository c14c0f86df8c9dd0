"""The one call every stage-1 generator answers, and the registry that names them.

DESIGN.md, "Stage 1": audio features + reference skeleton + settings (seed, style, speed) →
a ``(T, 133, 3)`` skeleton sequence in the photo's pixel frame, ``T = features.num_frames``
rows at ``features.fps``.
"""

from __future__ import annotations

import importlib
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from gesticulate.audio.features import AudioFeatures
from gesticulate.errors import InputError, OptionError
from gesticulate.skeleton.layout import NUM_KEYPOINTS, inside
from gesticulate.skeleton.sequence import SkeletonSequence

Phones = list[tuple[str, float, float]]


@runtime_checkable
class MotionGenerator(Protocol):
    """Audio features and a photo's skeleton in, a skeleton sequence out."""

    def generate(self, features: AudioFeatures, reference: np.ndarray, *,
                 image_size: tuple[int, int], seed: int = 0, speed: float = 1.0,
                 style: str | None = None, phones: Phones | None = None,
                 audio: tuple[np.ndarray, int] | None = None) -> SkeletonSequence:
        """Motion for ``features``.

        Parameters
        ----------
        features : AudioFeatures
            Per-frame features; the output has ``features.num_frames`` rows at ``features.fps``.
        reference : np.ndarray, shape (133, 3)
            The photo's skeleton: x, y in pixels of ``image_size``, confidence 0..1.
        image_size : tuple of int
            (width, height) of the photo in pixels.
        seed : int
            Same seed → identical output.
        speed : float
            Tempo of the motion (1 = natural).
        style : str or None
            A generator-specific style name; None for the default.
        phones : list of (label, start_s, end_s) or None
            Phone timings (ARPAbet labels) where known.
        audio : (np.ndarray, int) or None
            The waveform and its sample rate, for generators that hear it (a learned model
            with a speech encoder); the others ignore it.
        """
        ...


_REGISTRY: dict[str, Callable[..., MotionGenerator]] = {}
# Built-in generators and the module that registers each; a module is imported only when its
# generator is asked for (the learned ones import torch, the procedural one must not need it).
_BUILTINS = {
    "procedural": "gesticulate.motion.procedural",
    "retrieval": "gesticulate.motion.retrieval",
    "diffusion": "gesticulate.motion.diffusion",
}


def register(name: str) -> Callable:
    """Class decorator adding a generator factory under ``name``."""
    def deco(factory: Callable[..., MotionGenerator]):
        _REGISTRY[name] = factory
        return factory
    return deco


def available_generators() -> list[str]:
    """Names accepted by :func:`get_generator`, sorted: the built-ins and any registered."""
    return sorted(set(_REGISTRY) | set(_BUILTINS))


def get_generator(name: str, **kwargs) -> MotionGenerator:
    """The generator called ``name``, built with ``kwargs``.

    Raises
    ------
    OptionError
        When ``name`` is not a known generator; the message lists the choices.
    """
    if name not in _REGISTRY and name in _BUILTINS:
        importlib.import_module(_BUILTINS[name])
    if name not in _REGISTRY:
        raise OptionError(f"unknown motion generator {name!r}; choose one of "
                          f"{', '.join(available_generators())}")
    return _REGISTRY[name](**kwargs)


def check_inputs(features: AudioFeatures, reference: np.ndarray,
                 image_size: tuple[int, int], speed: float) -> np.ndarray:
    """Validate the shared arguments; return the reference as float64 ``(133, 3)``."""
    ref = np.asarray(reference, dtype=np.float64)
    if ref.shape != (NUM_KEYPOINTS, 3):
        raise InputError(f"reference skeleton has shape {ref.shape}, expected (133, 3); "
                         "extract it from the photo with `gesticulate extract`")
    if not np.all(np.isfinite(ref)):
        raise InputError("reference skeleton contains NaN or infinite values; re-extract it")
    w, h = image_size
    if w < 1 or h < 1:
        raise InputError(f"image_size {image_size} is not a (width, height) in pixels")
    if not (0.25 <= speed <= 4.0):
        raise OptionError(f"speed {speed} is out of range; use a value from 0.25 to 4 (1 = natural)")
    T = features.num_frames
    for name in ("onset", "rms", "pitch_hz", "vad"):
        if getattr(features, name).shape[0] != T:
            raise InputError(f"audio features are inconsistent: {name} has "
                             f"{getattr(features, name).shape[0]} rows, rms has {T}; "
                             "recompute them with gesticulate.audio")
    return ref


# A point this close (share of the photo's size) to the frame's edge is a guess, not seen.
EDGE_GUESS = 0.02


def seen_points(ref: np.ndarray, image_size: tuple[int, int], min_confidence: float
                ) -> np.ndarray:
    """``(133,)`` bool: the photo's points ``ref (133, 3)`` it really shows, confident and
    inside the image (:data:`EDGE_GUESS` from its edge)."""
    return (ref[:, 2] >= min_confidence) & inside(ref, image_size, EDGE_GUESS)
