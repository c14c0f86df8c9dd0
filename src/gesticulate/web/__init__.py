"""``gesticulate serve``: the web app (Starlette + uvicorn) over a bounded queue of worker
processes. :func:`serve` runs it; :func:`create_app` builds the ASGI app (tests, embedding).

Names are imported lazily so a worker process (which imports :mod:`gesticulate.web.worker`)
does not load the web stack.
"""

__all__ = ["ServerConfig", "create_app", "serve"]


def __getattr__(name):
    if name == "serve":
        from gesticulate.web.server import serve
        return serve
    if name == "create_app":
        from gesticulate.web.app import create_app
        return create_app
    if name == "ServerConfig":
        from gesticulate.web.config import ServerConfig
        return ServerConfig
    raise AttributeError(name)
