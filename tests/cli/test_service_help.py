"""The service command groups' one-line help names every subcommand, both where the group is
mounted and where it stands in for a missing service extra."""

from __future__ import annotations

import pytest
import typer

from tradesweep.cli import db, keys, webhooks
from tradesweep.cli.main import _SERVICE_COMMANDS


def subcommands(group: typer.Typer) -> list[str]:
    return [
        c.name or (c.callback.__name__ if c.callback else "") for c in group.registered_commands
    ]


@pytest.mark.parametrize(("name", "group"), [("db", db.app), ("keys", keys.app)])
def test_a_group_help_names_each_subcommand(name: str, group: typer.Typer) -> None:
    names = subcommands(group)
    assert len(names) >= 3
    for help_text in (_SERVICE_COMMANDS[name], str(group.info.help)):
        missing = [n for n in names if n not in help_text]
        assert not missing, f"{name}: {help_text!r} does not name {missing}"


def test_webhooks_help_is_the_same_where_mounted_and_where_missing() -> None:
    assert _SERVICE_COMMANDS["webhooks"] == webhooks.app.info.help
