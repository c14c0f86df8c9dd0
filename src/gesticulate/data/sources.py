"""Which videos a build reads: files, folders (searched recursively) and text files listing paths.

Every source gets a stable id, ``<stem>-<8 hex digits of the resolved path's hash>``, so two
``clip.mp4`` files in different folders never collide and a resumed build finds the same ids.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from gesticulate.errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".flv",
                    ".ts", ".wmv")
# Audio next to a silent video (same stem) is used as its soundtrack: PATS / AVSpeech crops ship so.
SIDECAR_AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".ogg")
LIST_EXTENSIONS = (".txt", ".lst", ".list")


@dataclass(frozen=True)
class Source:
    """One input video.

    Attributes
    ----------
    path : str
        Absolute path of the video.
    source_id : str
        Stable id used in clip ids and done markers.
    speaker_id : str
        Who speaks in it; splits never share a speaker. Defaults to the source id (one
        speaker per video); ``speaker_from="folder"`` uses the parent folder's name.
    sidecar_audio : str or None
        An audio file with the video's stem, used when the video has no audio stream.
    """

    path: str
    source_id: str
    speaker_id: str
    sidecar_audio: str | None = None


def source_id_for(path: str | os.PathLike) -> str:
    p = Path(path).resolve()
    digest = hashlib.sha1(str(p).encode("utf-8")).hexdigest()[:8]
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in p.stem)[:48] or "video"
    return f"{stem}-{digest}"


def find_sidecar_audio(path: Path) -> str | None:
    """An audio file with the video's name beside it (``clip.wav`` for ``clip.mp4``), or None."""
    for ext in SIDECAR_AUDIO_EXTENSIONS:
        cand = path.with_suffix(ext)
        if cand.is_file():
            return str(cand)
    return None


def _read_list(path: Path) -> list[Path]:
    """Paths listed one per line; blank lines and ``#`` comments skipped; relative to the list."""
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            p = Path(line).expanduser()
            out.append(p if p.is_absolute() else path.parent / p)
    return out


def _expand(path: Path, seen_lists: set[Path]) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*")
                      if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
                      and not any(part.startswith(".") for part in p.relative_to(path).parts))
    if path.suffix.lower() in LIST_EXTENSIONS:
        real = path.resolve()
        if real in seen_lists:
            return []
        seen_lists.add(real)
        found = []
        for p in _read_list(path):
            if not p.exists():
                raise InputError(f"{p} (listed in {path}) does not exist; fix or remove that line")
            found.extend(_expand(p, seen_lists))
        return found
    # Any other file is taken as a video, whatever its extension: a bad one is rejected with
    # its decode error in the manifest, which tells the user more than silently skipping it.
    return [path]


def collect_sources(inputs: list[str | os.PathLike] | str | os.PathLike, *,
                    speaker_from: str = "source") -> list[Source]:
    """Expand files, folders and list files into sources, sorted by source id, no duplicates.

    Parameters
    ----------
    inputs : path or list of paths
        Video files, folders (searched recursively for video extensions) or text files with
        one path per line (``.txt``, ``.lst``, ``.list``; relative paths are relative to the
        list file).
    speaker_from : {"source", "folder"}
        Speaker id: one per video, or the name of the folder the video is in.

    Raises
    ------
    InputError
        When an input does not exist or nothing is found.
    OptionError
        When ``speaker_from`` is unknown.
    """
    from gesticulate.errors import OptionError

    if speaker_from not in ("source", "folder"):
        raise OptionError(f"speaker_from={speaker_from!r}; use 'source' or 'folder'")
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    seen_lists: set[Path] = set()
    paths: list[Path] = []
    for item in inputs:
        p = Path(item).expanduser()
        if not p.exists():
            raise InputError(f"input {p} does not exist; pass video files, folders or list files")
        paths.extend(_expand(p, seen_lists))
    by_id: dict[str, Source] = {}
    for p in paths:
        sid = source_id_for(p)
        speaker = sid if speaker_from == "source" else (p.resolve().parent.name or sid)
        by_id.setdefault(sid, Source(str(p.resolve()), sid, speaker, find_sidecar_audio(p)))
    if not by_id:
        raise InputError(f"no videos found in {', '.join(map(str, inputs))}; "
                         f"looked for {', '.join(VIDEO_EXTENSIONS)}")
    return [by_id[k] for k in sorted(by_id)]
