"""Builders of bad (and odd but valid) inputs for the bad-input matrix: each writes one file."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from PIL import Image

from web.live import SR, speechlike


def wav(d: Path, name="speech.wav", *, seconds=1.5, sr=SR, channels=1, subtype=None) -> Path:
    y = speechlike(seconds, sr=sr)
    if channels > 1:
        y = np.stack([y * (0.5 + 0.5 * c / channels) for c in range(channels)], axis=1)
    sf.write(d / name, y, sr, subtype=subtype)
    return d / name


def person(d: Path, name="person.png") -> Path:
    from skimage.data import astronaut
    Image.fromarray(astronaut()).resize((256, 256)).save(d / name)
    return d / name


def corrupt_wav(d: Path) -> Path:
    p = d / "corrupt.wav"
    p.write_bytes(b"RIFF" + struct.pack("<I", 1000) + b"WAVEfmt " + struct.pack("<I", 16)
                  + b"\xff" * 16 + b"data" + struct.pack("<I", 800) + b"\x13" * 800)
    return p


def truncated(src: Path, fraction: float, name: str) -> Path:
    data = src.read_bytes()
    p = src.with_name(name)
    p.write_bytes(data[: int(len(data) * fraction)])
    return p


def truncated_flac(d: Path) -> Path:
    sf.write(d / "full.flac", speechlike(2.0), SR)
    return truncated(d / "full.flac", 0.4, "truncated.flac")


def truncated_mp3(d: Path) -> Path:
    sf.write(d / "full.mp3", speechlike(2.0), SR, format="MP3")
    return truncated(d / "full.mp3", 0.5, "truncated.mp3")


def header_only_wav(d: Path) -> Path:
    return truncated(wav(d, "full.wav"), 44 / (d / "full.wav").stat().st_size, "header_only.wav")


def ogg_magic_garbage(d: Path) -> Path:
    p = d / "garbage.ogg"
    p.write_bytes(b"OggS" + np.random.default_rng(0).bytes(4000))
    return p


def png_named_wav(d: Path) -> Path:
    p = d / "photo.wav"
    p.write_bytes(person(d, "p.png").read_bytes())
    return p


def lying_wav_header(d: Path) -> Path:
    """A wav whose header says ~3 hours while the file holds 1.5 s."""
    p = wav(d, "liar.wav", sr=8000, subtype="PCM_16")
    data = bytearray(p.read_bytes())
    i = data.find(b"data")
    data[i + 4:i + 8] = struct.pack("<I", 8000 * 2 * 3 * 3600)
    data[4:8] = struct.pack("<I", 8000 * 2 * 3 * 3600 + 36)
    p.write_bytes(bytes(data))
    return p


def nan_wav(d: Path) -> Path:
    sf.write(d / "nan.wav", np.full(SR * 2, np.nan, np.float32), SR, subtype="FLOAT")
    return d / "nan.wav"


def video(d: Path, name: str, *, frames=1, audio_s=None) -> Path:
    p = d / name
    with av.open(str(p), "w", format="mp4") as c:
        v = c.add_stream("libx264", rate=25)
        v.width = v.height = 64
        v.pix_fmt = "yuv420p"
        a = c.add_stream("aac", rate=SR) if audio_s else None
        if a is not None:
            a.layout = "mono"
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 90, np.uint8), format="rgb24")
            f.pts = i
            c.mux(v.encode(f))
        c.mux(v.encode(None))
        if a is not None:
            y = speechlike(audio_s)
            for s in range(0, len(y), 1024):
                af = av.AudioFrame.from_ndarray(y[None, s:s + 1024], format="flt", layout="mono")
                af.sample_rate, af.pts, af.time_base = SR, s, Fraction(1, SR)
                c.mux(a.encode(af))
            c.mux(a.encode(None))
    return p


def webm_opus(d: Path) -> Path:
    """What Chrome's MediaRecorder uploads: Opus in WebM at 48 kHz."""
    p = d / "recording.webm"
    y = speechlike(1.5, sr=48000)
    with av.open(str(p), "w", format="webm") as c:
        a = c.add_stream("libopus", rate=48000)
        a.layout = "mono"
        for s in range(0, len(y), 960):
            af = av.AudioFrame.from_ndarray(y[None, s:s + 960], format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = 48000, s, Fraction(1, 48000)
            c.mux(a.encode(af))
        c.mux(a.encode(None))
    return p


def corrupt_png(d: Path) -> Path:
    p = d / "corrupt.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(1).bytes(3000))
    return p


def truncated_jpeg(d: Path) -> Path:
    from skimage.data import astronaut
    Image.fromarray(astronaut()).save(d / "full.jpg", quality=90)
    return truncated(d / "full.jpg", 0.3, "truncated.jpg")


def wav_named_png(d: Path) -> Path:
    p = d / "speech.png"
    p.write_bytes(wav(d, "w.wav").read_bytes())
    return p


def empty(d: Path, name: str) -> Path:
    (d / name).write_bytes(b"")
    return d / name


def bomb_png(d: Path) -> Path:
    """A PNG whose header says 60000 x 60000 pixels (a decompression bomb) in a small file."""
    import zlib
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\0" * (60000 * 3 + 1) * 4)
    p = d / "bomb.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return p


def gif_photo(d: Path) -> Path:
    Image.open(person(d, "g.png")).convert("P").save(d / "person.gif")
    return d / "person.gif"


def cmyk_jpeg(d: Path) -> Path:
    Image.open(person(d, "c.png")).convert("CMYK").save(d / "cmyk.jpg")
    return d / "cmyk.jpg"


def png16(d: Path) -> Path:
    g = np.asarray(Image.open(person(d, "g16.png")).convert("L")).astype(np.uint16) * 257
    Image.fromarray(g).save(d / "grey16.png")
    return d / "grey16.png"


def panorama(d: Path) -> Path:
    Image.open(person(d, "pano.png")).resize((3000, 64)).save(d / "panorama.png")
    return d / "panorama.png"


def two_people(d: Path) -> Path:
    from skimage.data import astronaut
    Image.fromarray(np.concatenate([astronaut(), astronaut()], axis=1)).save(d / "two.png")
    return d / "two.png"


def no_person(d: Path) -> Path:
    from skimage.data import coffee
    Image.fromarray(coffee()).save(d / "cup.png")
    return d / "cup.png"
