"""The Azure Pipelines templates in config/pipelines/: every ado-inventory call they make exists,
secrets reach scripts only through env:, the schedule and failOnPartial are wired, and the
scripts, run as an agent would run them, crawl an emulated organization end to end."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from crawler.cli import COMMANDS, build_parser
from crawler.emulator import EmulatorConfig, ground_truth, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = ROOT / "config" / "pipelines"
SINGLE = PIPELINES / "inventory.yml"
MULTI = PIPELINES / "inventory-multi-org.yml"
TEMPLATES = sorted(PIPELINES.glob("*.yml"))

MACRO = re.compile(r"\$\(([A-Za-z_][\w.]*)\)")
TEMPLATE_EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
SECRET_MACRO = re.compile(r"\$\((System\.AccessToken|orgPat|ADO_INVENTORY_PAT_\w+)\)")
SECRET_ENV = {"SYSTEM_ACCESSTOKEN": "System.AccessToken", "AZURE_DEVOPS_EXT_PAT": "orgPat"}
PRINTS = re.compile(r"\b(echo|printf|printenv|env|cat|tee)\b|set -x|xtrace")
COMMAND_STARTS = {";", "&&", "||", "|", "(", "!", "if", "then", "else", "do", "while", "until"}
COMMAND_ENDS = {";", ";;", "&&", "||", "|", "&", ">", ">>", "<", ")"}


# ---------------------------------------------------------------- reading a template


def load(path: Path) -> dict[str, Any]:
    """A template as parsed YAML."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), path
    return doc


def steps(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job name, step) for every step of every job, in order."""
    for job in doc.get("jobs", []):
        for step in job.get("steps", []):
            yield str(job.get("job")), step


def script_of(step: dict[str, Any]) -> str | None:
    """The bash text of a script step (``script:`` or ``bash:``), else None."""
    text = step.get("script", step.get("bash"))
    return text if isinstance(text, str) else None


def shell_text(script: str) -> str:
    """The script as bash would see it after the agent's expansion, with placeholders."""
    script = script.replace("\\\n", " ")
    script = TEMPLATE_EXPR.sub("PARAMETER", script)
    return MACRO.sub(lambda m: "MACRO_" + m.group(1).replace(".", "_"), script)


def ado_inventory_calls(script: str) -> list[list[str]]:
    """The argument lists of every ``ado-inventory`` command in a script."""
    calls = []
    for line in shell_text(script).splitlines():
        if "ado-inventory" not in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        for k, token in enumerate(tokens):
            if token == "ado-inventory" and (k == 0 or tokens[k - 1] in COMMAND_STARTS):
                args = []
                for arg in tokens[k + 1 :]:
                    if arg in COMMAND_ENDS:
                        break
                    args.append(arg)
                calls.append(args)
    return calls


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no sub-commands")


def call_problems(args: list[str]) -> list[str]:
    """What is wrong with one ``ado-inventory ARGS`` call (empty when the CLI accepts it)."""
    parser = build_parser()
    shown = "ado-inventory " + " ".join(args)
    if not args:
        return [f"{shown}: no command"]
    if args[0].startswith("-"):
        known: set[str] = set(parser._option_string_actions)
    elif args[0] not in COMMANDS:
        return [f"{shown}: {args[0]!r} is not a command ({', '.join(COMMANDS)})"]
    else:
        known = set(_subparsers(parser)[args[0]]._option_string_actions)
    rest = args if args[0].startswith("-") else args[1:]
    problems = [
        f"{shown}: {arg.split('=')[0]} is not a flag of this command"
        for arg in rest
        if arg.startswith("-") and arg != "-" and arg.split("=")[0] not in known
    ]
    if args[0].startswith("-"):
        return problems
    # A choice given as "$VARIABLE" (a step's env:) cannot be checked here; the end-to-end
    # runs below pass real values through it.
    actions = _subparsers(parser)[args[0]]._option_string_actions
    args = [
        next(iter(actions[args[k - 1]].choices or [arg]))
        if arg.startswith("$") and k and args[k - 1] in actions and actions[args[k - 1]].choices
        else arg
        for k, arg in enumerate(args)
    ]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.suppress(SystemExit):
        parser.parse_args(args)
        return problems
    return [*problems, f"{shown}: {err.getvalue().strip().splitlines()[-1]}"]


def command_problems(doc: dict[str, Any]) -> list[str]:
    """Every ado-inventory call of every script step, checked against the real CLI."""
    found = []
    for _, step in steps(doc):
        script = script_of(step)
        for args in ado_inventory_calls(script or ""):
            found += call_problems(args)
    return found


def _strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _strings(child, (*path, str(key)))
    elif isinstance(value, list):
        for k, child in enumerate(value):
            yield from _strings(child, (*path, str(k)))
    elif isinstance(value, str):
        yield path, value


def secret_problems(doc: dict[str, Any]) -> list[str]:
    """Secrets named anywhere but a step's env: (or the matrix entry that names a PAT),
    secret env variables mapped on a step that does not crawl, or printed by a script."""
    found = []
    for path, value in _strings(doc):
        for match in SECRET_MACRO.finditer(value):
            where = ".".join(path)
            in_env = len(path) >= 2 and path[-2] == "env" and path[-1] in SECRET_ENV
            expected = SECRET_ENV.get(path[-1]) if in_env else None
            pat_in_env = expected == "orgPat" and match.group(1) == "orgPat"
            token_in_env = expected == "System.AccessToken" == match.group(1)
            in_matrix = "matrix" in path and path[-1] == "orgPat" and value == match.group(0)
            if not (pat_in_env or token_in_env or in_matrix):
                found.append(f"{where}: secret {match.group(0)} outside env:")
    for job, step in steps(doc):
        script = script_of(step) or ""
        env = step.get("env") or {}
        crawls = any(args[:1] == ["crawl"] for args in ado_inventory_calls(script))
        for name in SECRET_ENV:
            if name in env and not crawls:
                found.append(f"{job}: {step.get('displayName')}: {name} mapped but not crawling")
        for line in script.splitlines():
            secret = any(name in line for name in SECRET_ENV) or SECRET_MACRO.search(line)
            if (secret and PRINTS.search(line)) or "set -x" in line or "xtrace" in line:
                found.append(f"{job}: {step.get('displayName')}: may print a secret: {line}")
    return found


def crawl_steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps that run ``ado-inventory crawl``."""
    return [
        step
        for _, step in steps(doc)
        if any(args[:1] == ["crawl"] for args in ado_inventory_calls(script_of(step) or ""))
    ]


def schedule_problems(doc: dict[str, Any]) -> list[str]:
    """Nightly with always: true, manual runs only otherwise (trigger: none, pr: none)."""
    found = []
    schedules = doc.get("schedules") or []
    if not schedules:
        found.append("no schedules")
    for entry in schedules:
        if entry.get("always") is not True:
            found.append(f"schedule {entry.get('cron')!r} without always: true")
        if len(str(entry.get("cron", "")).split()) != 5:
            found.append(f"schedule {entry.get('cron')!r} is not a 5-field cron")
    for key in ("trigger", "pr"):
        if doc.get(key) != "none":
            found.append(f"{key}: {doc.get(key)!r} (want none)")
    return found


def fail_on_partial_problems(doc: dict[str, Any]) -> list[str]:
    """failOnPartial is a boolean parameter and a step reads it."""
    params = {p.get("name"): p for p in doc.get("parameters", [])}
    param = params.get("failOnPartial")
    if param is None:
        return ["no failOnPartial parameter"]
    found = [] if param.get("type") == "boolean" else ["failOnPartial is not boolean"]
    used = any(
        "parameters.failOnPartial" in value
        for path, value in _strings(doc.get("jobs"))
        if "env" in path or "script" in path or "condition" in path
    )
    return found if used else [*found, "failOnPartial is never used by a step"]


# ---------------------------------------------------------------- the checks, on the templates


def test_the_templates_exist() -> None:
    assert SINGLE in TEMPLATES
    assert MULTI in TEMPLATES


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_ado_inventory_call_is_accepted_by_the_cli(path: Path) -> None:
    doc = load(path)
    calls = [args for _, step in steps(doc) for args in ado_inventory_calls(script_of(step) or "")]
    assert {args[0] for args in calls} >= {"crawl", "report", "validate"}
    assert command_problems(doc) == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_secrets_reach_scripts_only_through_env(path: Path) -> None:
    doc = load(path)
    assert secret_problems(doc) == []
    crawls = crawl_steps(doc)
    assert crawls
    for step in crawls:
        env = step.get("env") or {}
        assert (
            env.get("SYSTEM_ACCESSTOKEN") == "$(System.AccessToken)"
            or env.get("AZURE_DEVOPS_EXT_PAT") == "$(orgPat)"
        ), step.get("displayName")


def test_the_single_org_template_maps_the_job_token_and_keeps_the_previous_run() -> None:
    doc = load(SINGLE)
    (crawl,) = crawl_steps(doc)
    assert crawl["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
    assert '--org "$(System.CollectionUri)"' in crawl["script"]
    tasks = {step["task"]: step for _, step in steps(doc) if "task" in step}
    download = tasks["DownloadPipelineArtifact@2"]
    assert download["continueOnError"] is True
    assert download["inputs"]["source"] == "specific"
    assert download["inputs"]["runVersion"] in ("latestFromBranch", "latest")
    assert download["inputs"]["allowPartiallySucceededBuilds"] is True
    assert (
        tasks["PublishPipelineArtifact@1"]["inputs"]["artifact"] == download["inputs"]["artifact"]
    )
    text = SINGLE.read_text(encoding="utf-8")
    for setting in (
        "Limit job authorization scope to current project for non-release pipelines",
        "Limit job authorization scope to current project for release pipelines",
        "Protect access to repositories in YAML pipelines",
        "What this token could not see",
    ):
        assert setting in text


def test_the_multi_org_template_crawls_a_matrix_then_merges() -> None:
    doc = load(MULTI)
    jobs = {job["job"]: job for job in doc["jobs"]}
    matrix = jobs["crawl"]["strategy"]["matrix"]
    assert len(matrix) >= 2
    for leg in matrix.values():
        assert SECRET_MACRO.fullmatch(leg["orgPat"])
        assert leg["orgUrl"].startswith("https://")
    merge = jobs["merge"]
    assert merge["dependsOn"] == "crawl"
    assert merge["condition"] == "succeededOrFailed()"
    calls = [
        args
        for _, s in steps({"jobs": [merge]})
        for args in ado_inventory_calls(s.get("script", ""))
    ]
    assert ["merge", "-o", "all.json"] in [args[:3] for args in calls]
    assert ["report", "all.json", "--format", "markdown", "--output", "summary.md"] in calls
    assert {"group": "ado-inventory-pats"} in doc["variables"]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_schedule_python_and_fail_on_partial(path: Path) -> None:
    doc = load(path)
    assert schedule_problems(doc) == []
    assert fail_on_partial_problems(doc) == []
    versions = [
        s["inputs"]["versionSpec"] for _, s in steps(doc) if s.get("task") == "UsePythonVersion@0"
    ]
    assert versions
    assert all(tuple(int(x) for x in v.split(".")[:2]) >= (3, 11) for v in versions)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_scripts_are_strict_bash(path: Path) -> None:
    for job, step in steps(load(path)):
        script = script_of(step)
        if script is None:
            continue
        assert script.startswith("set -euo pipefail\n"), f"{job}: {step.get('displayName')}"
        check = subprocess.run(
            ["bash", "-n"], input=shell_text(script), capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, f"{step.get('displayName')}: {check.stderr}"


# ---------------------------------------------------------------- the checks can fail


def _modified(path: Path, old: str, new: str) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    assert old in text
    return yaml.safe_load(text.replace(old, new, 1))


def test_a_flag_the_cli_does_not_have_is_caught() -> None:
    doc = _modified(SINGLE, "--format markdown --output summary.md", "--format md --sumary x")
    problems = command_problems(doc)
    assert any("--sumary is not a flag" in p for p in problems)
    assert any("invalid choice: 'md'" in p for p in problems)
    doc = _modified(MULTI, "ado-inventory merge -o", "ado-inventory merge --out")
    assert any("--out is not a flag" in p for p in command_problems(doc))


def test_a_command_the_cli_does_not_have_is_caught() -> None:
    doc = _modified(SINGLE, "ado-inventory validate inventory.json", "ado-inventory check x")
    assert command_problems(doc) == [
        f"ado-inventory check x: 'check' is not a command ({', '.join(COMMANDS)})"
    ]


def test_a_secret_on_a_command_line_is_caught() -> None:
    doc = _modified(SINGLE, "--auth job \\\n", '--auth job --token "$(System.AccessToken)" \\\n')
    assert any("secret $(System.AccessToken) outside env:" in p for p in secret_problems(doc))
    doc = _modified(MULTI, "AZURE_DEVOPS_EXT_PAT: $(orgPat)", "OTHER: $(orgPat)")
    assert secret_problems(doc) == ["jobs.0.steps.3.env.OTHER: secret $(orgPat) outside env:"]
    doc = _modified(SINGLE, 'mkdir -p "$INVENTORY_DIR"\n', 'echo "$SYSTEM_ACCESSTOKEN"\n')
    assert any("may print a secret" in p for p in secret_problems(doc))


def test_a_schedule_without_always_and_an_unused_parameter_are_caught() -> None:
    doc = _modified(SINGLE, "always: true", "always: false")
    assert schedule_problems(doc) == ["schedule '0 3 * * *' without always: true"]
    doc = _modified(SINGLE, "FAIL_ON_PARTIAL: ${{ parameters.failOnPartial }}", "X: y")
    assert fail_on_partial_problems(doc) == ["failOnPartial is never used by a step"]


# ---------------------------------------------------------------- the scripts, run as an agent


@dataclass
class Agent:
    """Runs a template's script steps like the Azure Pipelines agent, on this machine.

    Macros ``$(Name)`` and ``${{ parameters.name }}`` are expanded, pipeline variables and each
    step's env: are exported, ``##vso[task.setvariable]`` sets variables for later steps, and a
    failing step stops the job. Tasks are not run: the test plays their part.
    """

    variables: dict[str, str]
    parameters: dict[str, Any]
    output: list[str] = field(default_factory=list)

    def expand(self, text: str) -> str:
        def param(match: re.Match[str]) -> str:
            name = match.group(1).removeprefix("parameters.")
            value = self.parameters[name]
            return str(value) if not isinstance(value, bool) else ("True" if value else "False")

        text = TEMPLATE_EXPR.sub(param, text)
        for _ in range(3):  # macros may name macros
            text = MACRO.sub(lambda m: self.variables.get(m.group(1), m.group(0)), text)
        return text

    def run(self, step: dict[str, Any], doc_variables: dict[str, str]) -> int:
        env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["TF_BUILD"] = "True"
        for name, value in doc_variables.items():
            env[name.upper().replace(".", "_")] = self.expand(value)
        for name, value in (step.get("env") or {}).items():
            env[name] = self.expand(str(value))
        proc = subprocess.run(
            ["bash", "-c", self.expand(step["script"])],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        for line in proc.stdout.splitlines():
            self.output.append(line)
            found = re.match(r"##vso\[task\.setvariable variable=(\w+)\](.*)", line)
            if found:
                self.variables[found.group(1)] = found.group(2)
        self.output += proc.stderr.splitlines()
        return proc.returncode


def _doc_variables(doc: dict[str, Any]) -> dict[str, str]:
    raw = doc.get("variables") or {}
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    return {str(v["name"]): str(v["value"]) for v in raw if "name" in v}


def run_job(
    doc: dict[str, Any], job: str, agent: Agent, *, skip: tuple[str, ...] = ()
) -> dict[str, int]:
    """Run every script step of ``job`` until one fails; display name -> exit status."""
    codes: dict[str, int] = {}
    for name, step in steps(doc):
        if name != job or script_of(step) is None or step.get("displayName") in skip:
            continue
        code = agent.run(step, _doc_variables(doc))
        codes[str(step.get("displayName"))] = code
        if code != 0:
            break
    return codes


def _agent(tmp: Path, url: str, token: str, **parameters: Any) -> Agent:
    params = {
        "failOnPartial": False,
        "resources": "projects,repositories,pipelines",
        "failOnFindings": "none",
    }
    params.update(installFrom="checkout", packageSpec="ado-inventory", **parameters)
    variables = {
        "System.CollectionUri": url + "/",
        "System.AccessToken": token,
        "Build.ArtifactStagingDirectory": str(tmp / "a"),
        "Pipeline.Workspace": str(tmp),
        "Build.SourcesDirectory": str(ROOT),
    }
    return Agent(variables, params)


INSTALL = ("Install ado-inventory",)
SMALL = {"org": "fabrikam", "seed": 5, "projects": 3, "repos_per_project": 3}


def test_single_org_scripts_crawl_diff_and_report(tmp_path: Path) -> None:
    doc = load(SINGLE)
    first, second = tmp_path / "first", tmp_path / "second"
    with serve_in_thread(EmulatorConfig(**SMALL)) as emu:  # type: ignore[arg-type]
        agent = _agent(first, emu.url, emu.config.token)
        codes = run_job(doc, "inventory", agent, skip=INSTALL)
        port = emu.port  # the next night serves the same URLs
    assert set(codes.values()) == {0}, agent.output
    out = first / "a" / "inventory"
    assert "No previous inventory" in (out / "diff.md").read_text()
    assert sorted(p.name for p in (out / "csv").iterdir())
    assert (out / "inventory.html").read_text().startswith("<!DOCTYPE html>")
    exported = sorted(p.name for p in (out / "export").iterdir())
    assert exported == [
        "pipelines.ndjson",
        "projects.ndjson",
        "repositories.ndjson",
        "snapshot.json",
    ]
    assert f"##vso[task.uploadsummary]{out}/summary.md" in agent.output
    assert f"##vso[task.uploadsummary]{out}/audit.md" in agent.output
    assert (out / "audit.md").read_text().startswith("# Security audit: fabrikam")
    assert orjson.loads((out / "audit.sarif").read_bytes())["version"] == "2.1.0"
    assert "The inventory is complete." in agent.output
    assert "The audit found nothing at or above failOnFindings=none." in agent.output
    assert "# Azure DevOps inventory: fabrikam" in (out / "summary.md").read_text()

    # The next night: one repository renamed; the previous artifact is downloaded first.
    (second / "previous-inventory").mkdir(parents=True)
    shutil.copy(out / "inventory.json", second / "previous-inventory" / "inventory.json")
    renamed = EmulatorConfig(**SMALL, mutations=("rename-repo:1:2:moved-repo",))  # type: ignore[arg-type]
    with serve_in_thread(renamed, port=port) as emu:
        agent = _agent(second, emu.url, emu.config.token)
        codes = run_job(doc, "inventory", agent, skip=INSTALL)
    assert set(codes.values()) == {0}, agent.output
    out = second / "a" / "inventory"
    diff = orjson.loads((out / "diff.json").read_bytes())
    assert diff["summary"]["renamed"] == 1
    assert [i["name"] for i in diff["items"]] == ["moved-repo"]
    assert "moved-repo" in (out / "diff.md").read_text()
    assert f"##vso[task.uploadsummary]{out}/diff.md" in agent.output


def test_the_next_night_partial_says_what_it_did_not_compare(tmp_path: Path) -> None:
    doc = load(SINGLE)
    names = [p["name"] for p in ground_truth(EmulatorConfig(**SMALL), "http://x/y")["projects"]]  # type: ignore[arg-type]
    first, second = tmp_path / "first", tmp_path / "second"
    with serve_in_thread(EmulatorConfig(**SMALL)) as emu:  # type: ignore[arg-type]
        assert set(
            run_job(
                doc, "inventory", _agent(first, emu.url, emu.config.token), skip=INSTALL
            ).values()
        ) == {0}
        port = emu.port
    (second / "previous-inventory").mkdir(parents=True)
    shutil.copy(first / "a" / "inventory" / "inventory.json", second / "previous-inventory")
    scoped = EmulatorConfig(**SMALL, scoped_project=names[0])  # type: ignore[arg-type]
    with serve_in_thread(scoped, port=port) as emu:
        agent = _agent(second, emu.url, emu.config.token)
        run_job(doc, "inventory", agent, skip=INSTALL)
    out = second / "a" / "inventory"
    diff = orjson.loads((out / "diff.json").read_bytes())
    assert (diff["summary"]["added"], diff["summary"]["removed"]) == (0, 0)
    assert {n["project"]["name"] for n in diff["not_compared"]} == set(names[1:])
    summary = (out / "diff.md").read_text()
    assert "## Not compared" in summary
    assert f"##vso[task.uploadsummary]{out}/diff.md" in agent.output
    assert any("the diff did not compare them" in line for line in agent.output)


@pytest.mark.parametrize("fail_on_partial", [False, True])
def test_a_partial_crawl_warns_or_fails_by_fail_on_partial(
    tmp_path: Path, fail_on_partial: bool
) -> None:
    doc = load(SINGLE)
    truth = ground_truth(EmulatorConfig(**SMALL), "http://127.0.0.1/fabrikam")  # type: ignore[arg-type]
    names = [p["name"] for p in truth["projects"]]
    scoped = EmulatorConfig(**SMALL, scoped_project=names[0])  # type: ignore[arg-type]
    with serve_in_thread(scoped) as emu:
        agent = _agent(tmp_path, emu.url, emu.config.token, failOnPartial=fail_on_partial)
        codes = run_job(doc, "inventory", agent, skip=INSTALL)
    verdict = next(name for name in codes if name.startswith("Complete or partial"))
    assert agent.variables["crawlExit"] == "4"
    summary = (tmp_path / "a" / "inventory" / "summary.md").read_text()
    assert "What this token could not see" in summary
    assert "Limit job authorization scope to current project" in summary
    for other in names[1:]:
        assert other in summary
    warnings = [line for line in agent.output if line.startswith("##vso[task.logissue")]
    assert any("some scopes were not visible" in line for line in warnings)
    if fail_on_partial:
        assert codes[verdict] == 4
        assert warnings[-1].startswith("##vso[task.logissue type=error]")
        assert not any(line.startswith("##vso[task.complete") for line in agent.output)
    else:
        assert codes[verdict] == 0
        assert "##vso[task.complete result=SucceededWithIssues;]partial inventory" in agent.output


def test_a_missing_token_fails_the_crawl_step(tmp_path: Path) -> None:
    doc = load(SINGLE)
    with serve_in_thread(EmulatorConfig(**SMALL)) as emu:  # type: ignore[arg-type]
        agent = _agent(tmp_path, emu.url, "")
        agent.variables.pop("System.AccessToken")  # unmapped: the macro stays unexpanded
        codes = run_job(doc, "inventory", agent, skip=INSTALL)
    assert codes["Crawl the organization"] == 2
    assert "Diff against the previous inventory" not in codes
    assert agent.variables["crawlExit"] == "2"
    assert any("SYSTEM_ACCESSTOKEN: $(System.AccessToken)" in line for line in agent.output)
    assert not (tmp_path / "a" / "inventory" / "inventory.json").exists()


def test_multi_org_crawl_stops_when_the_pat_is_not_defined(tmp_path: Path) -> None:
    agent = _agent(tmp_path, "http://127.0.0.1:9/none", "")
    agent.variables.update(orgName="contoso", orgUrl="http://127.0.0.1:9/none")
    agent.variables["orgPat"] = "$(ADO_INVENTORY_PAT_CONTOSO)"  # not in the variable group
    codes = run_job(load(MULTI), "crawl", agent, skip=INSTALL)
    assert list(codes.values()) == [3]
    assert agent.output[0].startswith("##vso[task.logissue type=error]No PAT for contoso:")
    assert "crawlExit" not in agent.variables


def test_multi_org_scripts_crawl_each_org_then_merge(tmp_path: Path) -> None:
    doc = load(MULTI)
    workspace = tmp_path / "merge"
    merged_dir = workspace / "organizations"
    for name, seed in (("contoso", 3), ("fabrikam", 4)):
        config = EmulatorConfig(org=name, seed=seed, projects=2, repos_per_project=2)
        leg = tmp_path / name
        with serve_in_thread(config) as emu:
            agent = _agent(leg, emu.url, "")
            agent.variables.update(
                orgName=name, orgUrl=emu.url, orgPat=config.token, crawlExit="unset"
            )
            codes = run_job(doc, "crawl", agent, skip=INSTALL)
        assert set(codes.values()) == {0}, agent.output
        snapshot = orjson.loads((leg / "a" / "inventory" / "inventory.json").read_bytes())
        assert snapshot["auth"] == {"kind": "pat"}
        assert snapshot["complete"] is True
        (merged_dir / f"inventory-{name}").mkdir(parents=True)
        shutil.copy(leg / "a" / "inventory" / "inventory.json", merged_dir / f"inventory-{name}")
    agent = _agent(workspace, "http://unused", "")
    codes = run_job(doc, "merge", agent, skip=INSTALL)
    assert set(codes.values()) == {0}, agent.output
    out = workspace / "a" / "inventory"
    merged = orjson.loads((out / "all.json").read_bytes())
    assert [o["name"] for o in merged["organizations"]] == ["contoso", "fabrikam"]
    assert "# Azure DevOps inventory: 2 organizations" in (out / "summary.md").read_text()
    assert (out / "audit.md").read_text().startswith("# Security audit: contoso, fabrikam")


def test_fail_on_findings_fails_the_last_step(tmp_path: Path) -> None:
    doc = load(SINGLE)
    skip = (*INSTALL, "Diff against the previous inventory", "Reports and run summary")
    with serve_in_thread(EmulatorConfig(**SMALL)) as emu:  # type: ignore[arg-type]
        agent = _agent(tmp_path, emu.url, emu.config.token, failOnFindings="high")
        agent.parameters["resources"] = "pipeline_settings"  # the seed plants high findings
        codes = run_job(doc, "inventory", agent, skip=skip)
    step = next(name for name in codes if name.startswith("Audit verdict"))
    assert codes[step] == 1, agent.output
    assert agent.variables["auditExit"] == "1"
    assert (tmp_path / "a" / "inventory" / "audit.sarif").is_file()
    assert any("##vso[task.logissue type=error]The audit found" in o for o in agent.output)
