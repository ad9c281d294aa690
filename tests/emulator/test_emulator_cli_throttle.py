"""``ado-inventory emulator`` flags for the throttle models and outages (issues 11 and 15)."""

from __future__ import annotations

import argparse

import pytest

from crawler.commands.emulator import add_arguments, build_config
from crawler.emulator.config import EmulatorConfig
from crawler.protocol.errors import UsageError


def _config(*flags: str) -> EmulatorConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return build_config(parser.parse_args(list(flags)))


def test_throttle_models_and_outages_from_flags() -> None:
    bucket = _config("--throttle", "bucket", "--throttle-rate", "20", "--throttle-max-delay", "0.5")
    assert (bucket.throttle.model, bucket.throttle.rate) == ("bucket", 20.0)
    assert bucket.throttle.max_delay_s == 0.5
    assert bucket.throttle.enabled
    shared = _config("--throttle", "shared", "--throttle-limit", "200")
    assert shared.throttle.shared_usage == pytest.approx(170)  # 85% by default
    burst = _config("--throttle", "burst", "--throttle-burst-after", "10")
    assert (burst.throttle.burst_after, burst.throttle.burst_s) == (10, 1.5)
    outage = _config("--outage-after", "100", "--outage-seconds", "30")
    assert (outage.faults.outage_after, outage.faults.outage_s) == (100, 30.0)
    assert not _config().throttle.enabled


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--throttle", "bucket"], "--throttle-rate"),
        (["--throttle", "shared"], "--throttle-limit"),
        (["--outage-after", "5"], "--outage-seconds"),
        (["--outage-seconds", "-1"], "--outage-seconds"),
    ],
)
def test_incomplete_throttle_and_outage_flags_name_what_is_missing(
    flags: list[str], named: str
) -> None:
    with pytest.raises(UsageError, match=named):
        _config(*flags)
