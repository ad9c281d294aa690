"""The audit's rules as data: one table of id, title, severity, what each reads, its decision
(a small pure function returning the evidence, or None for a pass), remedy and the equivalent
controls in PSRule.Rules.AzureDevOps and Microsoft's ADOScanner.

Families say how the engine feeds a decision: ``settings`` gets a project's
``pipeline_settings`` item; ``permissions`` one ``pipeline_permissions`` item of the rule's
resource type; ``checks`` a listed resource and the check configurations on it; ``item`` one
item of the rule's subject resource; ``policy`` a repository and its project's policies;
``stale`` a pipeline and the snapshot's own ``finished_at``. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from crawler.downstream.audit.decide import (
    Evidence,
    badges_public,
    endpoint_shared,
    fork_builds_unprotected,
    open_to_all,
    production_without_approval,
    secrets_outside_key_vault,
    setting_off,
    stale,
    unprotected,
    without_checks,
)
from crawler.downstream.report.model import STALE_DAYS
from crawler.protocol.advice import JOB_SCOPE_SETTING, PIPELINE_SETTINGS_UI, REPO_SCOPE_SETTING

Severity = Literal["low", "medium", "high"]
Family = Literal["settings", "permissions", "checks", "item", "policy", "stale"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high")
PSRULE = "PSRule.Rules.AzureDevOps"
ADOSCANNER = "ADOScanner"


@dataclass(frozen=True, slots=True)
class Rule:
    """One audit rule."""

    id: str
    title: str
    severity: Severity
    family: Family
    subject: str  # what a finding names: "project" or a snapshot resource key
    reads: tuple[str, ...]  # snapshot keys the decision needs (requested and read)
    decide: Callable[..., Evidence | None]
    remedy: str
    see_also: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    resource_type: str = ""  # pipeline resource type (endpoint, queue, ...) for permissions/checks


# -- the table ----------------------------------------------------------------------------------

_SETTINGS = f"Project settings > Pipelines > Settings ({PIPELINE_SETTINGS_UI})"
_APPROVALS = "Approvals and checks"


def _open_rule(kind: str, subject: str, label: str, severity: Severity, ui: str, ado: str) -> Rule:
    return Rule(
        id=f"{kind}-open-to-all-pipelines".replace("variablegroup", "variable-group").replace(
            "securefile", "secure-file"
        ),
        title=f"{label} authorized for all pipelines",
        severity=severity,
        family="permissions",
        subject=subject,
        reads=("pipeline_permissions", subject),
        decide=open_to_all,
        remedy=(
            f"{ui} > Security (or More actions > Security) > Pipeline permissions: turn off "
            "open access and authorize only the pipelines that need it."
        ),
        see_also={ADOSCANNER: (ado,)},
        resource_type=kind,
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "job-scope-not-limited",
        "Job authorization scope not limited to the project (non-release pipelines)",
        "high",
        "settings",
        "project",
        ("pipeline_settings",),
        setting_off("enforceJobAuthScope"),
        f"Turn on '{JOB_SCOPE_SETTING} for non-release pipelines' in {_SETTINGS}.",
        {
            PSRULE: ("Azure.DevOps.Pipelines.Settings.LimitJobAuthorizationScope",),
            ADOSCANNER: ("ADO_Project_AuthZ_Limit_Non_Release_Pipeline_Scope",),
        },
    ),
    Rule(
        "job-scope-not-limited-releases",
        "Job authorization scope not limited to the project (release pipelines)",
        "high",
        "settings",
        "project",
        ("pipeline_settings",),
        setting_off("enforceJobAuthScopeForReleases"),
        f"Turn on '{JOB_SCOPE_SETTING} for release pipelines' in {_SETTINGS}.",
        {
            PSRULE: (
                "Azure.DevOps.Pipelines.Settings.LimitJobAuthorizationScopeForReleasePipelines",
            ),
            ADOSCANNER: ("ADO_Project_AuthZ_Limit_Release_Pipeline_Scope",),
        },
    ),
    Rule(
        "referenced-repos-not-enforced",
        "Job token not limited to the repositories a pipeline references",
        "medium",
        "settings",
        "project",
        ("pipeline_settings",),
        setting_off("enforceReferencedRepoScopedToken"),
        f"Turn on '{REPO_SCOPE_SETTING}' in {_SETTINGS}.",
        {
            PSRULE: ("Azure.DevOps.Pipelines.Settings.LimitJobAuthorizationScopeForYamlPipelines",),
            ADOSCANNER: ("ADO_Project_AuthZ_Limit_Pipeline_Scope_To_Referenced_Repos",),
        },
    ),
    Rule(
        "settable-variables-not-enforced",
        "Queue-time variables not limited to those marked settable",
        "medium",
        "settings",
        "project",
        ("pipeline_settings",),
        setting_off("enforceSettableVar"),
        f"Turn on 'Limit variables that can be set at queue time' in {_SETTINGS}.",
        {
            PSRULE: ("Azure.DevOps.Pipelines.Settings.LimitSetVariablesAtQueueTime",),
            ADOSCANNER: ("ADO_Project_SI_Limit_Variables_Settable_At_Queue_Time",),
        },
    ),
    Rule(
        "fork-builds-unprotected",
        "Pull requests from forks build with secrets or without a job-scoped token",
        "high",
        "settings",
        "project",
        ("pipeline_settings",),
        fork_builds_unprotected,
        "Under 'Triggers' (Project settings > Pipelines > Settings, or the organization's): keep "
        "'Build pull requests from forked repositories' off, or turn on 'Prevent giving secrets "
        "to forked builds' and 'Limit job authorization scope for forked builds'.",
        {
            PSRULE: ("Azure.DevOps.Pipelines.Settings.RestrictSecretsForPullRequestFromFork",),
            ADOSCANNER: ("ADO_Build_DP_Dont_Make_Secrets_Available_To_Forked_Builds",),
        },
    ),
    Rule(
        "status-badges-public",
        "Pipeline status badges readable anonymously",
        "low",
        "settings",
        "project",
        ("pipeline_settings",),
        badges_public,
        f"Turn on 'Disable anonymous access to badges' in {_SETTINGS}.",
        {
            PSRULE: ("Azure.DevOps.Pipelines.Settings.StatusBadgesPrivate",),
            ADOSCANNER: ("ADO_Project_DP_Disable_Anonymous_Access_To_Badges",),
        },
    ),
    _open_rule(
        "endpoint",
        "service_endpoints",
        "Service connection",
        "high",
        "Project settings > Service connections > the connection",
        "ADO_ServiceConnection_AuthZ_Dont_Grant_All_Pipelines_Access",
    ),
    _open_rule(
        "variablegroup",
        "variable_groups",
        "Variable group",
        "medium",
        "Pipelines > Library > the variable group",
        "ADO_VariableGroup_AuthZ_Dont_Grant_All_Pipelines_Access_On_VG_With_Secrets",
    ),
    _open_rule(
        "securefile",
        "secure_files",
        "Secure file",
        "medium",
        "Pipelines > Library > Secure files > the file",
        "ADO_SecureFile_AuthZ_Dont_Grant_All_Pipelines_Access",
    ),
    _open_rule(
        "environment",
        "environments",
        "Environment",
        "medium",
        "Pipelines > Environments > the environment",
        "ADO_Environment_AuthZ_Dont_Grant_All_Pipelines_Access",
    ),
    _open_rule(
        "repository",
        "repositories",
        "Repository",
        "medium",
        "Project settings > Repositories > the repository",
        "ADO_Repository_AuthZ_Dont_Grant_All_Pipelines_Access",
    ),
    _open_rule(
        "queue",
        "queues",
        "Agent queue",
        "low",
        "Project settings > Agent pools > the pool",
        "ADO_AgentPool_AuthZ_Dont_Grant_All_Pipelines_Access",
    ),
    Rule(
        "production-environment-without-approval",
        "Production-like environment without an approval",
        "high",
        "checks",
        "environments",
        ("checks", "environments"),
        production_without_approval,
        f"Pipelines > Environments > the environment > {_APPROVALS}: add an Approvals check "
        "with at least one approver other than the person who queues the run.",
        {
            PSRULE: ("Azure.DevOps.Pipelines.Environments.ProductionHumanApproval",),
            ADOSCANNER: ("ADO_Environment_AuthZ_Enable_PreDeployment_Approval",),
        },
        resource_type="environment",
    ),
    Rule(
        "endpoint-without-checks",
        "Service connection without any approval or check",
        "medium",
        "checks",
        "service_endpoints",
        ("checks", "service_endpoints"),
        without_checks,
        f"Project settings > Service connections > the connection > {_APPROVALS}: add an "
        "Approvals or Branch control check.",
        {
            PSRULE: ("Azure.DevOps.ServiceConnections.ProductionCheckProtection",),
            ADOSCANNER: ("ADO_ServiceConnection_AuthZ_Enable_Branch_Control",),
        },
        resource_type="endpoint",
    ),
    Rule(
        "variable-group-secrets-outside-key-vault",
        "Variable group holds secrets outside Azure Key Vault",
        "medium",
        "item",
        "variable_groups",
        ("variable_groups",),
        secrets_outside_key_vault,
        "Pipelines > Library > the variable group: link it to an Azure Key Vault ('Link secrets "
        "from an Azure key vault as variables') and move the secret values there.",
        {
            PSRULE: ("Azure.DevOps.Tasks.VariableGroup.NoKeyVaultNoSecrets",),
            ADOSCANNER: ("ADO_VariableGroup_DP_Store_Secrets_In_KeyVault",),
        },
    ),
    Rule(
        "repository-unprotected",
        "Default branch without a required-reviewer or build-validation policy",
        "medium",
        "policy",
        "repositories",
        ("policies", "repositories"),
        unprotected,
        "Project settings > Repositories > the repository > Policies > the default branch: "
        "require a minimum number of reviewers or a build validation (enabled, blocking).",
        {
            PSRULE: ("Azure.DevOps.Repos.HasDefaultBranchPolicy",),
            ADOSCANNER: ("ADO_Build_DP_Verify_Default_Branch",),
        },
    ),
    Rule(
        "pipeline-stale",
        f"Pipeline not run for {STALE_DAYS} days",
        "low",
        "stale",
        "pipelines",
        ("pipelines",),
        stale,
        "Delete or disable the pipeline if nobody needs it (Pipelines > the pipeline > ... > "
        "Delete); a disabled pipeline's permissions still apply.",
        {ADOSCANNER: ("ADO_Build_DP_Review_Inactive_Build",)},
    ),
    Rule(
        "endpoint-shared",
        "Service connection shared across projects",
        "medium",
        "item",
        "service_endpoints",
        ("service_endpoints",),
        endpoint_shared,
        "Project settings > Service connections > the connection > Security > Project "
        "permissions: share it only with the projects that need it, or create one per project.",
        {ADOSCANNER: ("ADO_ServiceConnection_SI_Dont_Share_Across_Projects",)},
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def at_least(severity: str, threshold: str) -> bool:
    """True when ``severity`` is at or above ``threshold`` ('none' is above everything)."""
    if threshold == "none":
        return False
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
