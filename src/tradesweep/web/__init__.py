"""The web dashboard: a static app (HTML, plain ES modules, one CSS file) served by the API
at ``/``, talking only to the public API. No build step: the files under ``static/`` are
what the browser gets. plotly.js comes from the plotly Python package's own bundled copy, so
everything works offline.

``mount_dashboard(app)`` adds ``GET /`` (the page; routes are client-side, after ``#``),
``/assets/*`` (the static files) and ``/assets/vendor/plotly.min.js``, and
:class:`SecurityHeaders` on every answer: the page has no inline script, so its
Content-Security-Policy allows scripts from this origin only (styles may be inline: plotly
sets style attributes on its SVG); no page of this server may be framed (clickjacking).
"""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from starlette.datastructures import MutableHeaders
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "STATIC_DIR",
    "SecurityHeaders",
    "mount_dashboard",
    "plotly_js_path",
]

STATIC_DIR = Path(__file__).parent / "static"
ASSETS = "/assets"
_NO_CACHE = {"Cache-Control": "no-cache"}
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""The dashboard page's policy: no inline or foreign script, no plugin, no framing."""
_EVERY_ANSWER = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """ASGI middleware: ``nosniff``, ``X-Frame-Options: DENY`` and a same-origin referrer
    policy on every answer; the Content-Security-Policy on the dashboard page (``GET /``).
    The API docs pages set their own (:mod:`tradesweep.api.docs`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = scope.get("path") == "/"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _EVERY_ANSWER:
                    headers.setdefault(name.decode(), value.decode())
                if page:
                    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            await send(message)

        await self.app(scope, receive, with_headers)


def plotly_js_path() -> Path:
    """The minified plotly.js bundled inside the plotly Python package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():  # pragma: no cover - a broken plotly install
        raise FileNotFoundError(f"plotly.min.js not found at {path}: reinstall plotly")
    return path


class _Script:
    """A large script served with an ETag (304 when unchanged) and gzip when the client
    accepts it (plotly.min.js: about 4.8 MB, 1.4 MB compressed), compressed once on first
    use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        stat = path.stat()
        self.etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        self._gzipped: bytes | None = None
        self._lock = threading.Lock()

    def gzipped(self) -> bytes:
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.path.read_bytes(), compresslevel=6)
            return self._gzipped

    def response(self, request: Request) -> Response:
        headers = {**_NO_CACHE, "ETag": self.etag, "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match") == self.etag:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped(), media_type="text/javascript", headers=headers)
        return Response(self.path.read_bytes(), media_type="text/javascript", headers=headers)


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard from ``app``, with :class:`SecurityHeaders` on every answer: call
    it after the API routers are included."""
    plotly_js = _Script(plotly_js_path())
    app.add_middleware(SecurityHeaders)

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=_NO_CACHE)

    @app.get(f"{ASSETS}/vendor/plotly.min.js", include_in_schema=False)
    def plotly(request: Request) -> Response:
        return plotly_js.response(request)

    app.mount(ASSETS, StaticFiles(directory=STATIC_DIR), name="dashboard-assets")
