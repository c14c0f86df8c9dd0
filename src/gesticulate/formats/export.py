"""``gesticulate export``: a motion ``.npz`` into the files other tools read.

=================  =========================================================================
format             output
=================  =========================================================================
posemap-video      DWPose pose-map mp4 (H.264 yuv420p, black background) at the motion's
                   fps, for MimicMotion, StableAnimator, AnimateAnyone, ControlNet video
posemap-png        a folder of pose-map frames ``00000.png``, ``00001.png``, ...
echomimic          an EchoMimicV2 pose folder ``0.npy``, ``1.npy``, ... (its driving poses)
openpose-json      a folder of per-frame OpenPose JSON (COCO-18 body, face, hands)
=================  =========================================================================

With ``reference_image`` the motion is first aligned to the photo's skeleton (a scale and an
offset fitted on head and torso points, as Democratizing-CSG does before drawing) and drawn
in the photo's frame, so the pose maps line up with the person in the photo. Every output
appears under its final name only when complete.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gesticulate.errors import InputError, OptionError
from gesticulate.formats.align import align_to_reference
from gesticulate.atomic import check_output
from gesticulate.formats.echomimic import ECHOMIMIC_SIZE, save_echomimic_dir
from gesticulate.formats.openpose import save_openpose_json_dir
from gesticulate.formats.posemap import (fit_to_size, resolve_size, write_posemap_pngs,
                                         write_posemap_video)
from gesticulate.skeleton.draw import STYLES
from gesticulate.skeleton.sequence import SkeletonSequence

FORMATS = ("posemap-video", "posemap-png", "echomimic", "openpose-json")


def reference_skeleton(image_path: str | os.PathLike) -> tuple[np.ndarray, tuple[int, int]]:
    """The skeleton ``(133, 3)`` of the person in a reference photo, and the photo's (w, h)."""
    from gesticulate.image import load_image
    from gesticulate.skeleton.extract import extract_image
    image = load_image(image_path)
    kp = np.asarray(extract_image(image), dtype=np.float32)
    return kp, (image.shape[1], image.shape[0])


def _check_options(format: str, style: str, motion_path: Path, output: Path,
                   reference_image: str | os.PathLike | None) -> None:
    if format not in FORMATS:
        raise OptionError(f"export format {format!r} is unknown; use one of: {', '.join(FORMATS)}")
    if style not in STYLES:
        raise OptionError(f"pose-map style {style!r} is unknown; use one of: {', '.join(STYLES)}")
    if not motion_path.is_file():
        raise InputError(f"motion file {motion_path} not found; make one with `gesticulate "
                         "generate --motion-output motion.npz` or `gesticulate extract`")
    if reference_image is not None and not Path(reference_image).is_file():
        raise InputError(f"reference photo {reference_image} not found; check the path")
    if format == "posemap-video" and output.suffix.lower() != ".mp4":
        raise OptionError(f"--output {output} must end in .mp4 for format posemap-video")
    check_output(output, inputs={"motion": motion_path, "reference photo": reference_image})


def export(motion_path: str | os.PathLike, *, format: str, output: str | os.PathLike,
           reference_image: str | os.PathLike | None = None,
           size: int | tuple[int, int] | None = None, style: str = "dwpose",
           threshold: float = 0.3, align_mode: str = "uniform",
           progress: bool = True) -> Path:
    """Export a motion to another tool's format (module docstring). Returns ``output``.

    Parameters
    ----------
    motion_path : a skeleton ``.npz`` (:class:`~gesticulate.skeleton.sequence.SkeletonSequence`).
    format : one of :data:`FORMATS`.
    output : an ``.mp4`` for ``posemap-video``; a new or empty folder for the others (never one
        holding other files, which may be another tool's export of the same format).
    reference_image : optional photo; the motion is aligned to its person and drawn in its frame.
    size : output size: the longer side in pixels (int) or (w, h); default the motion's frame
        (the photo's with ``reference_image``). For ``echomimic`` an int is EchoMimicV2's
        square canvas side (default 768).
    style : pose-map drawing, "dwpose" (controlnet_aux: ControlNet, AnimateAnyone),
        "mimicmotion" (MimicMotion, StableAnimator) or "echomimic" (hands only).
    threshold : confidence at or below which points are not drawn.
    align_mode : "uniform", "per_axis" or "csg" (:mod:`gesticulate.formats.align`).
    progress : show a progress bar on stderr.
    """
    motion_path, output = Path(motion_path), Path(output)
    _check_options(format, style, motion_path, output, reference_image)
    seq = SkeletonSequence.load(motion_path)
    if len(seq) == 0:
        raise InputError(f"{motion_path} holds no frames; nothing to export")
    if reference_image is not None:
        ref_kp, photo_size = reference_skeleton(reference_image)
        seq = align_to_reference(seq, ref_kp, image_size=photo_size, mode=align_mode,
                                 threshold=threshold)
    if format == "echomimic":
        side = size if isinstance(size, (int, np.integer)) else (
            max(size) if size is not None else ECHOMIMIC_SIZE)
        return save_echomimic_dir(seq, output, size=int(side))
    seq = fit_to_size(seq, resolve_size(seq.image_size, size))
    if format == "openpose-json":
        return save_openpose_json_dir(seq, output)
    if format == "posemap-png":
        return write_posemap_pngs(seq, output, threshold=threshold, style=style, progress=progress)
    return write_posemap_video(seq, output, threshold=threshold, style=style, progress=progress)
