"""The web dashboard: a static app (HTML, plain ES modules, one CSS file) served by the API
at ``/``, talking only to the public API. No build step: the files under ``static/`` are
what the browser gets. plotly.js comes from the plotly Python package's own bundled copy, so
everything works offline.

``mount_dashboard(app)`` adds ``GET /`` (the page; routes are client-side, after ``#``),
``/assets/*`` (the static files) and ``/assets/vendor/plotly.min.js``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "mount_dashboard", "plotly_js_path"]

STATIC_DIR = Path(__file__).parent / "static"
ASSETS = "/assets"
_NO_CACHE = {"Cache-Control": "no-cache"}


def plotly_js_path() -> Path:
    """The minified plotly.js bundled inside the plotly Python package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():  # pragma: no cover - a broken plotly install
        raise FileNotFoundError(f"plotly.min.js not found at {path}: reinstall plotly")
    return path


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: call it after the API routers are included."""
    plotly_js = plotly_js_path()

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=_NO_CACHE)

    @app.get(f"{ASSETS}/vendor/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(plotly_js, media_type="text/javascript", headers=_NO_CACHE)

    app.mount(ASSETS, StaticFiles(directory=STATIC_DIR), name="dashboard-assets")
