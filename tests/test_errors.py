"""The error hierarchy: drawn whole in ``tradesweep.errors``, cancellation apart from bad
input, one did-you-mean."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator

import pytest

import tradesweep
from tradesweep import errors
from tradesweep.errors import Cancellation, TradesweepError, did_you_mean
from tradesweep.specs import SweepSpec
from tradesweep.sweep import SweepCancelled, run_sweep


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_the_docstring_draws_every_error_of_the_package() -> None:
    for module in pkgutil.walk_packages(tradesweep.__path__, "tradesweep."):
        importlib.import_module(module.name)
    drawn = set(re.findall(r"[─└├] (\w+)", errors.__doc__ or ""))
    ours = {
        cls
        for base in (TradesweepError, Cancellation)
        for cls in _subclasses(base)
        if cls.__module__.startswith("tradesweep.")
    }
    assert len(ours) > 25
    assert {cls.__name__ for cls in ours} <= drawn
    for cls in ours:
        code = getattr(cls, "code", None)
        if code and code != getattr(cls.__base__, "code", None):
            assert f"{cls.__name__} [{code}]" in (errors.__doc__ or ""), cls


def test_a_cancelled_run_is_no_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not issubclass(SweepCancelled, ValueError | TradesweepError)
    monkeypatch.delenv("TRADESWEEP_STRATEGY_DEFAULTS", raising=False)
    spec = SweepSpec.from_dict(
        {"data": "GOOGL", "strategy": "sma_crossover", "ranges": {"fast": "5:20:5"}}
    )
    with pytest.raises(SweepCancelled) as caught:
        try:
            run_sweep(spec, cancel=lambda: True, workers=1)
        except ValueError:  # what bad input raises; a cancellation must pass through it
            pytest.fail("the cancellation was caught as a ValueError")
    assert caught.value.code == "cancelled"


def test_one_did_you_mean() -> None:
    assert did_you_mean("fsat", ["fast", "slow"]) == "did you mean 'fast'? "
    assert did_you_mean("zzz", ["fast", "slow"]) == ""
    assert did_you_mean("slwo", ["fast", "slow"], prefix="$") == "did you mean '$slow'? "
    assert did_you_mean("GOGL", ["GOOGL", "GOOG"], n=2, cutoff=0.5, quote="") == (
        "did you mean GOOGL, GOOG? "
    )
