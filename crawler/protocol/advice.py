"""How to let a token see what it could not, and where the pipeline settings live: the one
place this advice is written, used by the closing summary, the report and the audit's remedies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

JOB_SCOPE_SETTING = "Limit job authorization scope to current project"
REPO_SCOPE_SETTING = "Protect access to repositories in YAML pipelines"
PIPELINE_SETTINGS_UI = (
    "when the organization-level equivalent is on, Organization settings > Pipelines > "
    "Settings overrides the projects"
)

ADVICE_PROJECT = {
    "job": (
        "The pipeline's job access token is limited to its own project. In Project settings > "
        "Pipelines > Settings of the crawling pipeline's project, turn off \"Limit job "
        'authorization scope to current project for non-release pipelines"; when the '
        "organization-level equivalent is on (Organization settings > Pipelines > Settings, "
        "same name), turn it off there first, as it overrides the projects. Public projects are "
        'always limited. Alternatively add the "<project> Build Service (<organization>)" '
        "identity of the crawling project to the Readers group of each project listed."
    ),
    "pat": (
        "Give the personal access token the Code (Read) and Build (Read) scopes (plus Project "
        "and Team (Read)), and make its user a member of each project listed (Readers is enough)."
    ),
    "bearer": (
        "Make the Microsoft Entra identity a member of each project listed (Readers is enough)."
    ),
}
ADVICE_REPOSITORY = {
    "job": (
        '"Protect access to repositories in YAML pipelines" is on: the job access token '
        "reaches only the repositories the pipeline references. Turn it off in Project settings > "
        "Pipelines > Settings (and in Organization settings > Pipelines > Settings, which "
        "overrides it), or reference each repository in the crawling pipeline (resources: "
        "repositories), or grant the build service identity Read on those repositories."
    ),
    "pat": (
        "Give the personal access token the Code (Read) scope, and grant its user Read on "
        "those repositories (Project settings > Repositories > Security)."
    ),
    "bearer": (
        "Grant the Microsoft Entra identity Read on those repositories (Project settings > "
        "Repositories > Security)."
    ),
}
ADVICE_OTHER_CREDENTIALS = (
    "With a personal access token instead: the Code (Read) and Build (Read) scopes, and "
    "membership of each project."
)


def advice(kind: str, auth_kind: str) -> str:
    """How to let the token see what a not-visible finding of ``kind`` names."""
    table = ADVICE_REPOSITORY if kind == "repository_not_visible" else ADVICE_PROJECT
    text_ = table.get(auth_kind, table["pat"])
    if kind != "repository_not_visible" and auth_kind == "job":
        return f"{text_} {ADVICE_OTHER_CREDENTIALS}"
    return text_


def summary_tips(errors: Iterable[Mapping[str, Any]], auth_kind: str) -> list[str]:
    """What to change so that the next run sees what this one could not (one tip per cause)."""
    codes = {str(e.get("code")) for e in errors}
    statuses = {e.get("status") for e in errors}
    tips: list[str] = []
    if (
        codes & {"TF200016", "TF400813"}
        or statuses & {401, 403}
        or (auth_kind != "job" and statuses & {404})
    ):
        tips.append(advice("project_not_visible", auth_kind))
    if "TF401019" in codes:
        tips.append(advice("repository_not_visible", auth_kind))
    if codes & {"retries_exhausted", "deadline"}:
        tips.append("Some requests kept failing: run again later, or raise --deadline.")
    if "outage" in codes:
        tips.append(
            "The server was unreachable for longer than outage_tolerance_s: run again when it "
            "is back, or raise --outage-tolerance."
        )
    if "not_supported" in codes:
        tips.append(
            "This server version lacks some resources: leave them out of --resources, or "
            "upgrade the server (see README: Azure DevOps Server)."
        )
    return tips
