"""Pose formats in and out: peers' files read into, and written from, the 133-point skeleton.

* :mod:`~gesticulate.formats.openpose` — OpenPose-18 / BODY_25 body orders and OpenPose JSON
* :mod:`~gesticulate.formats.echomimic` — EchoMimicV2 / DWPose per-frame ``.npy`` dicts
* :mod:`~gesticulate.formats.csg` — CSG-405 pose arrays (global or local representation)
* :mod:`~gesticulate.formats.align` — alignment to a reference photo's skeleton (CSG)
* :mod:`~gesticulate.formats.posemap` — DWPose-style pose-map frames for pose-to-video models
* :mod:`~gesticulate.formats.export` — ``gesticulate export``: one call for every format

Nothing is imported here, so that :mod:`gesticulate.skeleton.draw` can import the OpenPose
conversion without pulling in the exporters (which import the drawing).
"""
