"""The API docs pages (``/docs``, ``/redoc``) work offline: every script, style sheet and icon
they reference is served by this server, and their Content-Security-Policy allows exactly
that (and their one inline start-up script, by hash)."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href", "spec-url"):
            if found.get(name):
                self.urls.append(str(found[name]))
        self._in_inline_script = tag == "script" and not found.get("src")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline_scripts.append(data)


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in policy.split(";"))
    return {words[0]: words[1:] for words in parts if words}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_this_server(anonymous: httpx.Client, page: str) -> None:
    response = anonymous.get(page)
    assert response.status_code == 200
    refs = _References()
    refs.feed(response.text)
    assets = [u for u in refs.urls if u.endswith((".js", ".css", ".svg", ".png"))]
    assert any(u.endswith(".js") for u in assets), refs.urls
    for url in refs.urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url}"
        assert anonymous.get(url).status_code == 200, url
    # The inline start-up code names no other origin either (e.g. a validator badge).
    for script in refs.inline_scripts:
        assert "http://" not in script and "https://" not in script, script


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_csp_allows_this_origin_and_the_inline_start_up_script(
    anonymous: httpx.Client, page: str
) -> None:
    response = anonymous.get(page)
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    scripts = policy["script-src"]
    assert "'self'" in scripts
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    refs = _References()
    refs.feed(response.text)
    for script in refs.inline_scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    assert not [s for s in scripts if s not in ("'self'",) and not s.startswith("'sha256-")]


def test_the_swagger_ui_assets_are_the_real_bundle(anonymous: httpx.Client) -> None:
    html = anonymous.get("/docs").text
    bundle = re.search(r'src="([^"]+swagger-ui-bundle\.js)"', html)
    assert bundle is not None
    script = anonymous.get(bundle.group(1))
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text


@pytest.mark.browser
@pytest.mark.parametrize(("page", "rendered"), [("/docs", ".opblock"), ("/redoc", "h1")])
def test_docs_render_in_chromium_with_no_network(base_url: str, page: str, rendered: str) -> None:
    from playwright.sync_api import Route, sync_playwright

    problems: list[str] = []
    elsewhere: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            tab = browser.new_page()
            tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: problems.append(str(e)))
            tab.route("**/*", offline)
            tab.goto(base_url + page)
            tab.wait_for_selector(rendered, timeout=30_000)
            assert "sweep" in tab.content().lower()
        finally:
            browser.close()
    # ReDoc's bundle hard-codes one image from its maker's site (the "API docs by Redocly"
    # logo, hidden when it fails to load): the policy blocks it, the only console error allowed.
    blocked_logo = re.compile(r"Loading the image 'https://cdn\.redoc\.ly/[^']+' violates")
    problems = [p for p in problems if not (page == "/redoc" and blocked_logo.match(p))]
    assert not problems, problems  # a CSP violation is a console error
    assert not elsewhere, elsewhere
