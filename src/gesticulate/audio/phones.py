"""Phone timings from pocketsphinx's bundled English model, and mouth opening from phones.

Two ways in, both with models that ship inside the ``pocketsphinx`` wheel (no download):

- no transcript: phone recognition (``allphone`` search with the phonetic language model
  ``en-us-phone.lm.bin``) — the phones are often wrong in detail, but vowels, closures and
  pauses land at the right times, which is what lip motion needs;
- a transcript: forced alignment (``set_align_text`` then ``set_alignment``), which gives
  the dictionary's phones at the times they were spoken. Words missing from the CMU
  dictionary are dropped (with a warning); if nothing can be aligned we fall back to
  recognition.

Phone timings are an optional aid for the mouth: every failure is logged as a warning and
returns ``None``; nothing is printed to stdout (the decoder's log level is FATAL).
"""

from __future__ import annotations

import logging
import os
import re
import threading

import numpy as np

log = logging.getLogger(__name__)

PS_SR = 16000
_FRATE = 100  # pocketsphinx frames per second
_CHUNK_S = 20.0  # recognition runs on pieces of about this length, cut at quiet points
_lock = threading.Lock()
_decoders: dict[str, object] = {}

# Mouth opening per CMU phone, 0 = lips closed, 1 = jaw widest (AA). Grouped as in the usual
# viseme classes (bilabial, labiodental, rounded, dental, alveolar, velar, open vowels).
OPENNESS = {
    "P": 0.0, "B": 0.0, "M": 0.0,
    "F": 0.15, "V": 0.15,
    "W": 0.25, "UW": 0.35, "UH": 0.45, "OW": 0.6, "OY": 0.7, "R": 0.3, "ER": 0.4,
    "TH": 0.3, "DH": 0.3, "S": 0.2, "Z": 0.2, "SH": 0.3, "ZH": 0.3, "CH": 0.3, "JH": 0.3,
    "T": 0.3, "D": 0.3, "N": 0.3, "L": 0.35, "Y": 0.35,
    "K": 0.4, "G": 0.4, "NG": 0.35, "HH": 0.5,
    "IY": 0.4, "IH": 0.5, "EY": 0.6, "EH": 0.7, "AE": 0.9, "AH": 0.75, "AY": 0.9,
    "AW": 0.9, "AO": 0.85, "AA": 1.0,
}


def _decoder(kind: str):
    """A cached pocketsphinx decoder: ``"allphone"`` (recognition) or ``"align"``."""
    if kind not in _decoders:
        import pocketsphinx as ps
        model = ps.get_model_path()
        common = dict(hmm=os.path.join(model, "en-us", "en-us"), loglevel="FATAL")
        if kind == "allphone":
            # Beams of 1e-10 keep 16 s of speech under a second on one core with almost the
            # phones of a 1e-20 search (92 % of the sequence), and maxhmmpf caps the active
            # HMMs per frame so noisy input cannot slow it; lw/pip as in pocketsphinx's
            # phoneme example.
            _decoders[kind] = ps.Decoder(allphone=os.path.join(model, "en-us",
                                                               "en-us-phone.lm.bin"),
                                         lm=None, lw=2.0, pip=0.3, beam=1e-10,
                                         pbeam=1e-10, maxhmmpf=1000, **common)
        else:
            # bestpath=False: pocketsphinx's own alignment test needs it for phone alignment.
            _decoders[kind] = ps.Decoder(lm=None, bestpath=False, **common)
    return _decoders[kind]


def recognize_phones(y: np.ndarray, *, sr: int,
                     transcript: str | None = None) -> list[tuple[str, float, float]] | None:
    """Phones spoken in ``y`` with their times.

    Parameters
    ----------
    y : np.ndarray, shape (N,), float32
        Mono audio in -1..1.
    sr : int
        Sample rate of ``y`` in Hz (resampled to 16 kHz for the decoder).
    transcript : str, optional
        What was said; when given, phones come from forced alignment of these words.

    Returns
    -------
    list of (phone, start_s, end_s) or None
        CMU phones without stress marks (``"AA"``, ``"P"`` ...), ``"SIL"`` for pauses, in
        time order, in seconds. ``None`` (with a logged warning) when there is no audio or
        pocketsphinx could not decode it (it raises ``RuntimeError`` for audio it cannot
        decode or align); any other exception is a bug and is raised.
    """
    pcm = _to_pcm16(y, sr=sr)
    if len(pcm) == 0:  # pocketsphinx indexes the first sample of what it is given
        log.warning("no audio to recognise phones in; lip motion will follow the loudness only")
        return None
    with _lock:
        try:
            if transcript and transcript.strip():
                phones = _align(pcm, transcript)
                if phones:
                    return phones
                log.warning("forced alignment of the transcript failed; recognising phones "
                            "without it")
            return _recognise(pcm)
        except RuntimeError as err:
            # A decoder that failed mid-utterance refuses the next start_utt: build afresh.
            _decoders.clear()
            log.warning("phone recognition failed (%s); lip motion will follow the loudness "
                        "only", err)
            return None


def _to_pcm16(y: np.ndarray, *, sr: int) -> np.ndarray:
    y = np.asarray(y, np.float32)
    if sr != PS_SR:
        import soxr
        y = soxr.resample(y, sr, PS_SR)
    peak = float(np.abs(y).max()) if len(y) else 0.0
    if peak > 0:
        y = y * (0.9 / peak)  # quiet recordings decode better at full scale
    return (y * 32767).astype(np.int16)


def _decode(decoder, pcm: np.ndarray) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), no_search=False, full_utt=True)
    decoder.end_utt()


def _recognise(pcm: np.ndarray) -> list[tuple[str, float, float]]:
    decoder = _decoder("allphone")
    out = []
    for a, b in _quiet_cuts(pcm):
        _decode(decoder, pcm[a:b])
        for seg in decoder.seg() or []:
            name = _clean(seg.word)
            if name:
                out.append((name, a / PS_SR + seg.start_frame / _FRATE,
                            a / PS_SR + (seg.end_frame + 1) / _FRATE))
    return out


def _align(pcm: np.ndarray, transcript: str) -> list[tuple[str, float, float]] | None:
    decoder = _decoder("align")
    words = [w for w in re.findall(r"[a-z']+", transcript.lower()) if w.strip("'")]
    known = [w for w in words if decoder.lookup_word(w) is not None]
    if len(known) < len(words):
        log.warning("words not in the pronouncing dictionary are skipped in alignment: %s",
                    sorted(set(words) - set(known)))
    if not known:
        return None
    decoder.set_align_text(" ".join(known))
    _decode(decoder, pcm)
    decoder.set_alignment()
    _decode(decoder, pcm)
    out = []
    for entry in decoder.get_alignment().phones():
        name = _clean(entry.name)
        if name:
            out.append((name, entry.start / _FRATE, (entry.start + entry.duration) / _FRATE))
    return out


def _clean(name: str) -> str | None:
    """CMU phone without stress digits; pauses and noise (``+NSN+``, ``<sil>``) as SIL."""
    name = re.sub(r"\d", "", name).upper()
    if name in OPENNESS:
        return name
    return "SIL" if name else None


def _quiet_cuts(pcm: np.ndarray) -> list[tuple[int, int]]:
    """Pieces of about ``_CHUNK_S`` seconds, each ending at the quietest 10 ms near its end.

    Decoding a long utterance in one go keeps every backpointer of it; pieces keep memory
    flat and cost no accuracy when cut in a pause.
    """
    n, step = len(pcm), int(_CHUNK_S * PS_SR)
    cuts, a = [], 0
    while n - a > step * 1.5:
        lo, hi = a + step - 2 * PS_SR, a + step + 2 * PS_SR  # search ±2 s around the target
        win = PS_SR // 100
        energy = np.square(pcm[lo:hi].astype(np.float32)).reshape(-1, win).sum(axis=1)
        b = lo + int(np.argmin(energy)) * win
        cuts.append((a, b))
        a = b
    cuts.append((a, n))
    return cuts


def viseme_openness(phones: list[tuple[str, float, float]] | None, *, fps: float,
                    num_frames: int) -> np.ndarray:
    """Mouth opening per video frame from phone timings.

    Parameters
    ----------
    phones : list of (phone, start_s, end_s) or None
        As :func:`recognize_phones` returns them; ``None`` or empty gives all zeros.
    fps : float
        Video frame rate; frame ``t`` covers ``[t / fps, (t + 1) / fps)`` s.
    num_frames : int
        ``T``, the number of frames to return.

    Returns
    -------
    np.ndarray, shape (T,), float32
        0 (lips closed) .. 1 (widest, AA): the time-weighted mean of the phones' openness
        over each frame, then smoothed with a [1, 2, 1] / 4 kernel, since lips move
        towards the next phone before it starts (coarticulation).
    """
    def place(name):
        return (0, OPENNESS[name]) if OPENNESS.get(name, 0.0) > 0 else None
    out = _per_frame(phones, fps=fps, num_frames=num_frames, width=1, place=place)
    return np.clip(out[:, 0], 0.0, 1.0).astype(np.float32)


def _per_frame(phones, *, fps: float, num_frames: int, width: int, place) -> np.ndarray:
    """``(T, width)`` float64: each phone adds ``weight`` times the share of each frame it
    covers to column ``column``, where ``place(phone)`` gives ``(column, weight)`` (None: the
    phone adds nothing); then smoothed over time with a [1, 2, 1] / 4 kernel (coarticulation:
    lips move towards the next phone before it starts)."""
    out = np.zeros((num_frames, width), np.float64)
    for name, start, end in phones or []:
        where = place(name)
        if where is None or end <= start:
            continue
        column, weight = where
        f0, f1 = start * fps, end * fps  # in frames
        for t in range(max(0, int(f0)), min(num_frames, int(np.ceil(f1)))):
            out[t, column] += weight * (min(f1, t + 1) - max(f0, t))
    if num_frames >= 3:
        pad = np.pad(out, ((1, 1), (0, 0)), mode="edge")
        out = 0.25 * pad[:-2] + 0.5 * pad[1:-1] + 0.25 * pad[2:]
    return out


# Viseme classes (what the lips and jaw do), the phone channels of MotionDiT's audio input: a
# phone's class gets its share of each frame, the last channel is the mouth opening
# (:data:`OPENNESS`). Silence and unknown phones leave every class at 0.
VISEMES = {
    "closed": ("P", "B", "M"),
    "labiodental": ("F", "V"),
    "rounded": ("W", "UW", "UH", "OW", "OY", "R", "ER"),
    "tongue": ("TH", "DH", "S", "Z", "SH", "ZH", "CH", "JH", "T", "D", "N", "L", "Y"),
    "back": ("K", "G", "NG", "HH"),
    "spread_vowel": ("IY", "IH", "EY", "EH", "AE"),
    "open_vowel": ("AH", "AY", "AW", "AO", "AA"),
}
_VISEME_OF = {ph: i for i, group in enumerate(VISEMES.values()) for ph in group}
NUM_PHONE_CHANNELS = len(VISEMES) + 1


def viseme_channels(phones: list[tuple[str, float, float]] | None, *, fps: float,
                    num_frames: int) -> np.ndarray:
    """Per-frame viseme classes and mouth opening from phone timings (the parameters as
    :func:`viseme_openness`'s).

    Returns
    -------
    np.ndarray, shape (T, NUM_PHONE_CHANNELS), float32
        Columns in :data:`VISEMES` order: the share of each frame spoken in a phone of that
        class, smoothed like :func:`viseme_openness` (coarticulation); the last column is
        :func:`viseme_openness`.
    """
    out = _per_frame(phones, fps=fps, num_frames=num_frames, width=NUM_PHONE_CHANNELS,
                     place=lambda name: (_VISEME_OF[name], 1.0) if name in _VISEME_OF else None)
    out[:, -1] = viseme_openness(phones, fps=fps, num_frames=num_frames)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def model_audio(features, timings: list[tuple[str, float, float]] | None, *,
                phones: bool, encoded: np.ndarray | None = None) -> np.ndarray:
    """A learned model's audio input rows ``(T, A)`` float32: ``features.stack()``, then, with
    ``phones``, the :func:`viseme_channels` of ``timings`` (zeros when none were recognised:
    the model was trained with a share of its windows' phones dropped), then the rows of a
    speech encoder (``encoded``, :mod:`gesticulate.audio.encoder`) when given."""
    rows = [features.stack()]
    if phones:
        rows.append(viseme_channels(timings, fps=float(features.fps), num_frames=len(rows[0])))
    if encoded is not None:
        rows.append(np.asarray(encoded, np.float32)[: len(rows[0])])
    return np.concatenate(rows, axis=1).astype(np.float32)
