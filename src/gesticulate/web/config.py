"""Limits and settings of one ``gesticulate serve`` instance.

Every limit a hostile or careless request could push against has a named field here, so the
operator can see them in one place and the page can show them (``/api/config``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MB = 1_000_000  # decimal megabytes, as the page shows them


@dataclass
class ServerConfig:
    """What one server accepts and how it runs jobs."""

    workers: int = 1                      # worker processes; each runs one job at a time
    max_queue: int = 16                   # jobs waiting for a worker; more are refused (503)
    workdir: Path | None = None           # job folders live under workdir/jobs (temp dir if None)
    max_audio_bytes: int = 20 * MB        # one uploaded audio file
    max_image_bytes: int = 15 * MB        # one uploaded photo
    max_body_bytes: int = 40 * MB         # a whole request body (both files and the fields)
    max_audio_s: float = 120.0            # speech longer than this is refused (seconds)
    max_text_chars: int = 1000            # typed text spoken by eSpeak NG
    max_image_pixels: int = 40_000_000    # width x height, read from the header before decoding
    max_size: int = 1024                  # largest --size a web user may ask for (pixels)
    job_timeout_s: float = 900.0          # hard limit for one job, queue time excluded
    abandon_after_s: float = 180.0        # cancel a job whose page stopped polling this long
    # (hidden tabs are throttled to one timer a minute by Chrome, so keep this well above 60)
    keep_s: float = 3600.0                # finished jobs (and their files) expire after this
    max_jobs_per_worker: int = 50         # recycle a worker after this many jobs (leaks)
    warmup: bool = True                   # workers load models before taking their first job
    motion_checkpoints: dict[str, str] = field(default_factory=dict)  # menu name -> folder
    allowed_hosts: list[str] | None = None  # Host headers accepted (DNS rebinding); None: any

    def check(self) -> None:
        from gesticulate.errors import OptionError
        if not 1 <= self.workers <= max(1, 4 * (os.cpu_count() or 1)):
            raise OptionError(f"--workers {self.workers} is out of range; use 1.."
                              f"{4 * (os.cpu_count() or 1)} (one per CPU core is a good start)")
        if self.max_queue < 1:
            raise OptionError("the job queue must hold at least one job")
        for name, folder in self.motion_checkpoints.items():
            if not Path(folder).is_dir():
                raise OptionError(f"checkpoint folder {folder} for {name!r} not found; check it")
