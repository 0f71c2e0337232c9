"""The dashboard end to end: Debian's Chromium (driven by Playwright) against a real
``tradesweep serve`` (API and worker processes) on a free loopback port, with its database and
data directory in a temporary folder.

Any console error or uncaught page error fails the test, except the HTTP error statuses a test
provokes on purpose (a wrong key, a refused file) and declares with ``console.allow``.
Screenshots of every page go to ``$TRADESWEEP_SCREENSHOTS`` (default: a pytest temporary
folder, printed at the end of the session).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tradesweep.data import DatasetRegistry, synthetic_bars
from tradesweep.metrics.table import BY_NAME
from tradesweep.sweep.axes import SETTING_AXES

from ..servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
TRADESWEEP = str(Path(sys.executable).with_name("tradesweep"))
START_SECONDS = 120
JOB_SECONDS = 120_000  # ms, for Playwright waits on jobs
DESKTOP = {"width": 1360, "height": 900}
PHONE = {"width": 390, "height": 844}
STREAM = "/api/v1/jobs/{job_id}/stream"
RESOURCE = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")

BAD_CSV = """Date,Open,High,Low,Close,Volume
2020-01-01,10,11,9,10.5,100
2020-01-03,10.5,12,10,11.5,120
2020-01-02,11.5,12,11,11.8,90
2020-01-06,11.8,abc,11.5,12.2,110
2020-01-07,11.8,12.5,11.5,12.2,-5
2020-01-08,12,12.5,11.5,12.2,10
"""


@dataclass
class Server:
    url: str
    key: str
    log: Path


@dataclass
class Console:
    """Console errors and page errors of one page; HTTP statuses a test expects are allowed
    per API path prefix."""

    problems: list[str] = field(default_factory=list)
    allowed: list[tuple[int, str]] = field(default_factory=list)

    def allow(self, status: int, path_prefix: str) -> None:
        self.allowed.append((status, path_prefix))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        resource = RESOURCE.match(message.text)
        if resource:
            status, path = int(resource.group(1)), urlparse(url).path
            if any(status == s and path.startswith(p) for s, p in self.allowed):
                return
        self.problems.append(f"console error: {message.text} ({url})")

    def on_page_error(self, error: Exception) -> None:
        self.problems.append(f"page error: {error}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM serve's process group (API and worker), SIGKILL what is left."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(30)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("TRADESWEEP_SCREENSHOTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("dashboard-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``tradesweep serve`` with one worker on a SQLite file, a key of tenant ``e2e``, and a
    100,000-bar synthetic ticker for a sweep slow enough to cancel while it runs."""
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: apt-get install chromium", pytrace=False)
    root = tmp_path_factory.mktemp("dashboard-e2e")
    data_dir = root / "datasets"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESWEEP_")}
    env |= {
        "TRADESWEEP_DATA_DIR": str(data_dir),
        "TRADESWEEP_DATABASE_URL": f"sqlite:///{root / 'tradesweep.db'}",
    }
    slow = synthetic_bars(100_000, seed=7, interval="1h")
    DatasetRegistry(data_dir).register_frame(slow, "SLOWSYN", synthetic=True)
    subprocess.run([TRADESWEEP, "db", "upgrade"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [TRADESWEEP, "keys", "create", "--tenant", "e2e"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.split()[0]
    port = free_port()
    log = root / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                TRADESWEEP,
                "serve",
                "--port",
                str(port),
                "--concurrency",
                "1",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve exited early:\n{log.read_text()}", pytrace=False)
            with suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not answer /health:\n{log.read_text()}", pytrace=False)
            time.sleep(0.3)
        yield Server(url, key, log)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@dataclass
class Session:
    page: Page
    console: Console
    server: Server
    folder: Path

    def shot(self, name: str) -> Path:
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def go(self, route: str) -> None:
        self.page.goto(f"{self.server.url}/#{route}")

    def sign_in(self) -> None:
        self.go("/login")
        self.page.get_by_label("API key").fill(self.server.key)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("#tenant")).to_have_text("tenant e2e")


def _session(browser: Browser, server: Server, folder: Path, viewport: dict) -> Iterator[Session]:
    context = browser.new_context(viewport=viewport, base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    console = Console()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    try:
        yield Session(page, console, server, folder)
    finally:
        context.close()
    assert console.problems == [], "\n".join(console.problems)


@pytest.fixture
def ui(browser: Browser, server: Server, screenshots: Path) -> Iterator[Session]:
    yield from _session(browser, server, screenshots, DESKTOP)


@pytest.fixture
def phone(browser: Browser, server: Server, screenshots: Path) -> Iterator[Session]:
    yield from _session(browser, server, screenshots, PHONE)


def _numbers(texts: list[str]) -> list[float]:
    """Cell texts such as '+12.34 %', '−3.2 %', '1,234.5' as floats ('—' is skipped)."""
    out = []
    for text in texts:
        cleaned = text.replace("−", "-").replace("%", "").replace(",", "").replace("+", "")
        if cleaned.strip() not in ("", "—"):
            out.append(float(cleaned))
    return out


def _submit_small_sweep(ui: Session) -> str:
    """Fill the new-sweep form for GOOGL SMA fast 5-20, slow 30-60 step 5; start it; the job
    page's URL."""
    page = ui.page
    ui.go("/sweeps/new")
    page.get_by_label("Ticker").select_option("GOOGL")
    page.get_by_label("fast from").fill("5")
    page.get_by_label("fast to").fill("20")
    page.get_by_label("slow from").fill("30")
    page.get_by_label("slow to").fill("60")
    page.get_by_label("Step of fast and slow").fill("5")
    page.get_by_label("Minimum trades").fill("10")
    expect(page.get_by_test_id("combinations")).to_have_text("28")
    ui.shot("sweep-form")
    page.get_by_role("button", name="Start sweep").click()
    page.wait_for_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    return page.url


def test_sign_in_with_a_key_and_out_again(ui: Session) -> None:
    page = ui.page
    ui.console.allow(401, "/api/v1/auth/login")
    page.goto(ui.server.url + "/")
    expect(page).to_have_url(re.compile(r"#/login"))
    key = page.get_by_label("API key")
    expect(key).to_be_focused()
    key.fill("ts_not_a_real_key")
    page.keyboard.press("Enter")
    expect(page.get_by_text("That key is not valid")).to_be_visible()
    expect(key).to_have_attribute("aria-invalid", "true")
    ui.shot("sign-in-refused")
    key.fill(ui.server.key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    expect(page.locator("#tenant")).to_have_text("tenant e2e")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    ui.go("/jobs")  # needs a session again
    expect(page).to_have_url(re.compile(r"#/login\?next=%2Fjobs"))


def test_sweep_live_to_100_percent_then_table_heatmap_and_a_rows_backtest(ui: Session) -> None:
    page = ui.page
    ui.console.allow(422, "/api/v1/sweeps/estimate")
    ui.sign_in()
    ui.go("/sweeps/new")
    # the count follows the typing; a wrong range is named next to its field
    page.get_by_label("slow from").fill("30")
    page.get_by_label("slow to").fill("40")
    expect(page.get_by_test_id("combinations")).to_have_text("12")
    page.get_by_label("fast to").fill("40")  # fast max must stay below slow max
    slow_row = page.locator('[data-param="slow"] .field-error')
    expect(slow_row).to_contain_text("fast periods must stay below slow ones")
    expect(page.get_by_label("slow from")).to_have_attribute("aria-invalid", "true")
    ui.shot("sweep-form-error")

    requested: list[str] = []
    page.on("request", lambda request: requested.append(urlparse(request.url).path))
    job_id = _submit_small_sweep(ui).rsplit("/", 1)[1]
    bar = page.get_by_role("progressbar", name="Job progress")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=JOB_SECONDS)
    expect(page.get_by_text("completed", exact=True)).to_be_visible()
    ui.shot("job-done")
    paths = httpx.get(f"{ui.server.url}/openapi.json").json()["paths"]
    if STREAM in paths:  # live progress comes over SSE when the API offers it
        assert STREAM.replace("{job_id}", job_id) in requested

    page.get_by_role("link", name="Open results").click()
    expect(page.get_by_role("heading", name="Winner (rank 1)")).to_be_visible()
    expect(page.get_by_text("Deflated Sharpe ratio")).to_be_visible()
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", re.compile(r"format=csv")
    )
    ui.shot("sweep-result")

    cells = page.locator('td[data-col="total_return_pct"]')
    sort = page.locator('button.sort[data-sort="total_return_pct"]')
    sort.click()
    down = _numbers(cells.all_inner_texts())
    assert len(down) >= 2 and down == sorted(down, reverse=True)
    sort.press("Enter")  # keyboard works too
    up = _numbers(cells.all_inner_texts())
    assert up == sorted(up)
    # written and coloured as the catalog's metric table says (tone rule, sign, decimals)
    classes = cells.evaluate_all("cells => cells.map((c) => c.className)")
    for text, value, cls in zip(cells.all_inner_texts(), up, classes, strict=True):
        assert ("gain" in cls, "loss" in cls) == (value > 0, value < 0), (text, cls)
        assert text.startswith("+") == (value > 0) and text.endswith(" %"), text
    sharpe = BY_NAME["sharpe_ratio"]
    for text in page.locator('td[data-col="sharpe_ratio"]').all_inner_texts():
        assert text == "—" or re.fullmatch(rf"−?[\d,]+\.\d{{{sharpe.decimals}}}", text), text
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("Total return")

    page.get_by_role("tab", name="Heatmap").click()
    expect(page.locator("#heatmap .main-svg").first).to_be_visible()
    traces = page.evaluate("document.getElementById('heatmap').data.map(t => t.type)")
    assert traces == ["heatmap"]
    ui.shot("sweep-heatmap")

    page.get_by_role("tab", name="Table").click()
    first = page.locator("tbody tr").first
    row_return = first.locator('td[data-col="total_return_pct"]').inner_text()
    first.get_by_role("button", name="Backtest").click()
    page.wait_for_url(re.compile(r"#/backtests/[0-9a-f-]{36}$"), timeout=JOB_SECONDS)
    expect(page.locator("#price-chart .main-svg").first).to_be_visible()
    types = page.evaluate("document.getElementById('price-chart').data.map(t => t.type)")
    assert types[0] == "candlestick"
    markers = "document.getElementById('price-chart').data.slice(1, 3).map(t => t.x.length)"
    entries = sum(page.evaluate(markers))
    caption = page.get_by_text(re.compile(r"^\d+ closed trades\.$"))
    assert entries == int(caption.inner_text().split()[0]) > 0
    expect(page.locator("#equity-chart .main-svg").first).to_be_visible()
    tiles = page.locator(".stat", has_text="Total return [%]").locator(".value")
    assert tiles.inner_text() == row_return  # the backtest replays the row exactly
    expect(page.get_by_role("table", name="Monthly returns in percent")).to_be_visible()
    ui.shot("backtest")


def test_sweep_form_sweeps_the_stop_loss_next_to_the_parameters(ui: Session) -> None:
    """The form offers every engine setting that is a sweep axis; a stop-loss range (typed in
    percent) goes into the sweep's ``ranges`` and the result rows name each stop-loss value."""
    page = ui.page
    ui.sign_in()
    ui.go("/sweeps/new")
    page.get_by_label("Ticker").select_option("GOOGL")
    axes = page.locator("[data-axis]")
    expect(axes).to_have_count(len(SETTING_AXES))
    assert [axes.nth(i).get_attribute("data-axis") for i in range(len(SETTING_AXES))] == list(
        SETTING_AXES
    )
    page.get_by_label("fast from").fill("10")
    page.get_by_label("fast to").fill("20")
    page.get_by_label("slow from").fill("30")
    page.get_by_label("slow to").fill("40")
    page.get_by_label("Step of fast and slow").fill("10")
    page.get_by_label("Minimum trades").fill("10")
    expect(page.get_by_test_id("combinations")).to_have_text("4")
    page.get_by_label("stop_loss: sweep it or not").select_option("range")
    page.get_by_label("stop_loss from").fill("1")
    page.get_by_label("stop_loss to").fill("3")
    page.get_by_label("stop_loss step").fill("1")
    expect(page.get_by_test_id("combinations")).to_have_text("12")  # 4 x 3 stop-losses
    ui.shot("sweep-form-setting-axis")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/strategy/sweep")) as sent:
        page.get_by_role("button", name="Start sweep").click()
    assert sent.value.post_data_json["ranges"] == {
        "stop_loss": {"min": 0.01, "max": 0.03, "step": 0.01}
    }
    page.wait_for_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    bar = page.get_by_role("progressbar", name="Job progress")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=JOB_SECONDS)
    page.get_by_role("link", name="Open results").click()
    cells = page.locator('td[data-col="param:stop_loss"]')
    expect(cells).to_have_count(12)
    assert sorted(set(_numbers(cells.all_inner_texts()))) == [0.01, 0.02, 0.03]
    ui.shot("sweep-result-setting-axis")

    first = page.locator("tbody tr").first  # its backtest runs with the row's stop-loss
    stop_loss = float(first.locator('td[data-col="param:stop_loss"]').inner_text())
    row_return = first.locator('td[data-col="total_return_pct"]').inner_text()
    with page.expect_request(lambda r: r.url.endswith("/api/v1/backtests")) as sent:
        first.get_by_role("button", name="Backtest").click()
    assert sent.value.post_data_json["settings"]["stop_loss"] == stop_loss
    assert "stop_loss" not in sent.value.post_data_json["parameters"]
    page.wait_for_url(re.compile(r"#/backtests/[0-9a-f-]{36}$"), timeout=JOB_SECONDS)
    tiles = page.locator(".stat", has_text="Total return [%]").locator(".value")
    assert tiles.inner_text() == row_return


def test_cancel_a_running_job_then_retry_it(ui: Session) -> None:
    page = ui.page
    ui.sign_in()
    ui.go("/sweeps/new")
    page.get_by_label("Ticker").select_option("SLOWSYN")
    page.get_by_label("fast from").fill("2")
    page.get_by_label("fast to").fill("50")
    page.get_by_label("slow from").fill("60")
    page.get_by_label("slow to").fill("300")
    page.get_by_label("Step of fast and slow").fill("1")
    expect(page.get_by_test_id("combinations")).to_have_text("11,809")
    page.get_by_role("button", name="Start sweep").click()
    page.wait_for_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    job_id = page.url.rsplit("/", 1)[1]

    ui.go("/jobs")
    row = page.locator(f'tr[data-job="{job_id}"]')
    expect(row).to_have_attribute("data-status", "running", timeout=JOB_SECONDS)
    ui.shot("jobs-running")
    row.get_by_role("button", name=re.compile("^Cancel job")).click()
    expect(row).to_have_attribute("data-status", "cancelled", timeout=60_000)
    ui.shot("jobs-cancelled")

    row.get_by_role("button", name=re.compile("^Retry job")).click()
    page.wait_for_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    assert not page.url.endswith(job_id)
    cancel = page.get_by_role("button", name="Cancel job")
    cancel.click()  # queued or just started: cancelled at once or within seconds
    expect(page.locator("#progress-title .badge")).to_have_text("cancelled", timeout=60_000)
    expect(page.get_by_role("button", name="Retry")).to_be_visible()


def test_import_a_bad_csv_shows_every_bad_row_then_a_good_one(ui: Session, tmp_path: Path) -> None:
    page = ui.page
    ui.console.allow(422, "/api/v1/datasets")
    ui.sign_in()
    ui.go("/data")
    bad = tmp_path / "prices.csv"
    bad.write_text(BAD_CSV)
    page.get_by_label("File (CSV or Parquet)").set_input_files(str(bad))
    page.get_by_label("Ticker", exact=True).fill("MINE")
    page.get_by_role("button", name="Import file").click()
    problems = page.get_by_role("table", name="Problems of the file, row by row")
    expect(problems).to_be_visible()
    lines = problems.locator('tbody td[data-label="Line"]').all_inner_texts()
    assert lines == ["4", "5", "6"]
    expect(problems).to_contain_text("earlier than the row before")
    expect(problems).to_contain_text("'abc' is not a finite number")
    expect(problems).to_contain_text("volume must not be negative")
    expect(page.get_by_role("heading", name=re.compile("3 problems in prices.csv"))).to_be_visible()
    ui.shot("data-import-errors")

    good = tmp_path / "good.csv"
    good.write_text(
        "\n".join(line for i, line in enumerate(BAD_CSV.splitlines()) if i not in (3, 4, 5))
    )
    page.get_by_label("File (CSV or Parquet)").set_input_files(str(good))
    page.get_by_label("Ticker", exact=True).fill("MINE")
    page.get_by_role("button", name="Import file").click()
    expect(page.get_by_text("MINE is ready: 3 bars")).to_be_visible()
    expect(page.get_by_role("link", name="Sweep MINE").first).to_be_visible()
    ui.shot("data")


def test_new_backtest_form_names_the_bad_parameter_then_runs(ui: Session) -> None:
    page = ui.page
    ui.console.allow(422, "/api/v1/backtests")
    ui.sign_in()
    ui.go("/backtests/new")
    page.get_by_label("fast", exact=True).fill("40")
    page.get_by_label("slow", exact=True).fill("30")
    page.get_by_label("Fees per fill [%]").fill("0.1")
    page.get_by_role("button", name="Run backtest").click()
    fast_error = page.locator('[data-field="param:fast"] .field-error')
    expect(fast_error).to_contain_text("needs fast < slow")
    ui.shot("backtest-form-error")
    page.get_by_label("fast", exact=True).fill("10")
    page.get_by_role("button", name="Run backtest").click()
    page.wait_for_url(re.compile(r"#/backtests/[0-9a-f-]{36}$"), timeout=JOB_SECONDS)
    expect(page.get_by_text(re.compile(r"Settings: fees 0\.1 %"))).to_be_visible()
    expect(page.locator("#price-chart .main-svg").first).to_be_visible()


def test_walk_forward_report(ui: Session) -> None:
    page = ui.page
    ui.sign_in()
    ui.go("/walkforward/new")
    page.get_by_label("fast from").fill("5")
    page.get_by_label("fast to").fill("20")
    page.get_by_label("slow from").fill("30")
    page.get_by_label("slow to").fill("60")
    page.get_by_label("Minimum trades").fill("10")
    page.get_by_label("Training bars").fill("500")
    page.get_by_label("Test bars").fill("250")
    expect(page.get_by_test_id("combinations")).to_have_text("28")
    page.get_by_role("button", name="Start walk-forward").click()
    page.wait_for_url(re.compile(r"#/jobs/[0-9a-f-]{36}$"))
    page.get_by_role("link", name="Open report").click(timeout=JOB_SECONDS)
    expect(page.get_by_text("Walk-forward efficiency")).to_be_visible()
    expect(page.locator("#wf-chart .main-svg").first).to_be_visible()
    bars = page.evaluate("document.getElementById('wf-chart').data.map(t => t.type)")
    assert bars == ["bar", "bar"]
    windows = page.locator('td[data-col="window"]').all_inner_texts()
    assert windows[:3] == ["1", "2", "3"]
    ui.shot("walkforward")


def test_phone_layout_has_no_sideways_scroll(phone: Session, ui: Session) -> None:
    job_url = None
    ui.sign_in()
    job_url = _submit_small_sweep(ui)
    expect(ui.page.get_by_role("link", name="Open results")).to_be_visible(timeout=JOB_SECONDS)
    job_id = job_url.rsplit("/", 1)[1]
    phone.sign_in()
    for route, ready, name in [
        ("/jobs", "tr[data-job]", "phone-jobs"),
        (f"/sweeps/{job_id}", "text=Winner (rank 1)", "phone-sweep"),
        ("/sweeps/new", "[data-testid=combinations]", "phone-sweep-form"),
    ]:
        phone.go(route)
        phone.page.wait_for_selector(ready)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{route} scrolls sideways on a phone ({width} px)"
        phone.shot(name)


def test_screenshots_were_saved(screenshots: Path) -> None:
    names = {p.stem for p in screenshots.glob("*.png")}
    print(f"\ndashboard screenshots: {screenshots}")
    assert {"sweep-result", "sweep-heatmap", "backtest", "data-import-errors"} <= names
