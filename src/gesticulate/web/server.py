"""``gesticulate serve``: run the web app with uvicorn on one host and port."""

from __future__ import annotations

import logging
import socket
import sys

from gesticulate.errors import OptionError
from gesticulate.extras import require
from gesticulate.web.config import ServerConfig


def serve(*, host: str = "127.0.0.1", port: int = 7860, workers: int = 1,
          log_level: str = "info", **limits) -> None:
    """Serve the web app until Ctrl-C / SIGTERM; then stop the workers and remove job files.

    Parameters
    ----------
    host : interface to listen on; 127.0.0.1 (this machine only) by default. Use 0.0.0.0
        only behind a reverse proxy you trust: there is no login.
    port : TCP port.
    workers : worker processes, each running one job at a time.
    log_level : uvicorn's log level ("info", "warning" ...).
    **limits : any :class:`~gesticulate.web.config.ServerConfig` field (``max_queue``,
        ``max_audio_s``, ``job_timeout_s``, ``workdir``, ``motion_checkpoints`` ...).
    """
    for module in ("starlette", "uvicorn", "python_multipart"):
        require(module, extra="web", what="the web app")
    import uvicorn
    from gesticulate.web.app import create_app
    if not 0 < port < 65536:
        raise OptionError(f"--port {port} is out of range; use 1..65535 (7860 is the default)")
    _check_port_free(host, port)
    if host in ("127.0.0.1", "localhost", "::1"):
        limits.setdefault("allowed_hosts", ["127.0.0.1", "localhost", "[::1]"])
    config = ServerConfig(workers=workers, **limits)
    config.check()
    logging.getLogger("gesticulate").setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(config)
    print(f"gesticulate: open http://{host}:{port}/ in a browser ({workers} worker"
          f"{'s' if workers != 1 else ''}; Ctrl-C stops)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5,
                limit_concurrency=256, timeout_keep_alive=5)


def _check_port_free(host: str, port: int) -> None:
    """Refuse early, before any worker starts, when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise OptionError(f"cannot listen on {host}:{port} ({e.strerror}); another program "
                              "may use that port: pick another with --port") from None
