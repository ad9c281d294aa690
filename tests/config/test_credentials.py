"""Credentials come from the environment, are sent the right way, and never show up in output."""

from __future__ import annotations

import base64
import copy
import dataclasses
import logging
import pickle
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.protocol.errors import EXIT_USAGE, UsageError
from crawler.settings.credentials import PIPELINE_YAML, Credential, Redactor, resolve_credential

TOKEN = "test-token-value"  # a test value, not a real credential
PAT = "test-pat-value-for-unit-tests"  # a test value, not shaped like a real PAT


@pytest.mark.parametrize(
    ("environ", "choice", "kind", "source"),
    [
        ({"SYSTEM_ACCESSTOKEN": TOKEN}, None, "job", "SYSTEM_ACCESSTOKEN"),
        ({"AZURE_DEVOPS_EXT_PAT": PAT}, None, "pat", "AZURE_DEVOPS_EXT_PAT"),
        ({"ADO_INVENTORY_BEARER_TOKEN": TOKEN}, None, "bearer", "ADO_INVENTORY_BEARER_TOKEN"),
        # several set, no choice: job > pat > bearer
        (
            {
                "SYSTEM_ACCESSTOKEN": TOKEN,
                "AZURE_DEVOPS_EXT_PAT": PAT,
                "ADO_INVENTORY_BEARER_TOKEN": "b",
            },
            None,
            "job",
            "SYSTEM_ACCESSTOKEN",
        ),
        (
            {"AZURE_DEVOPS_EXT_PAT": PAT, "ADO_INVENTORY_BEARER_TOKEN": TOKEN},
            None,
            "pat",
            "AZURE_DEVOPS_EXT_PAT",
        ),
        # --auth picks one
        (
            {"SYSTEM_ACCESSTOKEN": TOKEN, "AZURE_DEVOPS_EXT_PAT": PAT},
            "pat",
            "pat",
            "AZURE_DEVOPS_EXT_PAT",
        ),
        (
            {"SYSTEM_ACCESSTOKEN": TOKEN, "ADO_INVENTORY_BEARER_TOKEN": TOKEN},
            "bearer",
            "bearer",
            "ADO_INVENTORY_BEARER_TOKEN",
        ),
        # blank and unexpanded values count as missing
        (
            {"SYSTEM_ACCESSTOKEN": "  \n", "AZURE_DEVOPS_EXT_PAT": PAT},
            None,
            "pat",
            "AZURE_DEVOPS_EXT_PAT",
        ),
        (
            {"SYSTEM_ACCESSTOKEN": "$(System.AccessToken)", "AZURE_DEVOPS_EXT_PAT": PAT},
            None,
            "pat",
            "AZURE_DEVOPS_EXT_PAT",
        ),
    ],
)
def test_resolve_picks_the_documented_variable(
    environ: dict[str, str], choice: str | None, kind: str, source: str
) -> None:
    cred = resolve_credential(environ, choice)
    assert (cred.kind, cred.source) == (kind, source)


def test_surrounding_whitespace_is_stripped() -> None:
    cred = resolve_credential({"AZURE_DEVOPS_EXT_PAT": f"  {PAT}\r\n"}, None)
    assert cred.secrets()[0] == PAT


def test_headers() -> None:
    job = Credential("job", "SYSTEM_ACCESSTOKEN", TOKEN)
    bearer = Credential("bearer", "ADO_INVENTORY_BEARER_TOKEN", TOKEN)
    pat = Credential("pat", "AZURE_DEVOPS_EXT_PAT", PAT)
    assert job.authorization_header() == f"Bearer {TOKEN}"
    assert bearer.authorization_header() == f"Bearer {TOKEN}"
    scheme, _, encoded = pat.authorization_header().partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f":{PAT}"


def test_secrets_cover_every_form() -> None:
    pat = Credential("pat", "AZURE_DEVOPS_EXT_PAT", PAT)
    encoded = base64.b64encode(f":{PAT}".encode()).decode()
    assert set(pat.secrets()) == {PAT, encoded, f"Basic {encoded}"}
    job = Credential("job", "SYSTEM_ACCESSTOKEN", TOKEN)
    assert set(job.secrets()) == {TOKEN, f"Bearer {TOKEN}"}


def test_token_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    cred = Credential("job", "SYSTEM_ACCESSTOKEN", TOKEN)
    shown = [
        repr(cred),
        str(cred),
        f"{cred}",
        f"{cred!r}",
        f"{cred:>10}",
        "%s %r" % (cred, cred),  # noqa: UP031 - the old style must be safe too
        str([cred]),
        str({"c": cred}),
        repr(dataclasses.astuple(cred)),
        repr(dataclasses.asdict(cred)),
        str(ValueError(cred)),
        repr(cred._token),
    ]
    logging.getLogger("t").warning("cred %s", cred)
    shown.append(caplog.text)
    assert repr(cred) == "Credential(kind='job', source='SYSTEM_ACCESSTOKEN', token=***)"
    for text in shown:
        assert TOKEN not in text
        assert "***" in text


def test_credential_cannot_be_pickled_and_copies_are_itself() -> None:
    cred = Credential("pat", "AZURE_DEVOPS_EXT_PAT", PAT)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(cred)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(cred._token)
    assert copy.copy(cred) is cred
    assert copy.deepcopy(cred) is cred
    with pytest.raises(dataclasses.FrozenInstanceError):
        cred.kind = "job"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cred.__dict__  # noqa: B018 - slots: no instance dict to dump


def test_credentials_compare_by_value() -> None:
    a = Credential("job", "SYSTEM_ACCESSTOKEN", TOKEN)
    assert a == Credential("job", "SYSTEM_ACCESSTOKEN", TOKEN)
    assert a != Credential("job", "SYSTEM_ACCESSTOKEN", TOKEN + "x")
    assert len({a, Credential("job", "SYSTEM_ACCESSTOKEN", TOKEN)}) == 1


@pytest.mark.parametrize("bad", ["", "two words", "line\nbreak", "caf\u00e9", "tab\there"])
def test_constructor_refuses_unsendable_tokens(bad: str) -> None:
    with pytest.raises(ValueError, match="token") as exc:
        Credential("job", "SYSTEM_ACCESSTOKEN", bad)
    assert bad not in str(exc.value) or not bad


def test_constructor_refuses_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        Credential("basic", "X", TOKEN)  # type: ignore[arg-type]


# -- errors -------------------------------------------------------------------------------


def _usage(environ: dict[str, str], choice: str | None = None) -> str:
    with pytest.raises(UsageError) as exc:
        resolve_credential(environ, choice)
    assert exc.value.exit_code == EXIT_USAGE
    return str(exc.value)


def test_missing_token_shows_the_yaml_and_laptop_recipe() -> None:
    message = _usage({"PATH": "/usr/bin", "SYSTEM_ACCESSTOKEN": "", "AZURE_DEVOPS_EXT_PAT": " "})
    for var in ("SYSTEM_ACCESSTOKEN", "AZURE_DEVOPS_EXT_PAT", "ADO_INVENTORY_BEARER_TOKEN"):
        assert var in message
    assert PIPELINE_YAML in message
    assert (
        "  - script: ado-inventory crawl\n    env:\n      SYSTEM_ACCESSTOKEN: $(System.AccessToken)"
        in message
    )
    assert "read -rs AZURE_DEVOPS_EXT_PAT" in message
    assert "499b84ac-1321-427f-aa17-267ca6975798" in message


def test_unexpanded_macro_is_named() -> None:
    message = _usage({"SYSTEM_ACCESSTOKEN": "$(System.AccessToken)"})
    assert "not expanded" in message
    assert "'$(System.AccessToken)'" in message


def test_unexpanded_macro_in_other_variable() -> None:
    message = _usage({"AZURE_DEVOPS_EXT_PAT": "$( MyPat )"}, "pat")
    assert "AZURE_DEVOPS_EXT_PAT" in message
    assert "not expanded" in message


def test_chosen_kind_missing_names_the_others() -> None:
    message = _usage({"SYSTEM_ACCESSTOKEN": TOKEN}, "pat")
    assert "checked AZURE_DEVOPS_EXT_PAT (unset or empty)" in message
    assert "SYSTEM_ACCESSTOKEN is set (--auth job)" in message
    assert TOKEN not in message


def test_unknown_choice() -> None:
    message = _usage({"SYSTEM_ACCESSTOKEN": TOKEN}, "basic")
    assert "--auth must be one of job, pat, bearer" in message


def test_token_with_inner_whitespace_is_refused_without_echo() -> None:
    message = _usage({"AZURE_DEVOPS_EXT_PAT": "abc def-secretish"})
    assert "AZURE_DEVOPS_EXT_PAT" in message
    assert "secretish" not in message


# -- redaction ----------------------------------------------------------------------------


def test_redactor_replaces_every_form() -> None:
    cred = Credential("pat", "AZURE_DEVOPS_EXT_PAT", "a/b+c=d")
    redactor = cred.redactor()
    header = cred.authorization_header()
    text = f"h={header} raw=a/b+c=d url=a%2Fb%2Bc%3Dd plus=a%2Fb%2Bc%3Dd"
    out = redactor.redact(text)
    assert "a/b+c=d" not in out
    assert "a%2Fb%2Bc%3Dd" not in out
    assert header not in out
    assert out.count("***") == 4


def test_redactor_without_secrets_is_identity() -> None:
    redactor = Redactor()
    assert not redactor
    assert Redactor("", "***").redact("a *** b") == "a *** b"
    text = "nothing to hide"
    assert redactor.redact(text) is text


SECRETS = st.text(min_size=1, max_size=20).filter(lambda s: s.strip("*"))
NOISE = st.text(max_size=40)


@given(st.lists(SECRETS, min_size=1, max_size=4), st.lists(NOISE, min_size=2, max_size=6))
def test_embedded_secret_never_survives(secrets: list[str], noise: list[str]) -> None:
    text = noise[0] + "".join(s + n for s, n in zip(secrets * 2, noise[1:], strict=False))
    out = Redactor(*secrets).redact(text)
    for secret in secrets:
        assert secret not in out


@given(st.text(string.ascii_letters + string.digits, min_size=8, max_size=60), NOISE, NOISE)
def test_token_like_secret_is_masked_exactly(secret: str, before: str, after: str) -> None:
    out = Redactor(secret).redact(before + secret + after)
    assert secret not in out
    assert "***" in out
