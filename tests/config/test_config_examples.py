"""The shipped config/*.toml examples load, so they cannot rot."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from crawler.settings.load import load_settings
from crawler.settings.table import DEFAULTS, KEYS

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
EXAMPLES = sorted(CONFIG_DIR.glob("*.toml"))
PIPELINE_ENV = {"SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/"}


def test_the_three_examples_exist() -> None:
    names = {path.name for path in EXAMPLES}
    assert {"example.toml", "nightly.toml", "laptop-audit.toml"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_loads(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative outputs land in an existing directory
    settings = load_settings(flags={}, environ=PIPELINE_ENV, config_path=path)
    assert settings.org.url == "https://dev.azure.com/contoso/"


def test_example_documents_every_key_with_its_default() -> None:
    text = (CONFIG_DIR / "example.toml").read_text(encoding="utf-8")
    for key in KEYS:
        assert f"{key.name} = " in text, key.name
        assert key.env in text, key.env
        assert key.flag in text, key.flag
    active = tomllib.loads(text)
    for name, value in active.items():
        if name in DEFAULTS:
            default = DEFAULTS[name]
            expected = list(default) if isinstance(default, tuple) else default
            assert value == (str(expected) if name == "output" else expected), name
