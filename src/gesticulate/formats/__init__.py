"""Pose formats in and out: peers' files read into, and written from, the 133-point skeleton.

* :mod:`~gesticulate.formats.openpose` — OpenPose JSON (COCO-18 or BODY_25 bodies)
* :mod:`~gesticulate.formats.echomimic` — EchoMimicV2 / DWPose per-frame ``.npy`` dicts
* :mod:`~gesticulate.formats.csg` — CSG-405 pose arrays (global or local representation)
* :mod:`~gesticulate.formats.align` — alignment to a reference photo's skeleton (CSG)
* :mod:`~gesticulate.formats.posemap` — DWPose-style pose-map frames for pose-to-video models
* :mod:`~gesticulate.formats.export` — ``gesticulate export``: one call for every format

The body orders these formats share with the drawing are in
:mod:`gesticulate.skeleton.openpose_body`: ``formats`` looks down on ``skeleton``, never back.
"""
