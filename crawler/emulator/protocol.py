"""The emulator's protocol pieces: constants, ADO-shaped errors, auth, api-version, tokens.

Everything here is a pure function of its arguments (or builds one response from them), so
the handlers in :mod:`crawler.emulator.core_routes`, :mod:`crawler.emulator.wider_routes` and
:mod:`crawler.emulator.posture_routes` share it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

import orjson
from aiohttp import web

from crawler.emulator.seeded import JsonDict

CONTINUATION_HEADER = "x-ms-continuationtoken"
JSON_TYPE = "application/json; charset=utf-8; api-version=7.1"
MAX_API_VERSION = (7, 2)
RELEASED_API_VERSION = (7, 1)


def error_body(message: str, type_key: str, type_name: str) -> bytes:
    """An ADO-shaped JSON error body."""
    return orjson.dumps(
        {
            "$id": "1",
            "innerException": None,
            "message": message,
            "typeName": type_name,
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3000,
        }
    )


def json_response(body: bytes, status: int = 200, token: str | None = None) -> web.Response:
    """A JSON response, with the continuation header when ``token`` is set."""
    headers = {"Content-Type": JSON_TYPE}
    if token is not None:
        headers[CONTINUATION_HEADER] = token
    return web.Response(body=body, status=status, headers=headers)


def ado_error(status: int, message: str, type_key: str, type_name: str) -> web.Response:
    """A JSON error response the way ADO shapes it."""
    return json_response(error_body(message, type_key, type_name), status=status)


def resource_not_found(path: str) -> web.Response:
    """404, as for a path where nothing lives (or a route this server version lacks)."""
    return ado_error(
        404,
        f"The resource at {path} was not found.",
        "NotFoundException",
        "System.Web.Http.HttpResponseException, System.Web.Http",
    )


def project_not_found(name: str) -> web.Response:
    """404 TF200016, as for a project that does not exist or is out of the token's scope."""
    return ado_error(
        404,
        f"TF200016: The following project does not exist: {name}. Verify that the name of the "
        "project is correct and that the project exists on the specified Azure DevOps Server.",
        "ProjectDoesNotExistWithNameException",
        "Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, "
        "Microsoft.TeamFoundation.Core.WebApi",
    )


def repository_not_found(repo: str) -> web.Response:
    """404 TF401019, as for a repository that does not exist or is out of reach."""
    return ado_error(
        404,
        f"TF401019: The Git repository with name or identifier {repo} does not exist or you do "
        "not have permissions for the operation you are attempting.",
        "GitRepositoryNotFoundException",
        "Microsoft.TeamFoundation.Git.Server.GitRepositoryNotFoundException, "
        "Microsoft.TeamFoundation.Git.Server",
    )


def not_authorized(identity: str, status: int = 401) -> web.Response:
    """TF400813, as ADO answers a request its identity may not make."""
    return ado_error(
        status,
        f"TF400813: The user '{identity}' is not authorized to access this resource.",
        "UnauthorizedRequestException",
        "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, "
        "Microsoft.TeamFoundation.Framework.Server",
    )


def access_denied(identity: str, project: str) -> web.Response:
    """403, as the Pipelines API answers for a project out of the token's scope."""
    return ado_error(
        403,
        f"Access denied. {identity} needs View build pipeline permissions for the project "
        f"{project} to perform the action. For more information, contact the Azure DevOps "
        "Server administrator.",
        "AccessCheckException",
        "Microsoft.TeamFoundation.Framework.Server.AccessCheckException, "
        "Microsoft.TeamFoundation.Framework.Server",
    )


def bad_request(message: str, type_key: str = "ArgumentException") -> web.Response:
    """400 with an ADO-shaped body."""
    return ado_error(400, message, type_key, f"System.{type_key}, mscorlib")


def check_credentials(authorization: str | None, token: str) -> bool:
    """Does the Authorization header carry ``token`` as Bearer or as a PAT (Basic, any user)?"""
    if not authorization:
        return False
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value == token
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        _, sep, password = decoded.partition(":")
        return bool(sep) and password == token
    return False


_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(-preview(\.\d+)?)?$")
_ACCEPT_VERSION_RE = re.compile(r"api-version\s*=\s*([^;,\s]+)", re.IGNORECASE)


def requested_api_version(query_value: str | None, accept: str | None) -> str | None:
    """The api-version asked for in the query, else in the Accept header."""
    if query_value:
        return query_value.strip()
    if accept:
        match = _ACCEPT_VERSION_RE.search(accept)
        if match:
            return match.group(1)
    return None


def check_api_version(
    version: str | None,
    method: str,
    *,
    highest: tuple[int, int] = MAX_API_VERSION,
    released: tuple[int, int] = RELEASED_API_VERSION,
) -> web.Response | None:
    """None when ``version`` is acceptable, else the 400 ADO would answer.

    ``highest`` is the newest version the server (or route) accepts at all, previews
    included; ``released`` the newest one it takes without ``-preview`` ((0, 0): none).
    """
    if version is None:
        return bad_request(
            f'No api-version was supplied for the "{method}" request. The version must be '
            'supplied either as part of the Accept header (e.g. "application/json; '
            'api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").',
            "VssVersionNotSpecifiedException",
        )
    match = _VERSION_RE.match(version)
    if match is None:
        return bad_request(
            f"The api-version '{version}' is not in a valid format.", "VssInvalidApiVersion"
        )
    number = (int(match.group(1)), int(match.group(2)))
    if number < (1, 0) or number > highest:
        return bad_request(
            f"The requested REST API version of {version} is out of range for this server. "
            f"The latest REST API version this server supports is {highest[0]}.{highest[1]}.",
            "VssVersionOutOfRangeException",
        )
    if number > released and match.group(3) is None:
        return bad_request(
            f'The requested version "{version}" of the resource is under preview. The -preview '
            "flag must be supplied in the api-version for such requests. For example: "
            f'"{version}-preview"',
            "VssInvalidPreviewVersionException",
        )
    return None


def encode_pipelines_token(offset: int) -> str:
    """The opaque continuation token of the Pipelines API for listing position ``offset``."""
    return base64.b64encode(orjson.dumps({"skip": offset, "kind": "pipelines"})).decode("ascii")


def decode_pipelines_token(token: str) -> int | None:
    """The listing position inside a Pipelines API token, or None when it is not ours."""
    try:
        data = orjson.loads(base64.b64decode(token.encode("ascii"), validate=True))
        skip = data["skip"]
    except (ValueError, binascii.Error, KeyError, TypeError, UnicodeEncodeError):
        return None
    return skip if isinstance(skip, int) and skip >= 0 else None


def page_size(top: str | None, cap: int) -> int | None:
    """The page length for ``$top`` (capped at ``cap``; the default when absent), None if bad."""
    if top is None or top == "":
        return cap
    try:
        value = int(top)
    except ValueError:
        return None
    return cap if value <= 0 else min(value, cap)


def requested_top(request: web.Request, cap: int, param: str = "$top") -> int | web.Response:
    """The page length the request asks for with ``param``, or ADO's 400 when it is not a number."""
    top = page_size(request.query.get(param), cap)
    if top is None:
        return bad_request(f"The value of {param} must be an integer.")
    return top


def truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


def envelope(items: Sequence[JsonDict]) -> bytes:
    """An ADO list body: ``{"count": n, "value": [...]}``."""
    return orjson.dumps({"count": len(items), "value": list(items)})


def request_base(request: web.Request, org: str) -> str:
    """``scheme://host:port/org`` as the client addressed us (URLs inside items use it)."""
    return f"{request.scheme}://{request.host}/{org}"
