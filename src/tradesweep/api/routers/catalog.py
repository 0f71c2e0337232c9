"""What clients need to label and fill in what the rest of the API returns and accepts: the
metric table (key, label, unit, tone rule, decimals, where its formula is written, null
reason; clients format metric values from it), the objectives, the built-in settings
presets, the engine settings with their defaults and choices, and the names of the codes a
stored trade carries (side, exit reason)."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tradesweep.api.deps import PrincipalDep
from tradesweep.api.openapi import AUTHED
from tradesweep.engine import EngineSettings
from tradesweep.engine.enums import EXIT_REASON_NAMES, Side
from tradesweep.metrics.names import OBJECTIVES
from tradesweep.metrics.table import METRICS, Metric
from tradesweep.sweep.preset import builtin_presets, load_preset

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"], responses=AUTHED)


class MetricOut(BaseModel):
    """One row of the metric table (``tradesweep.metrics.table``)."""

    key: str = Field(description="snake_case, unit in the name (total_return_pct)")
    label: str = Field(description="for display only")
    unit: str = Field(description="date, text, count, rate, pct, money, ratio, days or number")
    tone: str = Field(
        description="when a value is a gain or a loss: sign (above/below 0), above_one, "
        "above_cash (above/below the initial cash) or none"
    )
    decimals: int | None = Field(description="digits after the point; null: 6 significant")
    signed: bool = Field(description="a positive value is written with a +")
    doc: str = Field(description="where the formula is written: docs/metrics.md#<anchor>")
    alias: str | None = Field(description="another name of the key in API rows, or null")
    null_reason: str | None = Field(description="why it can be null; null: never null")

    @classmethod
    def of(cls, m: Metric) -> MetricOut:
        return cls(
            key=m.key,
            label=m.label,
            unit=m.unit,
            tone=m.tone,
            decimals=m.decimals,
            signed=m.signed,
            doc=m.doc,
            alias=m.alias,
            null_reason=m.null_reason,
        )


class PresetOut(BaseModel):
    name: str = Field(description="send as config_path")
    description: str
    settings: dict[str, Any]
    spec_fields: dict[str, Any] = Field(description="sweep fields it sets, e.g. min_trades")


class SettingOut(BaseModel):
    name: str
    default: Any
    type: str = Field(description="float, int, bool or choice")
    optional: bool = Field(description="null (the default) switches the feature off")
    choices: list[str] | None = None


class CatalogOut(BaseModel):
    metrics: list[MetricOut]
    objectives: list[str]
    presets: list[PresetOut]
    engine_settings: list[SettingOut]
    trade_sides: dict[str, str] = Field(description="name of each stored trade side code")
    exit_reasons: list[str] = Field(description="name of each exit reason code (the index)")


def _settings() -> list[SettingOut]:
    hints = typing.get_type_hints(EngineSettings)
    out = []
    for field in dataclasses.fields(EngineSettings):
        hint = hints[field.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = type(None) in typing.get_args(hint)
        if typing.get_origin(hint) is Literal:
            out.append(
                SettingOut(
                    name=field.name,
                    default=field.default,
                    type="choice",
                    optional=False,
                    choices=[str(a) for a in typing.get_args(hint)],
                )
            )
            continue
        kind = args[0] if optional and args else hint
        out.append(
            SettingOut(
                name=field.name,
                default=field.default,
                type=getattr(kind, "__name__", str(kind)),
                optional=optional,
            )
        )
    return out


@router.get("", response_model=CatalogOut)
def catalog(_principal: PrincipalDep) -> CatalogOut:
    presets = [load_preset(name) for name in builtin_presets()]
    return CatalogOut(
        metrics=[MetricOut.of(m) for m in METRICS],
        objectives=list(OBJECTIVES),
        presets=[
            PresetOut(
                name=p.name,
                description=p.description,
                settings=dict(p.settings),
                spec_fields=dict(p.spec_fields),
            )
            for p in presets
        ],
        engine_settings=_settings(),
        trade_sides={str(code): name for name, code in Side._asdict().items()},
        exit_reasons=list(EXIT_REASON_NAMES),
    )
