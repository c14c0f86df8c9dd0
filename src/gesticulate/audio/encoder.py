"""An optional pretrained speech encoder for MotionDiT, loaded from a local folder.

The papers hear speech through pretrained encoders (wav2vec2-style); MotionDiT's own audio
input is hand-made prosody features and phones (:mod:`gesticulate.audio.features`,
:mod:`gesticulate.audio.phones`). ``gesticulate train --audio-encoder FOLDER`` adds the
hidden states of an encoder saved with Hugging Face ``transformers``' ``save_pretrained`` — a
wav2vec2, HuBERT, WavLM or data2vec-audio model, or the encoder of a Whisper model — to those
inputs. Nothing is downloaded: the folder must hold ``config.json`` and the weights (and, for
Whisper, the ``preprocessor_config.json`` of its feature extractor); ``transformers`` comes
with the ``encoder`` extra.

The encoder's frames (50 per second for all of these) are resampled linearly to the video
frame rate. A dataset keeps each clip's encoder features once
(``clips/<id>/encoder-<key>.npy``, ``key`` naming the encoder's config and weights), so
training reads them back instead of running the encoder again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from gesticulate.errors import InputError
from gesticulate.extras import require

WAVEFORM_MODELS = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "wav2vec2-conformer")
ENCODER_SR = 16000            # every supported encoder hears 16 kHz audio
CHUNK_S = 30.0                # audio is encoded in pieces this long (Whisper's window)


def encoder_key(folder: str | os.PathLike) -> str:
    """A short name for an encoder folder's contents: a hash of its ``config.json`` and
    ``preprocessor_config.json`` and of its weight files' names and sizes (two folders holding
    the same model share it)."""
    folder = Path(folder)
    h = hashlib.sha256((folder / "config.json").read_bytes())
    pre = folder / "preprocessor_config.json"
    if pre.is_file():   # it says how the audio is normalised: other features
        h.update(pre.read_bytes())
    for f in sorted(folder.iterdir()):
        if f.suffix in (".safetensors", ".bin"):
            h.update(f"{f.name}:{f.stat().st_size}".encode())
    return h.hexdigest()[:12]


class SpeechEncoder:
    """A pretrained speech encoder from a local folder; call it on audio for per-frame features.

    Parameters
    ----------
    folder : str or PathLike
        A ``save_pretrained`` folder of a supported model (module docstring).
    device : str
        Torch device to run it on.
    """

    def __init__(self, folder: str | os.PathLike, *, device: str = "cpu"):
        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise InputError(f"audio encoder folder {folder} has no config.json; give a folder "
                             "written by a transformers model's save_pretrained (wav2vec2, "
                             "HuBERT, WavLM or Whisper), downloaded beforehand")
        tf = require("transformers", extra="encoder", what="--audio-encoder")
        import torch

        tf.utils.logging.set_verbosity_error()       # no load reports and progress bars
        tf.utils.logging.disable_progress_bar()

        self.folder, self.device = folder, device
        self.key = encoder_key(folder)
        try:
            config = tf.AutoConfig.from_pretrained(folder, local_files_only=True)
            self.kind = config.model_type
            if self.kind == "whisper":
                whisper = tf.WhisperModel.from_pretrained(folder, local_files_only=True)
                self.model = whisper.get_encoder()
                self.extractor = tf.WhisperFeatureExtractor.from_pretrained(
                    folder, local_files_only=True)
                self.dim = int(config.d_model)
            elif self.kind in WAVEFORM_MODELS:
                self.model = tf.AutoModel.from_pretrained(folder, local_files_only=True)
                self.extractor = None
                self.normalize = _do_normalize(folder)
                self.dim = int(config.hidden_size)
            else:
                raise InputError(f"audio encoder {folder} is a {self.kind!r} model; use a "
                                 f"wav2vec2, HuBERT, WavLM, data2vec-audio or Whisper folder")
        except (OSError, ValueError) as err:
            raise InputError(f"could not load the audio encoder in {folder}: {err}") from None
        self.model.eval().to(device)
        self._torch = torch

    def __call__(self, y: np.ndarray, sr: int, *, fps: float, num_frames: int) -> np.ndarray:
        """Hidden states of the last layer, ``(num_frames, dim)`` float32, one row per video
        frame (frame ``t`` covers ``[t / fps, (t + 1) / fps)`` s)."""
        y = np.asarray(y, np.float32)
        if sr != ENCODER_SR:
            import soxr
            y = soxr.resample(y, sr, ENCODER_SR).astype(np.float32)
        step = int(CHUNK_S * ENCODER_SR)
        rows, times = [], []
        for start in range(0, max(len(y), 1), step):
            piece = y[start:start + step]
            if len(piece) < 400:          # under 25 ms: too short for the conv front end
                piece = np.pad(piece, (0, 400 - len(piece)))
            h = self._encode(piece)
            hop = len(piece) / ENCODER_SR / max(len(h), 1)
            rows.append(h)
            times.append(start / ENCODER_SR + (np.arange(len(h)) + 0.5) * hop)
        h, t = np.concatenate(rows), np.concatenate(times)
        centres = (np.arange(num_frames) + 0.5) / fps
        out = np.stack([np.interp(centres, t, h[:, k]) for k in range(h.shape[1])], axis=1)
        return out.astype(np.float32)

    def _encode(self, piece: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            if self.kind == "whisper":
                feats = self.extractor(piece, sampling_rate=ENCODER_SR, return_tensors="pt")
                h = self.model(feats.input_features.to(self.device)).last_hidden_state[0]
                # Whisper pads every piece to 30 s: keep the frames of the audio itself.
                h = h[: max(1, int(np.ceil(len(piece) / ENCODER_SR * 50)))]
            else:
                x = piece
                if self.normalize:
                    x = (x - x.mean()) / (x.std() + 1e-7)
                h = self.model(torch.from_numpy(x)[None].to(self.device)).last_hidden_state[0]
        return h.float().cpu().numpy()


def _do_normalize(folder: Path) -> bool:
    """Whether the model hears zero-mean, unit-variance audio: its feature extractor's
    ``do_normalize`` when the folder has one, else yes (as wav2vec2's and HuBERT's do)."""
    import json

    pre = folder / "preprocessor_config.json"
    if pre.is_file():
        return bool(json.loads(pre.read_text()).get("do_normalize", True))
    return True

