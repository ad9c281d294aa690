"""The README documents every setting and every command: docs that match behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.cli import COMMANDS
from crawler.settings.table import KEYS, KNOWN_RESOURCES, Key

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_every_setting_is_documented_with_flag_and_environment(key: Key) -> None:
    assert f"`{key.name}`" in README
    assert f"`{key.env}`" in README
    assert any(flag in README for flag in key.flags)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command: str) -> None:
    assert f"ado-inventory {command}" in README or f"make {command}" in README


@pytest.mark.parametrize("resource", KNOWN_RESOURCES)
def test_every_resource_key_is_documented(resource: str) -> None:
    assert f"`{resource}`" in README
