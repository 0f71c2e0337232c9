"""The dashboard's files as the server hands them out: the page at /, every module and asset
it references (all from this server: no CDN), plotly.js from the plotly package, and the
package data that ships them."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import httpx

from tradesweep.web import STATIC_DIR, plotly_js_path

REPO = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"""(?:import\s[^'"]*?from\s*|import\s*\(\s*)["']([^"']+)["']""")
OUTSIDE = re.compile(
    r"""(?:(?:src|href)\s*=\s*["']|(?:from|import\()\s*["']|url\(\s*["']?)(?:https?:)?//"""
)
REFERENCE = re.compile(r"""(?:src|href)=["']([^"'#]+)["']""")


def _modules() -> list[Path]:
    return sorted((STATIC_DIR / "js").rglob("*.js"))


def test_the_page_is_served_at_the_root_without_a_key(anonymous: httpx.Client) -> None:
    response = anonymous.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert '<script type="module" src="/assets/js/app.js">' in response.text


def test_everything_the_page_references_is_served_here(anonymous: httpx.Client) -> None:
    html = anonymous.get("/").text
    for ref in REFERENCE.findall(html):
        if ref.startswith("/docs"):
            continue
        assert ref.startswith("/assets/"), f"{ref} is not served by tradesweep"
        assert anonymous.get(ref).status_code == 200, ref


def test_every_module_import_resolves(anonymous: httpx.Client) -> None:
    seen = 0
    for module in _modules():
        url_dir = "/assets/" + str(module.parent.relative_to(STATIC_DIR)) + "/"
        for target in IMPORT.findall(module.read_text()):
            assert target.startswith("."), f"{module.name} imports {target}: not a local file"
            url = httpx.URL("http://x" + url_dir).join(target).path
            response = anonymous.get(url)
            assert response.status_code == 200, f"{module.name}: {target} -> {url}"
            assert "javascript" in response.headers["content-type"]
            seen += 1
    assert seen > 30


def test_no_file_loads_anything_from_another_origin() -> None:
    for path in [*_modules(), STATIC_DIR / "index.html", STATIC_DIR / "app.css"]:
        text = path.read_text()
        loads = OUTSIDE.findall(text)
        assert not loads, f"{path.name} loads from another origin: {loads}"


def test_plotly_js_comes_from_the_plotly_package(anonymous: httpx.Client) -> None:
    response = anonymous.get("/assets/vendor/plotly.min.js")  # httpx accepts gzip
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content) / 2
    assert response.content == plotly_js_path().read_bytes()
    assert response.text.lstrip().startswith("/**\n* plotly.js v")
    plain = anonymous.get("/assets/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == response.content
    etag = response.headers["etag"]
    again = anonymous.get("/assets/vendor/plotly.min.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_unknown_assets_are_json_404(anonymous: httpx.Client) -> None:
    response = anonymous.get("/assets/js/nope.js")
    assert response.status_code == 404


def test_package_data_ships_every_static_file() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["tradesweep"]
    package = STATIC_DIR.parents[1]
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            relative = str(path.relative_to(package))
            matched = any(
                fnmatch.fnmatch(relative, p) and relative.count("/") == p.count("/")
                for p in patterns
            )
            assert matched, f"{relative} is not in [tool.setuptools.package-data]"
