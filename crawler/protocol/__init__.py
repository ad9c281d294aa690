"""What Azure DevOps is, without I/O: URLs, responses, throttling and outage decisions,
route tables, the resource registry, the error tree and the access advice."""
