"""The web app: a Starlette ASGI application over the job queue (``create_app``).

Routes (JSON errors are ``{"error": message}``; the page shows the message as it is)::

    GET  /                              the page (static/index.html)
    GET  /static/{app.js|style.css}     its script and style, by fixed names only
    GET  /api/config                    menus and limits for the page
    POST /api/jobs                      multipart: audio file | text, image file, settings
    GET  /api/jobs/{id}                 state, stage, progress, queue position, outputs
    POST /api/jobs/{id}/cancel          stop a job (the page's Cancel button)
    GET  /api/jobs/{id}/files/{name}    one output by its fixed name (?download=1 to save)
    GET  /api/health                    workers ready, jobs queued and running

No request value reaches the filesystem: job ids are checked against a regex and looked up in
memory, file names against a fixed list, and uploads are saved under names the server picks.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from gesticulate.errors import GesticulateError, InputError, OptionError
from gesticulate.web.config import ServerConfig
from gesticulate.web.jobs import JobManager, QueueFull
from gesticulate.web.validate import (check_audio_upload, check_image_upload, human_bytes,
                                      parse_settings)
from gesticulate.web.worker import OUTPUTS

log = logging.getLogger("gesticulate.web")

_STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
           "icon.svg": "image/svg+xml",
           "style.css": "text/css; charset=utf-8"}
_MEDIA = {".mp4": "video/mp4", ".npz": "application/octet-stream", ".png": "image/png",
          ".zip": "application/zip"}
_DOWNLOAD_NAMES = {"video.mp4": "gesticulate.mp4", "motion.npz": "gesticulate-skeleton.npz",
                   "overlay.png": "gesticulate-overlay.png", "pose.mp4": "gesticulate-pose.mp4",
                   "openpose.zip": "gesticulate-openpose.zip"}
_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", b"default-src 'self'; img-src 'self' blob: data:; "
                                         b"media-src 'self' blob:; object-src 'none'; "
                                         b"base-uri 'none'; frame-ancestors 'none'")]


class BodyTooLarge(Exception):
    """The request body passed ``max_body_bytes``."""


def _error(status: int, message: str, **headers) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def _too_large(cfg: ServerConfig) -> JSONResponse:
    return _error(413, f"the upload is larger than this server accepts "
                       f"({human_bytes(cfg.max_body_bytes)} for audio and photo together); "
                       "use shorter audio or a smaller photo")


class Guard:
    """Outer ASGI layer: security headers on every response, and the request body size cap.

    A body announced larger than the cap is refused before it is read (its bytes are drained
    up to a few times the cap so the client can read the answer); a chunked body that grows
    past it raises :class:`BodyTooLarge` inside the form parser.
    """

    def __init__(self, app, config: ServerConfig) -> None:
        self.app, self.config = app, config

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + _HEADERS
            await send(message)
        headers = dict(scope["headers"])
        hosts = self.config.allowed_hosts
        if hosts is not None and _hostname(headers.get(b"host", b"")) not in hosts:
            # a page on another site resolving its name to this machine (DNS rebinding)
            return await _error(400, "unknown Host header; open the page by the address the "
                                     "server printed")(scope, receive, send_with_headers)
        limit = self.config.max_body_bytes
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            if int(length) <= 4 * limit:
                await _drain(receive)
            return await _too_large(self.config)(scope, receive, send_with_headers)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message
        await self.app(scope, limited_receive, send_with_headers)


def _hostname(host: bytes) -> str:
    """'127.0.0.1:7860' -> '127.0.0.1', '[::1]:7860' -> '[::1]'."""
    text = host.decode("latin-1").strip().lower()
    return text if text.endswith("]") else text.rsplit(":", 1)[0] if ":" in text else text


async def _drain(receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


def _offered_motions(cfg: ServerConfig) -> dict[str, list[str]]:
    from gesticulate.motion.style import names
    motions = {"procedural": names()}
    # retrieval reads the same gesture styles (its dataset's speakers are not offered here)
    motions.update({name: names() if name == "retrieval" else []
                    for name in cfg.motion_checkpoints})
    return motions


def create_app(config: ServerConfig | None = None, **overrides) -> Guard:
    """The ASGI app of ``gesticulate serve``; ``app.manager`` is its :class:`JobManager`.

    ``overrides`` set :class:`ServerConfig` fields (``workers=2``, ``max_audio_s=30`` ...).
    Workers start with the app's lifespan and stop (their files removed) when it ends.
    """
    cfg = config or ServerConfig()
    for k, v in overrides.items():
        if not hasattr(cfg, k):
            raise OptionError(f"unknown server option {k!r}")
        setattr(cfg, k, v)
    manager = JobManager(cfg)
    motions = _offered_motions(cfg)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await run_in_threadpool(manager.start)
        yield
        await run_in_threadpool(manager.stop)

    async def page(request: Request) -> Response:
        return _static("index.html")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        return _static(name) if name in _STATIC and name != "index.html" else \
            _error(404, "no such file")

    async def config_api(request: Request) -> Response:
        from gesticulate.pipeline import RENDERERS
        return JSONResponse({
            "motions": motions, "renderers": list(RENDERERS), "max_size": cfg.max_size,
            "max_audio_bytes": cfg.max_audio_bytes, "max_image_bytes": cfg.max_image_bytes,
            "max_audio_s": cfg.max_audio_s, "max_text_chars": cfg.max_text_chars,
            "max_image_pixels": cfg.max_image_pixels, "outputs": OUTPUTS})

    async def submit(request: Request) -> Response:
        return await _submit(request, manager, cfg, motions)

    async def job_status(request: Request) -> Response:
        job = manager.get(request.path_params["job_id"])
        if job is None:
            return _error(404, "no such job: it never existed, or it finished more than "
                               f"{cfg.keep_s / 60:.0f} min ago and its files were removed")
        return JSONResponse(manager.status(job), headers={"cache-control": "no-store"})

    async def cancel(request: Request) -> Response:
        job = manager.get(request.path_params["job_id"])
        if job is None:
            return _error(404, "no such job")
        manager.cancel(job, "cancelled at your request")
        return JSONResponse(manager.status(job))

    async def download(request: Request) -> Response:
        job = manager.get(request.path_params["job_id"])
        name = request.path_params["name"]
        path = manager.output_path(job, name) if job is not None else None
        if path is None:
            return _error(404, "no such file (the job is unknown, not finished, or expired)")
        attach = request.query_params.get("download") == "1"
        return FileResponse(path, media_type=_MEDIA[Path(name).suffix],
                            filename=_DOWNLOAD_NAMES[name],
                            content_disposition_type="attachment" if attach else "inline",
                            headers={"cache-control": "private, no-store"})

    async def health(request: Request) -> Response:
        return JSONResponse(manager.health())

    app = Starlette(routes=[
        Route("/", page), Route("/static/{name}", static),
        Route("/api/config", config_api), Route("/api/health", health),
        Route("/api/jobs", submit, methods=["POST"]),
        Route("/api/jobs/{job_id}", job_status),
        Route("/api/jobs/{job_id}/cancel", cancel, methods=["POST"]),
        Route("/api/jobs/{job_id}/files/{name}", download),
    ], lifespan=lifespan)
    guarded = Guard(app, cfg)
    guarded.manager = manager
    return guarded


def _static(name: str) -> Response:
    body = resources.files("gesticulate.web").joinpath("static", name).read_bytes()
    return Response(body, media_type=_STATIC[name], headers={"cache-control": "no-cache"})


async def _submit(request: Request, manager: JobManager, cfg: ServerConfig,
                  motions: dict) -> Response:
    """Parse, save and check one upload, then queue it; nothing is left behind on refusal."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return _error(415, "send the job as multipart/form-data (as the page does)")
    try:
        form = await request.form(max_files=2, max_fields=16, max_part_size=64 * 1024)
    except BodyTooLarge:
        return _too_large(cfg)
    except (MultiPartException, HTTPException) as e:
        detail = getattr(e, "detail", None) or getattr(e, "message", None) or str(e)
        return _error(400, f"the upload is malformed ({detail}); reload the page and try again")
    folder = None
    try:
        spec = _spec_from_form(form, cfg, motions)
        job_id, folder = manager.new_folder()
        spec["audio"] = await _save_upload(form.get("audio"), folder, "audio", "audio file",
                                           cfg.max_audio_bytes, check_audio_upload,
                                           max_seconds=cfg.max_audio_s)
        spec["image"] = await _save_upload(form.get("image"), folder, "photo", "photo",
                                           cfg.max_image_bytes, check_image_upload,
                                           max_pixels=cfg.max_image_pixels)
        job = manager.submit(job_id, folder, spec)
        folder = None  # the job owns it now
        return JSONResponse(manager.status(job), status_code=202)
    except GesticulateError as e:
        return _error(400, str(e))
    except QueueFull:
        return _error(503, f"the server is busy: {cfg.max_queue} jobs are waiting already. "
                           "Try again in a minute", **{"retry-after": "30"})
    except OSError as e:
        log.error("could not store an upload: %s", e)
        if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return _error(507, "the server has no disk space left for uploads; try again "
                               "later or with smaller files")
        return _error(500, "the server could not store the upload; try again")
    finally:
        await form.close()  # the spooled upload files
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _spec_from_form(form, cfg: ServerConfig, motions: dict) -> dict:
    from gesticulate.pipeline import GenerateOptions
    options = parse_settings(form, max_size=cfg.max_size, motions=motions,
                             checkpoints=cfg.motion_checkpoints)
    GenerateOptions(**options).check()
    text = form.get("text")
    text = text.strip() if isinstance(text, str) else ""
    has_audio = hasattr(form.get("audio"), "read")
    if has_audio == bool(text):
        raise InputError("give the speech either as a recording/file or as text, one of the two")
    if len(text) > cfg.max_text_chars:
        raise InputError(f"the text is {len(text)} characters; the limit is "
                         f"{cfg.max_text_chars}. Shorten it")
    if not hasattr(form.get("image"), "read"):
        raise InputError("no photo was sent; choose a photo of one person")
    return {"text": text or None, "options": options, "max_audio_s": cfg.max_audio_s,
            "max_image_pixels": cfg.max_image_pixels}


async def _copy(upload, path: Path, max_bytes: int, what: str) -> None:
    """Copy an upload to ``path`` (a server-chosen name), refusing more than ``max_bytes``."""
    n = 0
    with open(path, "xb") as f:
        while chunk := await upload.read(1 << 20):
            n += len(chunk)
            if n > max_bytes:
                raise InputError(f"the {what} is larger than {human_bytes(max_bytes)}, the "
                                 "limit here; use a smaller file")
            f.write(chunk)


async def _save_upload(upload, folder: Path, stem: str, what: str, max_bytes: int, check,
                       **limits) -> str | None:
    """Stream an uploaded file into ``folder``, vet it with ``check`` (which returns its
    extension) and name it ``<stem>.<ext>``; None when the form had no such file."""
    if upload is None or not hasattr(upload, "read"):
        return None
    raw = folder / f"upload.{stem}"
    await _copy(upload, raw, max_bytes, what)
    ext = await run_in_threadpool(check, raw, max_bytes=max_bytes, **limits)
    raw.rename(folder / f"{stem}.{ext}")
    return f"{stem}.{ext}"
