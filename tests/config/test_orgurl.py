"""The organization URL: every accepted form normalises; every refusal says what to give."""

from __future__ import annotations

import string
from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crawler.protocol.errors import UsageError
from crawler.settings.orgurl import OrgUrl, parse_org_url


@pytest.mark.parametrize(
    ("text", "url", "name", "kind"),
    [
        ("https://dev.azure.com/contoso", "https://dev.azure.com/contoso/", "contoso", "cloud"),
        ("https://dev.azure.com/Contoso/", "https://dev.azure.com/Contoso/", "Contoso", "cloud"),
        (
            "  https://DEV.Azure.com/Contoso/\n",
            "https://dev.azure.com/Contoso/",
            "Contoso",
            "cloud",
        ),
        ("https://dev.azure.com:443/x/", "https://dev.azure.com/x/", "x", "cloud"),
        ("HTTPS://dev.azure.com/x", "https://dev.azure.com/x/", "x", "cloud"),
        (
            "https://contoso.visualstudio.com",
            "https://contoso.visualstudio.com/",
            "contoso",
            "legacy",
        ),
        (
            "https://Contoso.VisualStudio.com/",
            "https://contoso.visualstudio.com/",
            "contoso",
            "legacy",
        ),
        (
            "https://contoso.visualstudio.com/DefaultCollection/",
            "https://contoso.visualstudio.com/",
            "contoso",
            "legacy",
        ),
        ("https://ado.corp.example/Main/", "https://ado.corp.example/Main/", "Main", "server"),
        (
            "https://tfs.corp.example:8443/tfs/DefaultCollection",
            "https://tfs.corp.example:8443/tfs/DefaultCollection/",
            "DefaultCollection",
            "server",
        ),
        (
            "https://ado.corp.example/My%20Collection/",
            "https://ado.corp.example/My%20Collection/",
            "My Collection",
            "server",
        ),
        ("http://127.0.0.1:8080/org", "http://127.0.0.1:8080/org/", "org", "loopback"),
        ("http://127.9.8.7:1/org/", "http://127.9.8.7:1/org/", "org", "loopback"),
        ("http://localhost:9/emu", "http://localhost:9/emu/", "emu", "loopback"),
        (
            "http://127.0.0.1:8080/tfs/DefaultCollection",
            "http://127.0.0.1:8080/tfs/DefaultCollection/",
            "DefaultCollection",
            "loopback",
        ),
        ("http://[::1]:8080/org", "http://[::1]:8080/org/", "org", "loopback"),
        ("https://127.0.0.1:8443/org", "https://127.0.0.1:8443/org/", "org", "loopback"),
        ("https://dev.azure.com/caf%C3%A9/", "https://dev.azure.com/caf%C3%A9/", "café", "cloud"),
    ],
)
def test_accepted_forms_normalise(text: str, url: str, name: str, kind: str) -> None:
    org = parse_org_url(text)
    assert (org.url, org.name, org.kind) == (url, name, kind)
    assert org.url.endswith("/")
    assert org.host == org.host.lower()
    assert org.is_loopback == (kind == "loopback")
    assert parse_org_url(org.url) == org


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("http://dev.azure.com/contoso", ["token would travel in clear", "use https://"]),
        ("http://ado.corp.example/coll", ["travel in clear"]),
        ("http://10.0.0.1:8080/org", ["travel in clear"]),
        ("https://dev.azure.com", ["name is missing", "https://dev.azure.com/{org}/"]),
        ("https://dev.azure.com/", ["name is missing"]),
        ("https://user:hunter2pass@dev.azure.com/org", ["user:password@", "environment"]),
        ("https://dev.azure.com/org?api-version=7.1", ["query string or fragment"]),
        ("https://dev.azure.com/org/#x", ["query string or fragment"]),
        ("https://dev.azure.com/org/?", ["query string or fragment"]),
        (
            "https://dev.azure.com/org/project/_git/repo",
            ["below the organization", "give the organization URL, e.g. https://dev.azure.com/"],
        ),
        ("https://dev.azure.com/org/project", ["below the organization"]),
        ("https://contoso.visualstudio.com/project", ["below the organization"]),
        ("https://ado.corp.example/coll/project/", ["below the collection"]),
        ("https://ado.corp.example/", ["collection name is missing"]),
        ("https://ado.corp.example/tfs/", ["names the server, not a collection"]),
        ("http://127.0.0.1:8080/", ["name is missing"]),
        ("", ["empty"]),
        ("   ", ["empty"]),
        ("dev.azure.com/contoso", ["not a URL", "https://dev.azure.com/contoso"]),
        ("contoso", ["not a URL"]),
        ("ftp://dev.azure.com/contoso", ["scheme 'ftp' is not https"]),
        ("https://[::1/org", ["not a valid URL"]),
        ("https://dev.azure.com:99999/org", ["not a valid URL"]),
        ("https://dev.azure.com//org", ["empty segment"]),
        ("https://dev.azure.com/_apis", ["API path segment"]),
        ("https://dev.azure.com/my org", ["spaces"]),
        ("https://dev.azure.com/%FF/", ["percent-encoded UTF-8"]),
        ("https://dev.azure.com/a%2Fb/", ["'/'"]),
        ("https://vsrm.dev.azure.com/org/", ["not the organization host"]),
        ("https://a.b.visualstudio.com/", ["not an organization host"]),
        ("https:///org", ["no host"]),
    ],
)
def test_refusals_say_what_is_wrong(text: str, fragments: list[str]) -> None:
    with pytest.raises(UsageError) as exc:
        parse_org_url(text)
    message = str(exc.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_password_in_url_is_not_echoed() -> None:
    with pytest.raises(UsageError) as exc:
        parse_org_url("https://me:s3cretvalue@dev.azure.com/org/")
    assert "s3cretvalue" not in str(exc.value)


def test_org_url_is_a_frozen_value() -> None:
    org = parse_org_url("https://dev.azure.com/x")
    assert isinstance(org, OrgUrl)
    assert str(org) == org.url
    with pytest.raises(AttributeError):
        org.name = "y"  # type: ignore[misc]


# -- properties ---------------------------------------------------------------------------

ORG_NAMES = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=40).filter(
    lambda s: not s.startswith("_")
)
COLLECTION_NAMES = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="/\\"),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() == s and s.strip() and not s.startswith("_") and s.isprintable())


@given(ORG_NAMES, st.booleans())
def test_cloud_round_trip(name: str, slash: bool) -> None:
    org = parse_org_url(f"https://dev.azure.com/{name}" + ("/" if slash else ""))
    assert org.name == name
    assert org.url == f"https://dev.azure.com/{name}/"
    assert parse_org_url(org.url) == org


@given(ORG_NAMES.filter(lambda s: "." not in s), st.booleans())
def test_legacy_round_trip(name: str, default_collection: bool) -> None:
    suffix = "DefaultCollection/" if default_collection else ""
    org = parse_org_url(f"https://{name}.visualstudio.com/{suffix}")
    assert org.name == name.lower()
    assert org.url == f"https://{name.lower()}.visualstudio.com/"
    assert parse_org_url(org.url).url == org.url


@given(COLLECTION_NAMES, st.booleans(), st.integers(1, 65535))
def test_server_round_trip_percent_encoded(name: str, tfs: bool, port: int) -> None:
    assume(name.lower() != "tfs")  # https://host/tfs/ is the server root, refused on purpose
    prefix = "tfs/" if tfs else ""
    org = parse_org_url(f"https://ado.example:{port}/{prefix}{quote(name, safe='')}")
    assert org.name == name
    assert org.kind == "server"
    assert parse_org_url(org.url) == org


@given(ORG_NAMES, st.integers(1, 65535), st.sampled_from(["127.0.0.1", "localhost", "[::1]"]))
def test_loopback_round_trip(name: str, port: int, host: str) -> None:
    org = parse_org_url(f"http://{host}:{port}/{name}")
    assert org.is_loopback
    assert org.name == name
    assert parse_org_url(org.url) == org


URLISH = st.lists(
    st.sampled_from([*"htps:/@?#[]%.:-_ ~\n\tdevazurcomTFS12738", "\x00", "é", "://", "%2F"]),
    max_size=40,
).map("".join)


@given(st.one_of(st.text(max_size=80), URLISH, URLISH.map(lambda s: "https://" + s)))
def test_arbitrary_text_raises_only_usage_error(text: str) -> None:
    try:
        org = parse_org_url(text)
    except UsageError as exc:
        message = str(exc)
        assert message.startswith("organization URL")
    else:
        assert org.url.endswith("/")
        assert org.url.startswith(("https://", "http://"))
        assert parse_org_url(org.url) == org
