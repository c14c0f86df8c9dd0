"""Evaluation metrics (issue 5). Named for what they compute: no FVD/FID/LPIPS/Sync-C here.

Light modules are re-exported; the ones needing torch (``fgd``), MediaPipe (``video``) or dlib
(``identity``) are imported from their modules:

* :mod:`~gesticulate.metrics.beats` — BA (EMAGE) with deceleration filter and chance control
* :mod:`~gesticulate.metrics.motion` — DIV, L1div, PCK
* :mod:`~gesticulate.metrics.fgd` — FGD encoder training/loading, Fréchet distance
* :mod:`~gesticulate.metrics.video` — HKC/HKV, PSNR/SSIM, jitter
* :mod:`~gesticulate.metrics.identity` — dlib face-descriptor identity similarity
* :mod:`~gesticulate.metrics.sync` — mouth opening vs. audio envelope offset (lip sync, sync QC)
* :mod:`~gesticulate.metrics.plots` — beat-alignment timeline
"""

from gesticulate.metrics.beats import BeatAlignment, audio_beats, beat_alignment, joint_speed, motion_beats
from gesticulate.metrics.motion import diversity, l1_divergence, pck
from gesticulate.metrics.plots import plot_beat_alignment
from gesticulate.metrics.sync import audio_envelope, estimate_av_offset, lip_sync, mouth_opening

__all__ = ["BeatAlignment", "audio_beats", "beat_alignment", "joint_speed", "motion_beats",
           "diversity", "l1_divergence", "pck", "plot_beat_alignment", "audio_envelope",
           "estimate_av_offset", "lip_sync", "mouth_opening"]
