"""Every example of README.md and docs/*.md runs as written (the convention: docs/examples.md):
bash and Python blocks against a fresh data directory and, where a block names ``$API``, a
real ``tradesweep serve`` on a free loopback port; sample outputs and the figures in their
comments must be what the commands print today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .examples import PAGES, REPO, Block, DocError, compare, examples, parse, report, run_page

IDS = [str(p.relative_to(REPO)) for p in PAGES]


def _runnable(page: Path, slow: bool) -> list[Block]:
    return [b for b in examples(page) if b.skip is None and b.slow == slow]


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_example_runs_as_written(page: Path) -> None:
    blocks = _runnable(page, slow=False)
    if not blocks:
        pytest.skip("no example to run on this page")
    problems = report(run_page(blocks))
    assert not problems, "\n\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_slow_examples_run_as_written(page: Path) -> None:
    blocks = _runnable(page, slow=True)
    if not blocks:
        pytest.skip("no slow example on this page")
    problems = report(run_page(blocks))
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_block_says_what_it_is(page: Path) -> None:
    """A code block names its language; a skipped example says why; an output block follows
    the example it shows (parse raises DocError otherwise)."""
    for block in parse(page):
        if block.skip is not None:
            assert block.runnable, f"{block.where}: only bash and python blocks run or skip"
            assert block.skip.strip(), f"{block.where}: a skip needs its reason"


def test_the_docs_hold_examples_to_run() -> None:
    runnable = [b for p in PAGES for b in examples(p) if b.skip is None]
    assert len(runnable) >= 30
    assert any(b.lang == "python" for b in runnable)


# -- the harness itself: what it must refuse ------------------------------------------------


def _page(tmp_path: Path, text: str) -> list[Block]:
    page = tmp_path / "page.md"
    page.write_text(text)
    return parse(page)


def test_a_failing_example_a_stale_output_and_a_wrong_figure_are_reported(
    tmp_path: Path,
) -> None:
    blocks = _page(
        tmp_path,
        "```bash\ntradesweep data show NOPE\n```\n\n"
        "```bash\necho 'total 3'\n```\n<!-- example: output -->\n```text\ntotal 4\n```\n\n"
        '```bash\necho \'{"trades": 7}\'\n# {"trades": 8, "x": "..."}\n```\n\n'
        "```python\nimport tradesweep\nprint(1)\n```\n",
    )
    outcomes = run_page([b for b in blocks if b.runnable])
    problems = [o.problems for o in outcomes]
    assert problems[0] == ["exit status 2, expected 0"]
    assert len(problems[1]) == 1 and "is stale" in problems[1][0]
    assert len(problems[2]) == 1 and '"trades": 8' in problems[2][0]
    assert problems[3] == []


def test_an_abbreviated_output_matches_its_parts_in_order() -> None:
    shown = Block(REPO / "README.md", 1, "text", ["a  b", "...", "d"], 5, abbreviated=True)
    assert compare(shown, "a b\nc\nd\n") is None
    assert compare(shown, "d\na b\n") is not None


def test_a_block_without_a_language_or_with_an_unknown_directive_is_refused(
    tmp_path: Path,
) -> None:
    with pytest.raises(DocError, match="without a language"):
        _page(tmp_path, "```\nls\n```\n")
    with pytest.raises(DocError, match=re.escape("unknown example directive 'skipp'")):
        _page(tmp_path, "<!-- example: skipp -->\n```bash\nls\n```\n")
