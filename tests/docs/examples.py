"""The examples of README.md and docs/*.md, collected and run: the convention is
docs/examples.md.

``python tests/docs/examples.py --write`` (``make docs``) runs every page and rewrites the
full sample outputs (``<!-- example: output -->``) with what the commands print today;
``tests/docs/test_examples.py`` runs the same pages and fails on any example that fails, any
stale output and any figure in a ``# ...`` comment that the command does not print.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent  # the venv's bin: `tradesweep` lies next to python

RUNNABLE = {"bash", "python"}
# the variables the test gives every page that talks to a server; a line of a block that
# assigns one of these (`KEY=ts_...`) stands for the reader's own value and is not run
PLACEHOLDERS = ("API", "KEY", "H", "TOKEN")
BLOCK_SECONDS = 120
SLOW_BLOCK_SECONDS = 300
START_SECONDS = 60

FENCE = re.compile(r"^(\s*)```(.*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*example:\s*(.*?)\s*-->\s*$")
ASSIGN = re.compile(r"^\s*(?:export\s+)?(" + "|".join(PLACEHOLDERS) + r")=")
# `"key": value` in a comment of a bash block: a figure the block's output must print
FIGURE = re.compile(r'"(\w+)":\s*(-?\d+(?:\.\d+)?(?![\d.])|true|false|null|"[^"]*")')


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


class DocError(Exception):
    """A page whose blocks break the convention (an unknown directive, a skip without a
    reason, an output block with no example before it)."""


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    body: list[str]
    end: int  # 1-based line of the closing fence
    skip: str | None = None
    slow: bool = False
    exit: int = 0
    output: Block | None = None  # the sample output shown right after it
    is_output: bool = False
    abbreviated: bool = False

    @property
    def where(self) -> str:
        return f"{_rel(self.page)}:{self.line}"

    @property
    def text(self) -> str:
        return "\n".join(self.body) + "\n"

    @property
    def runnable(self) -> bool:
        return self.lang in RUNNABLE and not self.is_output


def _directive(page: Path, line: int, text: str) -> dict[str, Any]:
    """``skip (reason)``, ``slow``, ``exit N``, ``output``, ``output abbreviated``; several
    joined by ``;``."""
    found: dict[str, Any] = {}
    parts, depth, current = [], 0, ""
    for char in text:  # `;` inside a reason's parentheses is the reason's
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    for part in (p.strip() for p in [*parts, current]):
        if m := re.fullmatch(r"skip\s*\((.+)\)", part):
            found["skip"] = m.group(1).strip()
        elif re.fullmatch(r"slow(\s*\(.+\))?", part):
            found["slow"] = True
        elif m := re.fullmatch(r"exit\s+(\d+)", part):
            found["exit"] = int(m.group(1))
        elif part == "output":
            found["is_output"] = True
        elif part == "output abbreviated":
            found["is_output"] = found["abbreviated"] = True
        else:
            raise DocError(
                f"{_rel(page)}:{line}: unknown example directive {part!r} "
                "(use skip (reason), slow, exit N, output or output abbreviated; "
                "docs/examples.md)"
            )
    return found


def parse(page: Path) -> list[Block]:
    """Every fenced block of ``page``, with the directive on the line before it."""
    lines = page.read_text().split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, info = m.group(1), m.group(2).strip()
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        if j == len(lines):
            raise DocError(f"{_rel(page)}:{i + 1}: a code block is never closed")
        body = [ln[len(indent) :] if ln.startswith(indent) else ln for ln in lines[i + 1 : j]]
        block = Block(page, i + 1, info.split()[0] if info else "", body, j + 1)
        if i > 0 and (d := DIRECTIVE.match(lines[i - 1])):
            for key, value in _directive(page, i, d.group(1)).items():
                setattr(block, key, value)
        if not block.lang:
            raise DocError(
                f"{block.where}: a code block without a language (write ```bash or "
                "```python to run it, ```text for an output or a synopsis; docs/examples.md)"
            )
        if block.is_output:
            before = next((b for b in reversed(blocks) if b.runnable), None)
            if before is None or before.output is not None:
                raise DocError(f"{block.where}: an output block with no example right before it")
            before.output = block
        blocks.append(block)
        i = j + 1
    return blocks


def examples(page: Path) -> list[Block]:
    return [b for b in parse(page) if b.runnable]


# -- what the pages read as "your own files" -------------------------------------------------


def _hourly_csv(path: Path, start: str, bars: int, s0: float, seed: int) -> None:
    """Seeded hourly bars, weekdays only, in the spelling most exports use."""
    index = pd.date_range(start, periods=bars * 2, freq="h", tz="UTC")
    index = index[index.day_of_week < 5][:bars]
    rng = np.random.default_rng(seed)
    close = s0 * np.exp(np.cumsum(rng.normal(0, 0.002, len(index))))
    open_ = np.concatenate([[s0], close[:-1]])
    spread = np.abs(rng.normal(0, 0.001, len(index))) * close
    frame = pd.DataFrame(
        {
            "Date": index.strftime("%Y-%m-%d %H:%M:%S"),
            "Open": open_.round(5),
            "High": (np.maximum(open_, close) + spread).round(5),
            "Low": (np.minimum(open_, close) - spread).round(5),
            "Close": close.round(5),
            "Volume": rng.integers(100, 10_000, len(index)),
        }
    )
    frame.to_csv(path, index=False)


def user_files(cwd: Path) -> None:
    """The files the examples name as the reader's own (docs/examples.md)."""
    _hourly_csv(cwd / "btc_1h.csv", "2023-01-02", 2_000, 20_000.0, 1)
    _hourly_csv(cwd / "eurusd_2024.csv", "2024-01-01", 2_000, 1.10, 2)


# -- a server per page ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    key: str
    token: str
    process: subprocess.Popen[bytes]


@contextmanager
def serving(env: dict[str, str], data_dir: Path) -> Iterator[Server]:
    """``tradesweep serve`` on a free loopback port with a fresh SQLite database in
    ``data_dir``; its first key, read from what it prints; stopped (process group) after."""
    log = data_dir / "serve.log"
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "tradesweep"), "serve", "--port", str(port), "--concurrency", "1"],
            env=env,
            cwd=data_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        key = None
        deadline = time.monotonic() + START_SECONDS
        while key is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("tradesweep serve did not start:\n" + log.read_text())
            if m := re.search(r"API key .*?(ts_[a-z0-9]{8}_[A-Za-z0-9_-]+)", log.read_text()):
                key = m.group(1)
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        while True:  # healthy: the API answers and its worker consumes the queue
            with (
                suppress(OSError, ValueError),
                urllib.request.urlopen(f"{url}/health", timeout=5) as answer,
            ):
                if json.loads(answer.read()).get("status") == "healthy":
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("no /health:\n" + log.read_text())
            time.sleep(0.1)
        token = (data_dir / "metrics-token").read_text().strip()
        yield Server(url, key, token, process)
    finally:
        _end(process)


# -- running a page ---------------------------------------------------------------------------


@dataclass
class Outcome:
    block: Block
    rc: int
    output: str
    problems: list[str] = field(default_factory=list)


def _end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL what is still there."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            process.wait(20)


def needs_server(block: Block) -> bool:
    return any(f"${name}" in block.text or f"${{{name}}}" in block.text for name in PLACEHOLDERS)


def _environment(home: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESWEEP_")}
    env |= {
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "HOME": str(home),
        "TRADESWEEP_DATA_DIR": str(data_dir),
        "COLUMNS": "100",
        "NO_COLOR": "1",
    }
    # the CLI's --help boxes and tables take COLUMNS; curl fails on a 4xx like any command
    (home / ".curlrc").write_text("fail-with-body\nshow-error\n")
    return env


class Page:
    """One page's run: its own working directory, data directory and home; a server when a
    block names ``$API``; shell variables a block sets are kept for the page's next blocks."""

    def __init__(self, root: Path, blocks: list[Block]) -> None:
        self.cwd = root / "work"
        self.data_dir = root / "data"
        home = root / "home"
        for d in (self.cwd, self.data_dir, home):
            d.mkdir(parents=True)
        self.env = _environment(home, self.data_dir)
        self.state = root / "state.sh"
        self.state.write_text("")
        user_files(self.cwd)
        # the docs speak from the repository root: its example strategies are there
        (self.cwd / "examples").symlink_to(REPO / "examples")
        self.blocks = blocks

    def run(self) -> list[Outcome]:
        if any(needs_server(b) for b in self.blocks):
            with serving(self.env, self.data_dir) as server:
                self.env |= {
                    "API": server.url,
                    "KEY": server.key,
                    "H": f"X-API-Key: {server.key}",
                    "TOKEN": server.token,
                }
                return [self._run(b) for b in self.blocks]
        return [self._run(b) for b in self.blocks]

    def _run(self, block: Block) -> Outcome:
        seconds = SLOW_BLOCK_SECONDS if block.slow else BLOCK_SECONDS
        if block.lang == "bash":
            command = ["bash", "-c", self._script(block)]
        else:
            command = [sys.executable, "-c", block.text]
        process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a timeout ends everything the block started
        )
        try:
            stdout, _ = process.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            _end(process)
            stdout, _ = process.communicate()
            output = stdout.decode(errors="replace")
            return Outcome(block, -1, output, [f"still running after {seconds} s"])
        finally:
            _end(process)  # what the block left running in the background
        done = subprocess.CompletedProcess(command, process.returncode, stdout)
        outcome = Outcome(block, done.returncode, done.stdout.decode(errors="replace"))
        if done.returncode != block.exit:
            outcome.problems.append(f"exit status {done.returncode}, expected {block.exit}")
        if block.output is not None and (stale := compare(block.output, outcome.output)):
            outcome.problems.append(stale)
        if block.lang == "bash":
            outcome.problems += check_figures(block, outcome.output)
        return outcome

    def _script(self, block: Block) -> str:
        body = [ln for ln in block.body if not ASSIGN.match(ln)]
        return "\n".join(
            [
                "set -euo pipefail",
                f"source {self.state}",
                "__before=$(compgen -v)",
                *body,
                # the page's next blocks see what this one set (JOB=..., RUN=...)
                'for __v in $(compgen -v | grep -E "^[A-Z][A-Z0-9_]*$" '
                '| grep -vxF "$__before"); do declare -p "$__v"; done >> ' + str(self.state),
            ]
        )


def run_page(blocks: list[Block]) -> list[Outcome]:
    root = Path(tempfile.mkdtemp(prefix="tradesweep-docs-"))
    try:
        return Page(root, blocks).run()
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- outputs and figures ----------------------------------------------------------------------

VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\bin \d+(\.\d+)? s\b"), "in <seconds> s"),
    (re.compile(r"ts_[a-z0-9]{8}_[A-Za-z0-9_-]{20,}"), "<key>"),
    (re.compile(r"/tmp/tradesweep-docs-[^/\s]+/\w+"), "<dir>"),
]


def normalise(text: str) -> str:
    """Volatile parts (ids, timings, keys, temp paths) masked, whitespace runs collapsed:
    a sample may wrap a long line."""
    for pattern, mask in VOLATILE:
        text = pattern.sub(mask, text)
    return " ".join(text.split())


def compare(shown: Block, printed: str) -> str | None:
    """None when the sample output ``shown`` is what was ``printed``: all of it, or for an
    abbreviated sample its parts between ``...`` lines, in order."""
    if not shown.abbreviated:
        if normalise(shown.text) == normalise(printed):
            return None
        return (
            f"the output shown at {shown.where} is stale (`make docs` rewrites it); "
            f"the command prints:\n{printed}"
        )
    parts: list[list[str]] = [[]]
    for line in shown.body:
        if line.strip() in ("...", "…"):
            parts.append([])
        else:
            parts[-1].append(line)
    rest = normalise(printed)
    for part in (normalise("\n".join(p)) for p in parts if p):
        at = rest.find(part)
        if at < 0:
            return (
                f"the abbreviated output at {shown.where} shows {part!r}, which the command "
                f"does not print (in that order):\n{printed}"
            )
        rest = rest[at + len(part) :]
    return None


def json_values(text: str) -> dict[str, list[Any]]:
    """Every ``key: value`` of every JSON object printed in ``text``, at any depth."""
    found: dict[str, list[Any]] = {}
    decoder = json.JSONDecoder()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                found.setdefault(k, []).append(v)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    i = text.find("{")
    while i >= 0:
        try:
            value, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        walk(value)
        i = text.find("{", end)
    return found


def _matches(shown: str, value: Any) -> bool:
    if shown in ("true", "false", "null"):
        return json.dumps(value) == shown
    if shown.startswith('"'):
        return value == shown[1:-1]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    decimals = len(shown.partition(".")[2])
    return round(float(value), decimals) == float(shown)


def check_figures(block: Block, printed: str) -> list[str]:
    """Each ``"key": value`` written in a ``#`` comment of the block (a sample answer) must
    be printed by the block with that value (numbers as rounded in the comment); a value
    holding ``...`` or ``<`` is a stand-in and not checked."""
    values = json_values(printed)
    problems = []
    for n, line in enumerate(block.body, start=block.line + 1):
        comment = line.strip()
        if not comment.startswith("#"):
            continue
        for key, shown in FIGURE.findall(comment):
            if "..." in shown or "<" in shown:
                continue
            if not any(_matches(shown, v) for v in values.get(key, [])):
                got = values.get(key)
                problems.append(
                    f"{_rel(block.page)}:{n}: the comment shows "
                    f'"{key}": {shown}, the example prints '
                    + (f"{got[:5]!r}" if got else "no such field")
                )
    return problems


def report(outcomes: list[Outcome]) -> list[str]:
    return [
        f"{o.block.where}: " + "; ".join(o.problems) + f"\n--- output ---\n{o.output[-3000:]}"
        for o in outcomes
        if o.problems
    ]


# -- make docs --------------------------------------------------------------------------------


def write_outputs(page: Path, outcomes: list[Outcome]) -> int:
    """Rewrite the page's full sample outputs with what their examples printed."""
    lines = page.read_text().split("\n")
    changed = 0
    for o in sorted(outcomes, key=lambda o: -o.block.line):
        shown = o.block.output
        if shown is None or shown.abbreviated or o.rc != o.block.exit:
            continue
        if compare(shown, o.output) is None:  # only timings or ids changed
            continue
        printed = [ln.rstrip() for ln in o.output.rstrip("\n").split("\n")]
        if lines[shown.line : shown.end - 1] != printed:
            lines[shown.line : shown.end - 1] = printed
            changed += 1
    if changed:
        page.write_text("\n".join(lines))
    return changed


def main(argv: list[str]) -> int:
    write = "--write" in argv
    names = [a for a in argv if not a.startswith("--")]
    pages = [REPO / n for n in names] if names else PAGES
    failed = 0
    for page in pages:
        blocks = [b for b in examples(page) if b.skip is None]
        if not blocks:
            continue
        outcomes = run_page(blocks)
        if write:
            print(f"{_rel(page)}: {write_outputs(page, outcomes)} output(s) rewritten")
            for o in outcomes:  # what was rewritten is no longer stale
                o.problems = [p for p in o.problems if "(`make docs` rewrites it)" not in p]
        for problem in report(outcomes):
            failed += 1
            print(problem, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
