"""The seeded repository and build activity: the newest commit of each repository and the latest
builds of each definition."""

from __future__ import annotations

from crawler.emulator.model import Org
from crawler.emulator.projects import Repository
from crawler.emulator.seeded import PEOPLE, JsonDict, draw_date, planted_secret, stable_rng

_BUILD_RESULTS = ("succeeded", "succeeded", "succeeded", "failed", "partiallySucceeded", "canceled")


def last_commits(org: Org, repo: Repository, base: str) -> list[JsonDict]:
    """``commits?searchCriteria.$top=1``: the newest commit of the default branch ([] if empty)."""
    if repo.empty:
        return []
    project = org.project(repo.project)
    rng = stable_rng(org.seed, "commit", repo.project, repo.index)
    sha = f"{rng.getrandbits(160):040x}"
    name, email = PEOPLE[rng.randrange(len(PEOPLE))]
    when = draw_date(rng, 0, 2000)
    person = {"name": name, "email": email, "date": when}
    return [
        {
            "commitId": sha,
            "author": person,
            "committer": dict(person),
            "comment": planted_secret(org.config, f"commit-{repo.id}") or "Merge pull request 42",
            "changeCounts": {"Add": rng.randrange(5), "Edit": rng.randrange(9), "Delete": 0},
            "url": f"{base}/{project.id}/_apis/git/repositories/{repo.id}/commits/{sha}",
            "remoteUrl": f"{base}/{project.id}/_git/{repo.id}/commit/{sha}",
        }
    ]


def latest_builds(org: Org, p: int, i: int, base: str) -> JsonDict:
    """``latestBuild``/``latestCompletedBuild`` of definition ``i`` ({} when never built)."""
    rng = stable_rng(org.seed, "latest-build", p, i)
    if rng.random() < 0.2:
        return {}
    project = org.project(p)
    did = org.definition_id(p, i)

    def build(n: int, running: bool) -> JsonDict:
        queued = draw_date(rng, 0, 2000)
        out: JsonDict = {
            "id": did * 1000 + n,
            "buildNumber": f"{queued[:10].replace('-', '')}.{n}",
            "status": "inProgress" if running else "completed",
            "queueTime": queued,
            "startTime": queued,
            "sourceBranch": "refs/heads/main",
            "url": f"{base}/{project.id}/_apis/build/Builds/{did * 1000 + n}",
        }
        if not running:
            out["result"] = rng.choice(_BUILD_RESULTS)
            out["finishTime"] = queued
        return out

    number = rng.randrange(2, 500)
    if rng.random() < 0.15:
        return {
            "latestBuild": build(number, True),
            "latestCompletedBuild": build(number - 1, False),
        }
    done = build(number, False)
    return {"latestBuild": done, "latestCompletedBuild": dict(done)}


def with_latest_builds(org: Org, definitions: list[JsonDict], base: str) -> list[JsonDict]:
    """Full definitions as ``includeLatestBuilds=true`` returns them."""
    out = []
    for item in definitions:
        p = org.find_project(str(item["project"]["id"]))
        assert p is not None
        i = next(
            k
            for k in range(org.config.pipelines_per_project)
            if org.definition_id(p.index, k) == item["id"]
        )
        out.append(item | latest_builds(org, p.index, i, base))
    return out
