"""``WalkForwardSpec``: a sweep spec plus its training and test windows. The run and its
conventions are in :mod:`tradesweep.sweep.walkforward`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from tradesweep.errors import TradesweepError
from tradesweep.specs.base import Spec
from tradesweep.specs.sweep import SweepSpec, SweepSpecError
from tradesweep.strategies.defaults import DefaultsOverride

WALKFORWARD_KEYS: tuple[str, ...] = ("train_bars", "test_bars", "step_bars", "anchored")
MAX_WINDOW_BARS = 10_000_000
"""The most bars ``train_bars``, ``test_bars`` and ``step_bars`` may each be: ten million
one-minute bars are 19 years, more than any dataset this service keeps."""


@dataclass(frozen=True)
class WalkForwardSpec(Spec):
    """A sweep spec plus the windows: ``train_bars`` to optimise on, ``test_bars`` to trade
    on, ``step_bars`` between test windows (default ``test_bars``), ``anchored`` (training
    windows all start at bar 0). Its JSON form is the sweep's fields and the window fields,
    flat in one mapping."""

    kind: ClassVar[str] = "walkforward"
    error: ClassVar[type[TradesweepError]] = SweepSpecError
    noun: ClassVar[str] = "walk-forward spec"

    sweep: SweepSpec
    train_bars: int
    test_bars: int
    step_bars: int | None = None
    anchored: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.sweep, SweepSpec):
            raise SweepSpecError(
                f"walk-forward field 'sweep' must be a SweepSpec, got {type(self.sweep).__name__}",
                fix="use WalkForwardSpec.from_dict with the sweep fields at the top level",
                field="sweep",
            )
        if self.step_bars is None:
            object.__setattr__(self, "step_bars", self.test_bars)
        for name, low in (("train_bars", 2), ("test_bars", 1), ("step_bars", 1)):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not low <= value <= MAX_WINDOW_BARS
            ):
                raise SweepSpecError(
                    f"walk-forward field '{name}' must be a whole number of bars in "
                    f"[{low}, {MAX_WINDOW_BARS:,}], got {value!r}",
                    fix="e.g. train_bars=500, test_bars=100",
                    field=name,
                )
        if self.step_bars < self.test_bars:  # type: ignore[operator]
            raise SweepSpecError(
                f"step_bars={self.step_bars} is smaller than test_bars={self.test_bars}: test "
                "windows would overlap and their out-of-sample equity could not be stitched",
                fix="give step_bars >= test_bars (the default is test_bars)",
                field="step_bars",
            )
        if not isinstance(self.anchored, bool):
            raise SweepSpecError(
                f"walk-forward field 'anchored' must be true or false, got {self.anchored!r}",
                field="anchored",
            )

    @classmethod
    def known_fields(cls) -> list[str]:
        return [*SweepSpec.known_fields(), *WALKFORWARD_KEYS]

    @classmethod
    def required_fields(cls) -> list[str]:
        """The windows' (the sweep's own are checked by :meth:`SweepSpec.from_dict`)."""
        return ["train_bars", "test_bars"]

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        windows = {k: values[k] for k in WALKFORWARD_KEYS if k in values}
        sweep: Mapping[str, Any] = {k: v for k, v in values.items() if k not in WALKFORWARD_KEYS}
        return {"sweep": SweepSpec.from_dict(sweep), **windows}

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.sweep.to_dict(),
            "train_bars": self.train_bars,
            "test_bars": self.test_bars,
            "step_bars": self.step_bars,
            "anchored": self.anchored,
        }

    def with_defaults(self, override: DefaultsOverride) -> WalkForwardSpec:
        """This spec with its sweep recording what ``override`` changes in its strategy."""
        return self.replace(sweep=self.sweep.with_defaults(override))
