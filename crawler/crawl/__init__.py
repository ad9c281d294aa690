"""Talking to Azure DevOps: the one HTTP client, route discovery, the fan-out over the
organization, identity and posture reads, and the second pass."""
