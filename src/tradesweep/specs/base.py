"""``Spec``: the one frozen base of every job's spec (backtest, sweep, walk-forward, and the
paper-session and simulation specs to come).

A spec holds everything that determines one job, so equal specs give equal results and
:attr:`Spec.spec_id` (the first 16 hex digits of sha256 of :meth:`Spec.canonical_json`)
serves as run id, de-duplication key and cache key. The base gives every spec the same
:meth:`~Spec.from_dict` (a mapping, no unknown field: a did-you-mean instead, every required
field present), :meth:`~Spec.canonical_json`, :attr:`~Spec.spec_id`, :meth:`~Spec.replace` and
a ``__hash__`` of the id. A new spec is a frozen dataclass with its fields, its checks in
``__post_init__`` and its :meth:`~Spec.to_dict`::

    class PaperSessionError(TradesweepError):
        code = "invalid_spec"


    @dataclass(frozen=True)
    class PaperSessionSpec(Spec):
        kind: ClassVar[str] = "paper_session"
        error: ClassVar[type[TradesweepError]] = PaperSessionError

        symbol: str
        strategy: str
        params: Mapping[str, Any] = field(default_factory=dict)
        cash: float = 10_000.0

        def __post_init__(self) -> None:
            if not isinstance(self.symbol, str) or not self.symbol:
                raise self.error("paper session field 'symbol' must be a symbol",
                                 fix="e.g. BTC/USDT", field="symbol")
            object.__setattr__(self, "params", dict(sorted(self.params.items())))

        def to_dict(self) -> dict[str, Any]:
            return {"symbol": self.symbol, "strategy": self.strategy,
                    "params": dict(self.params), "cash": self.cash}

Fields without a default are required by :meth:`~Spec.from_dict`. A spec whose JSON form
needs converting before the constructor (a dict of engine settings into ``EngineSettings``, a
preset applied) overrides :meth:`~Spec.prepare`; one whose JSON form is not its field list
(walk-forward: the sweep's fields flat beside its own) also overrides
:meth:`~Spec.known_fields` and :meth:`~Spec.required_fields`.

``to_dict`` must be canonical (``from_dict(spec.to_dict()) == spec``). A field added later
is written only when it differs from its default, so the ids of the specs stored before it
stay unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from tradesweep.errors import TradesweepError, reject_unknown_fields

SPEC_ID_LENGTH = 16
"""Hex digits of the sha256 kept in :attr:`Spec.spec_id`."""


class Spec:
    """Base of the frozen spec dataclasses (module docstring). Subclasses set :attr:`kind`
    and :attr:`error` and are decorated with ``@dataclass(frozen=True)``."""

    kind: ClassVar[str]
    """The job type the spec describes: ``backtest``, ``sweep``, ``walkforward``, ..."""
    error: ClassVar[type[TradesweepError]]
    """The error raised for a malformed spec of this kind."""
    noun: ClassVar[str] = ""
    """How messages name the spec (``walk-forward spec``); default ``<kind> spec``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # dataclass(frozen=True) would otherwise hash the fields, and a dict field is
        # unhashable; a __hash__ in the class itself is left alone by the decorator.
        cls.__hash__ = Spec.__hash__  # type: ignore[method-assign]

    @classmethod
    def what(cls) -> str:
        """``walk-forward spec``, ``sweep spec``: the spec as messages name it."""
        return cls.noun or f"{cls.kind} spec"

    @classmethod
    def known_fields(cls) -> list[str]:
        """The field names :meth:`from_dict` accepts."""
        return [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def required_fields(cls) -> list[str]:
        """The fields :meth:`from_dict` needs (and may not be null)."""
        missing = dataclasses.MISSING
        return [
            f.name
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.default is missing and f.default_factory is missing
        ]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a spec from JSON-like data: a mapping whose keys are all known fields (an
        unknown one is refused with a did-you-mean) and which gives every required field."""
        if not isinstance(data, Mapping):
            raise cls.error(
                f"a {cls.what()} must be a mapping, got {type(data).__name__}",
                fix=f"pass a dict with {', '.join(cls.required_fields())}",
            )
        reject_unknown_fields(data, cls.known_fields(), what=cls.what(), error=cls.error)
        required = cls.required_fields()
        for key in required:
            if data.get(key) is None:
                raise cls.error(
                    f"{cls.what()} field '{key}' is missing",
                    fix=f"give {', '.join(required)}",
                    field=key,
                )
        return cls(**cls.prepare(dict(data)))

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        """The constructor's arguments for checked JSON-like ``values``; as given by default."""
        return values

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON-able form; ``from_dict(spec.to_dict()) == spec``."""
        raise NotImplementedError

    def canonical_json(self) -> str:
        """:meth:`to_dict` as compact JSON with sorted keys: the text :attr:`spec_id` hashes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @property
    def spec_id(self) -> str:
        """The first :data:`SPEC_ID_LENGTH` hex digits of sha256 of :meth:`canonical_json`."""
        digest = hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
        return digest[:SPEC_ID_LENGTH]

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (validated like a new spec)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def __hash__(self) -> int:
        return hash(self.spec_id)
