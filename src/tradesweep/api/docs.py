"""The interactive API docs, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served with every
asset from this server, so they work offline like the dashboard.

FastAPI's own pages load Swagger UI and ReDoc from a CDN (and ReDoc its fonts from Google).
Here the same pages point at the copies the ``fastapi-offline`` package ships, served under
``/docs/assets/``; the favicon is the dashboard's. Each page carries a Content-Security-Policy
of scripts from this origin plus the page's one inline script by its hash (Swagger UI's
start-up call), styles that may be inline (both UIs set style attributes), ReDoc's search
worker (a ``blob:`` URL) and nothing from elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = ["DOCS_ASSETS", "docs_policy", "install_docs"]

DOCS_ASSETS = "/docs/assets"
FAVICON = "/assets/favicon.svg"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_NO_CACHE = {"Cache-Control": "no-cache"}


def _assets_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def docs_policy(html: str) -> str:
    """The Content-Security-Policy of a docs page: its inline scripts allowed by hash only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {hashes}".rstrip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={**_NO_CACHE, "Content-Security-Policy": docs_policy(html)})


def install_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets to ``app``, built with ``docs_url=None``
    and ``redoc_url=None`` (FastAPI's CDN pages off)."""
    openapi_url = app.openapi_url
    assert openapi_url is not None

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{FAVICON}",
            oauth2_redirect_url=None,
            # No badge image from validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
        return _page(bytes(html.body).decode())

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{FAVICON}",
            with_google_fonts=False,
        )
        return _page(bytes(html.body).decode())

    app.mount(DOCS_ASSETS, StaticFiles(directory=_assets_dir()), name="docs-assets")
