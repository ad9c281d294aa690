"""The exception tree, and the exit code each kind of failure maps to.

::

    CrawlerError                 base; carries the process exit code
    ├── UsageError               bad flags, config or input (exit 2)
    ├── AuthError                the credential was refused or sees nothing (exit 3)
    ├── Interrupted              SIGINT / SIGTERM (exit 130)
    └── AdoError                 one request to Azure DevOps failed (status, url, TF code)
        ├── NotVisible           401/403/404: the token cannot read this scope
        ├── RateLimited          429 that outlived the retry budget
        ├── ServerError          5xx that outlived the retry budget
        ├── TransportError       connection errors and timeouts past the retry budget
        └── ProtocolError        a response we cannot trust (bad JSON, looping token, page cap)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_PARTIAL = 4
EXIT_INTERRUPTED = 130


class CrawlerError(Exception):
    """Base of every error the crawler reports to its user."""

    exit_code = EXIT_FAILURE


class UsageError(CrawlerError):
    """Bad command-line flags, configuration, or input files."""

    exit_code = EXIT_USAGE


class AuthError(CrawlerError):
    """The credential is missing, refused, or sees nothing at all."""

    exit_code = EXIT_AUTH


class Interrupted(CrawlerError):
    """The run was cancelled by SIGINT or SIGTERM."""

    exit_code = EXIT_INTERRUPTED


class AdoError(CrawlerError):
    """A request to Azure DevOps failed for good (after any retries)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str = "",
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.url = url
        self.code = code


class NotVisible(AdoError):
    """401, 403 or 404: the token cannot read this scope (not the same as absent)."""


class RateLimited(AdoError):
    """Throttled (429) past the retry budget or the deadline."""


class ServerError(AdoError):
    """A 5xx answer past the retry budget or the deadline."""


class TransportError(AdoError):
    """Connection failures and timeouts past the retry budget or the deadline."""


class ProtocolError(AdoError):
    """A response the crawler cannot trust: bad JSON, a looping token, too many pages."""
