"""The one spec base: ids unchanged by the move, one from_dict, one hash, the kinds."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from tradesweep.errors import TradesweepError
from tradesweep.specs import (
    SPEC_CLASSES,
    BacktestSpec,
    Spec,
    SpecError,
    SweepSpec,
    SweepSpecError,
    WalkForwardSpec,
)

SWEEP = {"data": "GOOGL", "strategy": "sma_crossover", "ranges": {"fast": "5:50:5"}}


@pytest.mark.parametrize(
    ("cls", "data", "spec_id"),
    [
        # computed by the code before the specs moved to tradesweep.specs: the store keys runs
        # on these ids, so a change would orphan every stored run
        (BacktestSpec, {"data": "GOOGL", "strategy": "sma_crossover"}, "174597f1f0fd3eaf"),
        (
            SweepSpec,
            {**SWEEP, "ranges": {"fast": "5:50:5", "slow": [20, 50]}},
            "6244232d116051e1",
        ),
        (WalkForwardSpec, {**SWEEP, "train_bars": 500, "test_bars": 100}, "59e5a9d0b49789d5"),
    ],
)
def test_spec_ids_are_those_of_before_the_move(
    cls: type[Spec], data: dict[str, Any], spec_id: str
) -> None:
    spec = cls.from_dict(data)
    assert spec.spec_id == spec_id
    assert "defaults" not in json.loads(spec.canonical_json())
    assert cls.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize(
    ("cls", "error", "what"),
    [
        (BacktestSpec, SpecError, "backtest spec"),
        (SweepSpec, SweepSpecError, "sweep spec"),
        (WalkForwardSpec, SweepSpecError, "walk-forward spec"),
    ],
)
def test_every_spec_refuses_the_same_way(
    cls: type[Spec], error: type[TradesweepError], what: str
) -> None:
    with pytest.raises(error, match=f"a {what} must be a mapping"):
        cls.from_dict(["GOOGL"])  # type: ignore[arg-type]
    with pytest.raises(error, match=f"unknown {what} field 'stratgy'") as info:
        cls.from_dict({"data": "GOOGL", "stratgy": "sma_crossover"})
    assert "did you mean 'strategy'?" in str(info.value)
    assert info.value.details["field"] == "stratgy"
    required = "train_bars" if cls is WalkForwardSpec else "data"
    with pytest.raises(error, match=f"{what} field '{required}' is missing"):
        cls.from_dict({"strategy": "sma_crossover"})


def test_specs_hash_by_id_and_replace_validates() -> None:
    one = SweepSpec.from_dict(SWEEP)
    same = SweepSpec.from_dict({**SWEEP, "ranges": {"fast": {"min": 5, "max": 50, "step": 5}}})
    assert one == same and hash(one) == hash(same) == hash(one.spec_id)
    assert len({one, same, one.replace(seed=1)}) == 2
    with pytest.raises(SweepSpecError, match="'top' must be a whole number"):
        one.replace(top=0)
    assert {
        "backtest": BacktestSpec,
        "sweep": SweepSpec,
        "walkforward": WalkForwardSpec,
    } == SPEC_CLASSES


class _NoteError(TradesweepError):
    code = "invalid_spec"


@dataclass(frozen=True)
class _NoteSpec(Spec):
    """A new kind of spec in the shape the base's docstring promises."""

    kind: ClassVar[str] = "note"
    error: ClassVar[type[TradesweepError]] = _NoteError

    symbol: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.symbol:
            raise self.error("note field 'symbol' is empty", field="symbol")
        object.__setattr__(self, "params", dict(sorted(self.params.items())))

    def to_dict(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "params": dict(self.params)}


def test_a_new_spec_gets_the_whole_contract_from_the_base() -> None:
    spec = _NoteSpec.from_dict({"symbol": "BTC", "params": {"b": 1, "a": 2}})
    assert spec.canonical_json() == '{"params":{"a":2,"b":1},"symbol":"BTC"}'
    assert len(spec.spec_id) == 16 and hash(spec) == hash(spec.spec_id)
    assert {spec: 1}[_NoteSpec("BTC", {"a": 2, "b": 1})] == 1  # a dict field, still hashable
    assert spec.replace(symbol="ETH").symbol == "ETH"
    with pytest.raises(_NoteError, match=r"unknown note spec field 'symbl'.*did you mean"):
        _NoteSpec.from_dict({"symbl": "BTC"})
    with pytest.raises(_NoteError, match="note spec field 'symbol' is missing"):
        _NoteSpec.from_dict({"params": {}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.symbol = "ETH"  # type: ignore[misc]
