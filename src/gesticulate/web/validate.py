"""Checks at the door: job ids, uploaded files (by content, never by name) and form settings.

Everything here runs in the server process on untrusted bytes, so it only reads headers:
magic bytes, then the container header (libsndfile for wav/flac/ogg, Pillow's lazy
``Image.open`` for photos, which reads the size without decoding a pixel). The full decode
happens in a worker process, where a crash cannot take the server down. Every refusal is an
:class:`~gesticulate.errors.InputError` or :class:`~gesticulate.errors.OptionError` whose
message the page shows as it is.
"""

from __future__ import annotations

import math
import re
import secrets
import warnings
from pathlib import Path

from gesticulate.errors import InputError, OptionError

JOB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
AUDIO_KINDS = ("wav", "aiff", "flac", "ogg", "mp3", "mp4", "webm")
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif"}
_AUDIO_HINT = "give a wav, flac, ogg, mp3, m4a or webm recording"
_IMAGE_HINT = "give a JPEG, PNG, WebP, BMP or TIFF photo"


def human_bytes(n: float) -> str:
    """400000 -> '400 kB', 20000000 -> '20 MB', 1500000 -> '1.5 MB' (decimal units)."""
    if n < 1e6:
        return f"{max(1, round(n / 1e3))} kB"
    return f"{n / 1e6:.1f} MB" if n < 1e7 and n % 1e6 else f"{n / 1e6:.0f} MB"


def new_job_id() -> str:
    """An unguessable job id: 24 random bytes, URL-safe base64 (32 characters)."""
    return secrets.token_urlsafe(24)


def is_job_id(value: str) -> bool:
    """True if ``value`` has the shape of an id from :func:`new_job_id` (nothing else is looked up)."""
    return isinstance(value, str) and JOB_ID_RE.fullmatch(value) is not None


def sniff_audio(head: bytes) -> str | None:
    """The container of an audio file from its first bytes (>= 12), or None if not audio."""
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if len(head) >= 12 and head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"  # ID3 tag, or an MPEG audio / ADTS frame sync (11 bits set)
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mp4"  # m4a, mp4, mov: Safari's MediaRecorder writes these
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"  # EBML: webm / mkv, Chrome's and Firefox's MediaRecorder
    return None


def check_audio_upload(path: str | Path, *, max_bytes: int, max_seconds: float) -> str:
    """Refuse an uploaded audio file that is empty, too big, not audio, or too long.

    Parameters
    ----------
    path : the uploaded bytes, saved under a name the server chose.
    max_bytes : size limit in bytes.
    max_seconds : duration limit in seconds, checked here when the header states the
        duration exactly (wav, aiff, flac, ogg); other containers are checked after decoding
        in the worker.

    Returns
    -------
    str : the container, one of :data:`AUDIO_KINDS`.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise InputError("the audio file is empty (0 bytes); record or choose a file with speech")
    if size > max_bytes:
        raise InputError(f"the audio file is {human_bytes(size)}; the limit is "
                         f"{human_bytes(max_bytes)}. Trim it or save it compressed (mp3, ogg)")
    with open(path, "rb") as f:
        kind = sniff_audio(f.read(16))
    if kind is None:
        raise InputError(f"this file is not audio (its content is not a known audio format, "
                         f"whatever its name says); {_AUDIO_HINT}")
    if kind in ("wav", "aiff", "flac", "ogg"):
        check_audio_header(path, max_seconds=max_seconds)
    return kind


def check_audio_header(path: Path, *, max_seconds: float) -> None:
    """Duration and shape from a libsndfile header; refuses unreadable or over-long files."""
    import soundfile as sf
    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 - libsndfile raises several kinds; all mean "unreadable"
        raise InputError(f"the audio file is damaged: its header cannot be read; {_AUDIO_HINT}") \
            from None
    if info.samplerate <= 0 or info.channels <= 0:
        raise InputError(f"the audio header is invalid (rate {info.samplerate} Hz, "
                         f"{info.channels} channels); re-export the recording")
    if info.frames > 0 and info.frames / info.samplerate > max_seconds:
        raise InputError(f"the audio is {info.frames / info.samplerate:.0f} s long; the limit here "
                         f"is {max_seconds:.0f} s. Trim it, or use the command line for long files")


def check_image_upload(path: str | Path, *, max_bytes: int, max_pixels: int) -> str:
    """Refuse an uploaded photo that is empty, too big, not an image, or too many pixels.

    Only the header is read (``Image.open`` is lazy), so a decompression bomb is refused
    before any pixel is decoded. Returns the file extension for its format (``"png"`` ...).
    """
    from PIL import Image, UnidentifiedImageError
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise InputError("the photo file is empty (0 bytes); choose a photo")
    if size > max_bytes:
        raise InputError(f"the photo is {human_bytes(size)}; the limit is {human_bytes(max_bytes)}. "
                         "Save it as a JPEG or make it smaller")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bombs are checked below, from the header
            with Image.open(path, formats=list(IMAGE_FORMATS)) as im:
                fmt, (w, h) = im.format, im.size
    except Image.DecompressionBombError:  # Pillow refuses > 2x its own cap in open()
        raise InputError(f"the photo's header says it has more than "
                         f"{2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels (the limit here is "
                         f"{max_pixels / 1e6:.0f} megapixels); downscale it first") from None
    except UnidentifiedImageError:
        raise InputError(f"this file is not a photo (its content is not a known image format, "
                         f"whatever its name says); {_IMAGE_HINT}") from None
    except Exception:  # noqa: BLE001 - a damaged header raises many kinds; all mean "unreadable"
        raise InputError(f"the photo is damaged: its header cannot be read; {_IMAGE_HINT}") from None
    if w * h > max_pixels:
        raise InputError(f"the photo is {w}x{h} pixels; the limit is {max_pixels / 1e6:.0f} "
                         "megapixels. Downscale it first")
    if min(w, h) < 64:
        raise InputError(f"the photo is only {w}x{h} pixels; use one at least 64 px on its "
                         "short side (256 or more looks good)")
    return IMAGE_FORMATS[fmt]


def _number(form, name: str, default, cast, lo, hi):
    raw = form.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = cast(str(raw).strip())
    except ValueError:
        raise OptionError(f"{name} must be a number, got {str(raw)[:40]!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise OptionError(f"{name} must be a finite number")
    if not lo <= value <= hi:
        raise OptionError(f"{name} {value} is out of range; use {lo}..{hi}")
    return value


def parse_settings(form, *, max_size: int, motions: dict[str, list[str]],
                   checkpoints: dict[str, str]) -> dict:
    """Form fields → ``GenerateOptions`` keyword arguments, each checked against a menu or range.

    ``motions`` maps each generator offered to its style names; ``checkpoints`` maps a
    generator to the folder the operator configured (a request never names a path).
    """
    from gesticulate.pipeline import RENDERERS
    motion = str(form.get("motion") or "procedural")
    if motion not in motions:
        raise OptionError(f"motion generator {motion[:40]!r} is not offered here; choose one of "
                          f"{', '.join(motions)}")
    renderer = str(form.get("renderer") or "warp")
    if renderer not in RENDERERS:
        raise OptionError(f"renderer {renderer[:40]!r} is unknown; choose one of {', '.join(RENDERERS)}")
    style = str(form.get("style") or "") or None
    if motion in ("procedural", "retrieval") and style is not None:
        from gesticulate.motion.style import canonical
        style = canonical(style)            # old names still accepted
    if style is not None and style not in motions[motion]:
        raise OptionError(f"style {style[:40]!r} is not a style of the {motion} generator; choose "
                          f"one of {', '.join(motions[motion]) or 'none'}")
    return dict(motion=motion, renderer=renderer, style=style,
                checkpoint=checkpoints.get(motion),
                seed=_number(form, "seed", 0, int, 0, 2**32 - 1),
                speed=_number(form, "speed", 1.0, float, 0.25, 4.0),
                size=_number(form, "size", 512, int, 64, max_size),
                fps=_number(form, "fps", 25.0, float, 5.0, 30.0),
                phones=_flag(form, "phones", True), smooth=_flag(form, "smooth", True),
                hands_first=motion == "diffusion" and _flag(form, "hands_first", False))


def _flag(form, name: str, default: bool) -> bool:
    """A checkbox field: absent → ``default``; "0", "false", "off" or empty → False."""
    value = form.get(name)
    if value is None:
        return default
    return str(value) not in ("0", "false", "off", "")
