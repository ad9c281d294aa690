"""Settings: defaults < TOML < environment < flags, and clear refusals naming key and source."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.protocol.errors import EXIT_USAGE, UsageError
from crawler.settings.args import add_settings_arguments, flags_from_args
from crawler.settings.load import load_settings
from crawler.settings.table import DEFAULTS, KEYS, KNOWN_RESOURCES, Settings, project_selected
from crawler.settings.values import glob_problem

ORG = "https://dev.azure.com/contoso/"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def load(
    tmp_path: Path,
    *,
    toml: str | None = None,
    env: dict[str, str] | None = None,
    flags: dict[str, object] | None = None,
    org: bool = True,
) -> Settings:
    config = None
    if toml is not None:
        config = tmp_path / "crawl.toml"
        config.write_text(toml, encoding="utf-8")
    all_flags: dict[str, object] = {}
    if org and "org =" not in (toml or ""):
        all_flags["org"] = ORG
    if "output" not in (toml or "") and "ADO_INVENTORY_OUTPUT" not in (env or {}):
        all_flags["output"] = str(tmp_path / "inventory.json")
    all_flags.update(flags or {})
    return load_settings(flags=all_flags, environ=env or {}, config_path=config)


def refused(tmp_path: Path, **kwargs: object) -> str:
    with pytest.raises(UsageError) as exc:
        load(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert exc.value.exit_code == EXIT_USAGE
    return str(exc.value)


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(flags={"org": ORG}, environ={}, config_path=None)
    assert s.org.url == ORG
    assert s.output == Path("inventory.json")
    assert (s.concurrency, s.rate, s.page_size) == (16, 50.0, 500)
    assert (s.timeout_s, s.connect_timeout_s, s.deadline_s) == (60.0, 15.0, 3600.0)
    assert (s.max_retries, s.backoff_base_s, s.backoff_max_s) == (6, 0.5, 60.0)
    assert (s.max_pages, s.max_response_mb) == (10000, 64.0)
    assert (s.projects, s.exclude_projects) == ((), ())
    assert s.resources == ("projects", "repositories", "pipelines", "pipeline_settings")
    assert (s.auth, s.ca_bundle, s.progress, s.verbose, s.quiet) == (
        None,
        None,
        "auto",
        False,
        False,
    )
    assert DEFAULTS["concurrency"] == 16
    assert "org" not in DEFAULTS


def test_precedence_file_env_flag(tmp_path: Path) -> None:
    toml = "concurrency = 4\nrate = 5.0\npage_size = 100\nmax_retries = 1\n"
    env = {
        "ADO_INVENTORY_RATE": "7.5",
        "ADO_INVENTORY_PAGE_SIZE": "200",
        "ADO_INVENTORY_MAX_RETRIES": "2",
    }
    s = load(tmp_path, toml=toml, env=env, flags={"max_retries": "3", "page_size": None})
    assert s.concurrency == 4  # file only
    assert s.rate == 7.5  # env beats file
    assert s.page_size == 200  # a None flag is "not given"
    assert s.max_retries == 3  # flag beats env


def test_org_from_system_collectionuri_and_flag_wins(tmp_path: Path) -> None:
    env = {"SYSTEM_COLLECTIONURI": "https://dev.azure.com/fromenv/"}
    assert load(tmp_path, env=env, org=False).org.name == "fromenv"
    assert load(tmp_path, env=env).org.name == "contoso"
    toml = 'org = "https://dev.azure.com/fromfile"\n'
    assert load(tmp_path, toml=toml, org=False).org.name == "fromfile"
    assert load(tmp_path, toml=toml, env=env, org=False).org.name == "fromenv"


def test_missing_org(tmp_path: Path) -> None:
    message = refused(tmp_path, org=False)
    assert "--org" in message
    assert "SYSTEM_COLLECTIONURI" in message


def test_bad_org_names_the_source(tmp_path: Path) -> None:
    message = refused(tmp_path, env={"SYSTEM_COLLECTIONURI": "http://ado.corp/coll"}, org=False)
    assert message.startswith("environment variable SYSTEM_COLLECTIONURI: org:")
    assert "travel in clear" in message
    message = refused(tmp_path, flags={"org": "https://dev.azure.com/"})
    assert message.startswith("flag --org: org:")


def test_env_lists_bools_and_blank_values(tmp_path: Path) -> None:
    env = {
        "ADO_INVENTORY_PROJECTS": " Web* , Platform,,",
        "ADO_INVENTORY_EXCLUDE_PROJECTS": "*-old",
        "ADO_INVENTORY_RESOURCES": "pipelines",
        "ADO_INVENTORY_VERBOSE": "Yes",
        "ADO_INVENTORY_CONCURRENCY": "  ",
        "ADO_INVENTORY_AUTH": "PAT",
        "ADO_INVENTORY_BEARER_TOKEN": "not-a-setting",
        "ADO_INVENTORY_EMULATOR_URL": "unrelated tools may share the prefix",
    }
    s = load(tmp_path, env=env)
    assert s.projects == ("Web*", "Platform")
    assert s.exclude_projects == ("*-old",)
    assert s.resources == ("projects", "pipelines")
    assert s.verbose is True
    assert s.concurrency == 16
    assert s.auth == "pat"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
    ],
)
def test_env_bools(tmp_path: Path, text: str, value: bool) -> None:
    assert load(tmp_path, env={"ADO_INVENTORY_QUIET": text}).quiet is value


def test_flags_lists_accept_repeats_and_commas(tmp_path: Path) -> None:
    s = load(tmp_path, flags={"projects": ["A*", "B,C"], "resources": "all", "verbose": False})
    assert s.projects == ("A*", "B", "C")
    assert s.resources == KNOWN_RESOURCES
    assert s.verbose is False


def test_env_typo_is_caught(tmp_path: Path) -> None:
    message = refused(tmp_path, env={"ADO_INVENTORY_CONCURENCY": "4"})
    assert "ADO_INVENTORY_CONCURENCY" in message
    assert "did you mean ADO_INVENTORY_CONCURRENCY" in message


# -- the TOML file -------------------------------------------------------------------------


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    message = refused(tmp_path, toml="concurency = 4\n")
    assert "unknown key 'concurency'" in message
    assert "did you mean 'concurrency'" in message
    assert str(tmp_path / "crawl.toml") in message


def test_unknown_key_without_near_match(tmp_path: Path) -> None:
    message = refused(tmp_path, toml="zzz = 1\n")
    assert "unknown key 'zzz'" in message
    assert "did you mean" not in message


def test_tables_are_refused_with_a_hint(tmp_path: Path) -> None:
    message = refused(tmp_path, toml="[crawl]\nconcurrency = 4\n")
    assert "[crawl]" in message
    assert "top level" in message


def test_malformed_toml_shows_line_and_column(tmp_path: Path) -> None:
    message = refused(tmp_path, toml="concurrency = 4\nrate = = 3\n")
    assert "not valid TOML" in message
    assert "line 2" in message
    assert "column" in message


def test_missing_and_directory_config(tmp_path: Path) -> None:
    for path, fragment in [
        (tmp_path / "nope.toml", "does not exist"),
        (tmp_path, "is a directory"),
    ]:
        with pytest.raises(UsageError, match=fragment):
            load_settings(flags={"org": ORG}, environ={}, config_path=path)


def test_bom_is_accepted_and_non_utf8_refused(tmp_path: Path) -> None:
    config = tmp_path / "bom.toml"
    config.write_bytes(b"\xef\xbb\xbfconcurrency = 3\n")
    assert load_settings(flags={"org": ORG}, environ={}, config_path=config).concurrency == 3
    config.write_bytes(b"output = '\xff'\n")
    with pytest.raises(UsageError, match="not UTF-8"):
        load_settings(flags={"org": ORG}, environ={}, config_path=config)


@pytest.mark.parametrize(
    ("toml", "fragments"),
    [
        ('concurrency = "16"', ["concurrency = '16'", "string where a number is expected"]),
        ("concurrency = true", ["booleans are not numbers"]),
        ("concurrency = 4.5", ["expected an integer", "1..256"]),
        ('rate = "fast"', ["rate = 'fast'", "string where a number is expected"]),
        ("verbose = 1", ["verbose = 1", "expected true or false"]),
        ('verbose = "yes"', ["expected true or false"]),
        ('projects = "Web*"', ["expected a list of strings"]),
        ("projects = [1, 2]", ["expected a list of strings"]),
        ("output = 3", ["expected a non-empty path"]),
        ('output = ""', ["expected a non-empty path"]),
        ("org = 3", ["expected a URL string"]),
        ('progress = "fancy"', ["progress = 'fancy'", "one of auto, tty, plain, none"]),
        ('auth = "jobb"', ["one of job, pat, bearer", "did you mean 'job'"]),
        ("rate = nan", ["not a finite number"]),
        ("timeout_s = inf", ["not a finite number"]),
    ],
)
def test_wrong_types_in_file(tmp_path: Path, toml: str, fragments: list[str]) -> None:
    message = refused(tmp_path, toml=toml + "\n")
    assert message.startswith(str(tmp_path / "crawl.toml"))
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("key", "low_bad", "high_bad", "allowed"),
    [
        ("concurrency", 0, 257, "1..256"),
        ("rate", 0.05, 10000.5, "0.1..10000"),
        ("page_size", 0, 10001, "1..10000"),
        ("timeout_s", 0.5, 601, "1..600"),
        ("deadline_s", 9, 86401, "10..86400"),
        ("max_retries", -1, 21, "0..20"),
        ("max_pages", 0, 1_000_001, "1..1000000"),
        ("max_response_mb", 0, 5000, "0.01..4096"),
        ("backoff_base_s", -0.1, 61, "0..60"),
    ],
)
def test_out_of_range_from_every_source(
    tmp_path: Path, key: str, low_bad: float, high_bad: float, allowed: str
) -> None:
    spec = next(k for k in KEYS if k.name == key)
    for bad in (low_bad, high_bad):
        in_file = refused(tmp_path, toml=f"{key} = {bad}\n")
        assert f"{key} = {bad}" in in_file
        assert f"allowed {allowed}" in in_file
        assert str(tmp_path / "crawl.toml") in in_file
        in_env = refused(tmp_path, env={spec.env: str(bad)})
        assert in_env.startswith(f"environment variable {spec.env}: {key} = '{bad}'")
        assert allowed in in_env
        in_flag = refused(tmp_path, flags={key: str(bad)})
        assert in_flag.startswith(f"flag {spec.flag}: {key}")
        assert allowed in in_flag


def test_textual_numbers_that_are_not_numbers(tmp_path: Path) -> None:
    assert "not an integer" in refused(tmp_path, env={"ADO_INVENTORY_CONCURRENCY": "4.0"})
    assert "not a number" in refused(tmp_path, flags={"rate": "fast"})
    assert "expected true or false" in refused(tmp_path, env={"ADO_INVENTORY_QUIET": "maybe"})


def test_typed_flags_are_accepted(tmp_path: Path) -> None:
    s = load(tmp_path, flags={"concurrency": 3, "rate": 2, "output": tmp_path / "x.json"})
    assert (s.concurrency, s.rate, s.output) == (3, 2.0, tmp_path / "x.json")
    assert isinstance(s.rate, float)
    assert "booleans are not numbers" in refused(tmp_path, flags={"concurrency": True})


def test_unknown_flag_key_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown flag keys"):
        load(tmp_path, flags={"project": ["x"]})


# -- globs and resources -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("Web[", "never closed"),
        ("[abc", "never closed"),
        ("[!", "never closed"),
        ("[]", "never closed"),
        ("a[]b", "never closed"),
        ("org/project", "'/'"),
        ("a\\b", "'/'"),
        ("   ", "empty"),
        ("Web*", None),
        ("[[]literal", None),
        ("[]]", None),
        ("[!]x]", None),
        ("a[bc]d?", None),
    ],
)
def test_glob_problems(pattern: str, problem: str | None) -> None:
    found = glob_problem(pattern)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_bad_glob_names_key_and_source(tmp_path: Path) -> None:
    message = refused(tmp_path, flags={"exclude_projects": ["ok", "Web["]})
    assert message.startswith("flag --exclude-project: exclude_projects = 'Web['")
    assert "never closed" in message


def test_resources(tmp_path: Path) -> None:
    assert load(tmp_path, toml='resources = ["pipelines", "repositories"]\n').resources == (
        "projects",
        "repositories",
        "pipelines",
    )
    assert load(tmp_path, toml="resources = []\n").resources == ("projects",)
    assert load(tmp_path, toml='resources = ["all"]\n').resources == KNOWN_RESOURCES
    message = refused(tmp_path, flags={"resources": "repos,pipelines"})
    assert "resources = 'repos'" in message
    assert "unknown resource" in message
    assert ", ".join((*KNOWN_RESOURCES, "all")) in message
    assert "did you mean 'repositories'" in message


@pytest.mark.parametrize(
    ("name", "include", "exclude", "selected"),
    [
        ("Web", (), (), True),
        ("Web", ("web",), (), True),
        ("WebShop", ("web*",), (), True),
        ("Platform", ("web*",), (), False),
        ("WebShop", ("web*",), ("*shop",), False),
        ("WebShop", (), ("WEBSHOP",), False),
        ("Team A", ("team ?",), (), True),
        ("Team A", ("team [bc]",), (), False),
        ("a", ("b", "a"), (), True),
    ],
)
def test_project_selected(
    name: str, include: tuple[str, ...], exclude: tuple[str, ...], selected: bool
) -> None:
    assert project_selected(name, include, exclude) is selected


NAMES = st.text(min_size=1, max_size=20)


@given(NAMES, st.lists(NAMES, max_size=3), st.lists(NAMES, max_size=3))
def test_exclude_always_wins(name: str, include: list[str], exclude: list[str]) -> None:
    exclude = [*exclude, name]
    assert not project_selected(name, tuple(include), tuple(exclude))


@given(NAMES)
def test_a_name_selects_itself_case_insensitively(name: str) -> None:
    literal = "".join(f"[{c}]" if c in "*?[" else c for c in name)
    assert project_selected(name.swapcase(), (literal,), ())


@given(st.text(max_size=30))
def test_glob_problem_never_raises(pattern: str) -> None:
    assert glob_problem(pattern) is None or isinstance(glob_problem(pattern), str)


# -- paths ---------------------------------------------------------------------------------


def test_output_directory_and_missing_parent(tmp_path: Path) -> None:
    message = refused(tmp_path, flags={"output": str(tmp_path)})
    assert "output" in message
    assert "existing directory" in message
    message = refused(tmp_path, env={"ADO_INVENTORY_OUTPUT": str(tmp_path / "no" / "x.json")})
    assert message.startswith("environment variable ADO_INVENTORY_OUTPUT")
    assert "does not exist" in message


def test_ca_bundle(tmp_path: Path) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_text(PEM)
    assert load(tmp_path, flags={"ca_bundle": str(pem)}).ca_bundle == pem
    assert "is not a file" in refused(tmp_path, flags={"ca_bundle": str(tmp_path / "none.pem")})
    assert "is not a file" in refused(tmp_path, flags={"ca_bundle": str(tmp_path)})
    der = tmp_path / "ca.der"
    der.write_bytes(b"\x30\x82\x01\x00")
    assert "no PEM certificate" in refused(tmp_path, flags={"ca_bundle": str(der)})


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_ca_bundle(tmp_path: Path) -> None:
    pem = tmp_path / "locked.pem"
    pem.write_text(PEM)
    pem.chmod(0)
    try:
        assert "cannot be read" in refused(tmp_path, flags={"ca_bundle": str(pem)})
    finally:
        pem.chmod(0o600)


# -- cross-key checks ------------------------------------------------------------------------


def test_verbose_and_quiet_together(tmp_path: Path) -> None:
    message = refused(tmp_path, toml="quiet = true\n", flags={"verbose": True})
    assert "flag --verbose" in message
    assert str(tmp_path / "crawl.toml") in message
    assert load(tmp_path, toml="quiet = true\n", flags={"verbose": True, "quiet": False}).verbose


def test_backoff_base_above_max(tmp_path: Path) -> None:
    message = refused(tmp_path, toml="backoff_base_s = 10\nbackoff_max_s = 5\n")
    assert "backoff_base_s = 10" in message
    assert "backoff_max_s = 5" in message


# -- argparse helper -------------------------------------------------------------------------


def test_argparse_helper_round_trip(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_settings_arguments(parser)
    args = parser.parse_args(
        [
            "--org",
            ORG,
            "-o",
            str(tmp_path / "out.json"),
            "--project",
            "A*",
            "--project",
            "B",
            "--exclude-project",
            "*x",
            "--resources",
            "repositories",
            "--concurrency",
            "2",
            "--no-verbose",
            "-q",
        ]
    )
    flags = flags_from_args(args)
    s = load_settings(flags=flags, environ={"ADO_INVENTORY_VERBOSE": "1"}, config_path=args.config)
    assert s.projects == ("A*", "B")
    assert s.exclude_projects == ("*x",)
    assert s.resources == ("projects", "repositories")
    assert (s.concurrency, s.verbose, s.quiet) == (2, False, True)
    untouched = flags_from_args(parser.parse_args([]))
    assert set(untouched.values()) == {None}
    help_text = parser.format_help()
    for key in KEYS:
        assert key.flag in help_text
