"""The strategies a request may name (the built-ins) with their parameter schemas: what the
dashboard builds its sweep and backtest forms from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tradesweep.api.deps import PrincipalDep, SettingsDep
from tradesweep.api.openapi import AUTHED, BY_ID
from tradesweep.api.settings import ApiSettings
from tradesweep.errors import did_you_mean
from tradesweep.services.jobs import NotFound
from tradesweep.services.submit import STRATEGY_ALIASES, strategy_name, strategy_type_of
from tradesweep.strategies import Strategy, strategy_classes
from tradesweep.strategies.builtins import BUILTINS

router = APIRouter(prefix="/api/v1/strategies", tags=["strategies"], responses=AUTHED)


class ParameterOut(BaseModel):
    name: str
    type: str = Field(description="int or float")
    default: int | float
    min: int | float
    max: int | float
    description: str


class StrategyOut(BaseModel):
    name: str = Field(description="the built-in's name, e.g. sma_crossover")
    strategy_type: str = Field(description="what to send as strategy_type (SMA for sma_crossover)")
    description: str
    parameters: list[ParameterOut]
    warmup_period: int = Field(description="bars before the first signal, with the defaults")

    @classmethod
    def of(cls, strategy: type[Strategy]) -> StrategyOut:
        info: dict[str, Any] = strategy.describe()
        return cls(
            name=info["name"],
            strategy_type=strategy_type_of(info["name"]),
            description=info["description"],
            parameters=[ParameterOut(**p) for p in info["parameters"]],
            warmup_period=info["warmup_period"],
        )


class StrategyListOut(BaseModel):
    strategies: list[StrategyOut]


def _builtins(settings: ApiSettings) -> dict[str, type[Strategy]]:
    """The built-ins with the server's default overrides applied (what the workers run);
    plugins are left out because requests may not name them."""
    classes = strategy_classes(plugins=[], defaults=settings.strategy_defaults)
    return {name: cls for name, cls in classes.items() if name in BUILTINS}


@router.get("", response_model=StrategyListOut)
def list_strategies(_principal: PrincipalDep, settings: SettingsDep) -> StrategyListOut:
    """Every strategy a sweep, backtest or walk-forward may use, in library order."""
    classes = _builtins(settings).values()
    return StrategyListOut(strategies=[StrategyOut.of(cls) for cls in classes])


@router.get("/{name}", response_model=StrategyOut, responses=BY_ID)
def get_strategy(name: str, _principal: PrincipalDep, settings: SettingsDep) -> StrategyOut:
    """One strategy by name or short strategy type (``SMA``, ``EMA``, ``MACD``)."""
    known = _builtins(settings)
    resolved = strategy_name(name)
    if resolved not in known:
        choices = [*STRATEGY_ALIASES, *known]
        raise NotFound(
            f"no strategy {name!r}",
            fix=f"{did_you_mean(name, choices)}known: {', '.join(choices)}",
            field="name",
        )
    return StrategyOut.of(known[resolved])
