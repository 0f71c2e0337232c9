"""Loading user strategies from Python files and directories."""

from __future__ import annotations

import os
import textwrap

import pytest

from tradesweep.errors import ParameterError, StrategyError
from tradesweep.strategies import get_strategy, load_plugin

GOOD = """
from tradesweep.strategies import Param, Signals, Strategy


class {cls}(Strategy):
    name = "{name}"
    description = "Never trades."
    schema = (Param("n", int, 3, 1, 10, "A number."),)

    def warmup_period(self):
        return 0

    def signals(self, bars):
        return Signals.empty(len(bars))

    def on_candle(self, candle):
        return None

    def reset(self):
        pass
"""


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return path


def test_example_plugin_loads(plugin_example):
    (cls,) = load_plugin(plugin_example)
    assert cls.name == "momentum"
    assert get_strategy(plugin_example, {"lookback": 5}).params == {
        "lookback": 5,
        "threshold": 0.02,
    }


def test_same_file_names_in_two_directories_do_not_collide(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write(tmp_path / "a" / "s.py", GOOD.format(cls="S", name="one"))
    b = write(tmp_path / "b" / "s.py", GOOD.format(cls="S", name="two"))
    (one,), (two,) = load_plugin(a), load_plugin(b)
    assert (one.name, two.name) == ("one", "two")
    assert one.__module__ != two.__module__


def test_an_edited_file_is_imported_again(tmp_path):
    path = write(tmp_path / "s.py", GOOD.format(cls="S", name="before"))
    assert load_plugin(path)[0].name == "before"
    write(path, GOOD.format(cls="S", name="after"))
    os.utime(path, ns=(1, 10**18))  # a new modification time, even on a coarse clock
    assert load_plugin(path)[0].name == "after"


def test_directory_skips_private_files_and_helpers(tmp_path):
    write(tmp_path / "one.py", GOOD.format(cls="One", name="one"))
    write(tmp_path / "_private.py", "raise RuntimeError('never imported')\n")
    write(tmp_path / "helpers.py", "X = 1\n")
    assert [c.name for c in load_plugin(tmp_path)] == ["one"]


def test_select_one_class_of_a_file(tmp_path):
    path = write(
        tmp_path / "two.py", GOOD.format(cls="A", name="a") + GOOD.format(cls="B", name="b")
    )
    assert [c.name for c in load_plugin(path)] == ["a", "b"]
    assert load_plugin(f"{path}:B")[0].name == "b"
    with pytest.raises(StrategyError, match=r"no Strategy subclass named 'C'.*A, B"):
        load_plugin(f"{path}:C")


@pytest.mark.parametrize(
    ("source", "line", "what"),
    [
        ("x = 1\ndef broken(:\n    pass\n", 2, "SyntaxError"),
        ("import os\nimport no_such_module_for_tradesweep\n", 2, "ModuleNotFoundError"),
        ("x = 1\ny = 2\nraise RuntimeError('boom at import')\n", 3, "RuntimeError: boom at import"),
        ("def f():\n    return 1 / 0\n\nf()\n", 2, "ZeroDivisionError"),
    ],
)
def test_import_errors_name_the_file_and_line(tmp_path, source, line, what):
    path = write(tmp_path / "bad.py", source)
    with pytest.raises(StrategyError) as info:
        load_plugin(path)
    message = str(info.value)
    assert f"bad.py, line {line}" in message and what in message
    assert info.value.details["line"] == line


def test_a_file_without_strategies_says_so(tmp_path):
    path = write(tmp_path / "empty.py", "from tradesweep.strategies import Strategy\nX = 1\n")
    with pytest.raises(StrategyError, match="no Strategy subclass found"):
        load_plugin(path)
    with pytest.raises(StrategyError, match="no Strategy subclass in any"):
        load_plugin(tmp_path)


def test_abstract_subclasses_are_ignored(tmp_path):
    path = write(
        tmp_path / "abstract.py",
        "from tradesweep.strategies import Strategy\nclass Half(Strategy):\n    name = 'half'\n",
    )
    with pytest.raises(StrategyError, match="no Strategy subclass found"):
        load_plugin(path)


def test_a_class_without_name_or_schema_is_refused(tmp_path):
    source = GOOD.format(cls="S", name="s").replace('    name = "s"\n', "")
    path = write(tmp_path / "nameless.py", source)
    with pytest.raises(StrategyError, match="does not set name"):
        load_plugin(path)


def test_plugin_parameters_are_validated(plugin_example):
    with pytest.raises(ParameterError, match="did you mean 'lookback'"):
        get_strategy(plugin_example, {"lookbak": 3})
