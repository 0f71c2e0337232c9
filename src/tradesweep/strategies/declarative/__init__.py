"""Strategies written as data: indicators, entry/exit rules and execution settings in YAML."""

from tradesweep.strategies.declarative.spec import DeclarativeSpec, parse_declarative
from tradesweep.strategies.declarative.strategy import (
    DeclarativeStrategy,
    declarative_class,
    load_declarative,
)

__all__ = [
    "DeclarativeSpec",
    "DeclarativeStrategy",
    "declarative_class",
    "load_declarative",
    "parse_declarative",
]
