"""The emulator's posture routes: connectionData, pipeline general settings, secure files,
pipeline permissions and check configurations (the single and the batched read).

Out-of-scope projects answer as the emulator's other routes of their area do (401 for build,
404 TF200016 for distributedtask and pipelines); an unreachable repository is 404 TF401019.
What ADO answers a job token on the permissions and checks routes is undocumented: the
emulator serves them by default and answers 403 with ``permissions_readable=False``. Data
comes from :mod:`crawler.emulator.posture`.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from crawler.emulator.posture import build_service, connection_data, general_settings, secure_files
from crawler.emulator.posture_checks import (
    PROTECTED_TYPES,
    checks_on,
    pipeline_permissions,
    protected_resources,
)
from crawler.emulator.projects import Project
from crawler.emulator.protocol import (
    ado_error,
    bad_request,
    envelope,
    json_response,
    not_authorized,
    project_not_found,
    repository_not_found,
)
from crawler.emulator.routing import Route
from crawler.emulator.seeded import JsonDict
from crawler.emulator.state import EmulatorState


def _denied(identity: str, what: str) -> web.Response:
    return ado_error(
        403,
        f"Access denied. {identity} needs Use or Administer permissions on this {what} to "
        "read its pipeline permissions and checks.",
        "AccessCheckException",
        "Microsoft.TeamFoundation.Framework.Server.AccessCheckException, "
        "Microsoft.TeamFoundation.Framework.Server",
    )


def _project(state: EmulatorState, route: Route) -> Project | web.Response:
    assert route.project is not None
    project = state.org.find_project(route.project)
    if project is None:
        return project_not_found(route.project)
    if state.org.project_visible(project):
        return project
    if route.kind == "general_settings":  # the build area answers like build definitions
        return not_authorized(build_service(state.config))
    return project_not_found(route.project)  # distributedtask and pipelines: TF200016


def _resource_failure(
    state: EmulatorState, project: Project, kind: str, resource_id: str, base: str
) -> web.Response | None:
    """Why this resource's permissions or checks cannot be read, or None."""
    config = state.config
    identity = build_service(config)
    if kind not in PROTECTED_TYPES:
        return bad_request(f"The resource type '{kind}' is not supported.")
    if not config.permissions_readable:
        return _denied(identity, kind)
    if kind == "endpoint" and not config.endpoints_readable:
        return _denied(identity, "service connection")
    if kind == "repository":
        repo = state.org.find_repository(resource_id.partition(".")[2], project)
        if repo is None or not state.org.repo_reachable(repo):
            return repository_not_found(resource_id)
    known = {(k, i) for k, i, _ in protected_resources(state.org, project, base)}
    if (kind, resource_id) not in known:
        return ado_error(
            404,
            f"The {kind} with id '{resource_id}' was not found in project {project.name}.",
            "ResourceNotFoundException",
            "Microsoft.Azure.Pipelines.Authorization.WebApi.ResourceNotFoundException",
        )
    return None


def _with_links(check: JsonDict, expand: bool) -> JsonDict:
    out = check | {"_links": {"self": {"href": check["url"]}}}
    if not expand:
        out.pop("settings", None)
    return out


async def serve_posture(
    state: EmulatorState, request: web.Request, route: Route, base: str
) -> web.Response:
    """Answer one posture route."""
    org = state.org
    if route.kind == "connection_data":
        scheme = request.headers.get("Authorization", "").partition(" ")[0].casefold()
        return json_response(orjson.dumps(connection_data(org, scheme)))
    project = _project(state, route)
    if isinstance(project, web.Response):
        return project
    if route.kind == "general_settings":
        return json_response(orjson.dumps(general_settings(org, project)))
    if route.kind == "secure_files":
        return json_response(envelope(secure_files(org, project, base)))
    if route.kind == "permissions":
        assert route.area is not None
        assert route.item is not None
        failure = _resource_failure(state, project, route.area, route.item, base)
        if failure is not None:
            return failure
        body = pipeline_permissions(org, project, route.area, route.item, base)
        return json_response(orjson.dumps(body))
    expand = "settings" in request.query.get("$expand", "").casefold()
    if route.kind == "checks":
        kind = request.query.get("resourceType", "")
        resource_id = request.query.get("resourceId", "")
        if not kind or not resource_id:
            return bad_request("resourceType and resourceId are required.")
        failure = _resource_failure(state, project, kind, resource_id, base)
        if failure is not None:
            return failure
        found = checks_on(org, project, kind, resource_id, base)
        return json_response(envelope([_with_links(c, expand) for c in found]))
    try:
        wanted = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return bad_request("The request body is not JSON.")
    if not isinstance(wanted, list):
        return bad_request("The request body must be a list of resources.")
    items: list[JsonDict] = []
    for ref in wanted:
        if not isinstance(ref, dict):
            return bad_request("Each resource must be an object {type, id}.")
        kind, resource_id = str(ref.get("type", "")), str(ref.get("id", ""))
        failure = _resource_failure(state, project, kind, resource_id, base)
        if failure is not None:
            return failure
        items += [_with_links(c, expand) for c in checks_on(org, project, kind, resource_id, base)]
    return json_response(envelope(items))
