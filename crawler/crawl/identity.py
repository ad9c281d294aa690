"""Who the token is: the one ``GET {org}/_apis/connectionData`` request of a run.

What the answer means (the snapshot's ``identity``, the summary's sentence) is decided without
I/O in :mod:`crawler.protocol.identity`.
"""

from __future__ import annotations

from typing import Any

from crawler.http.client import AdoClient
from crawler.protocol.ado import build_url
from crawler.protocol.identity import CONNECTION_DATA_PATH, CONNECTION_DATA_VERSION


async def fetch_connection_data(
    client: AdoClient, base_url: str, api_version: str | None = None
) -> Any:
    """``GET {org}/_apis/connectionData``: the raw answer (raises :class:`AdoError`).

    ``api_version`` is the one route discovery negotiated (``5.0-preview.1`` on Server 2019).
    """
    query = {"api-version": api_version or CONNECTION_DATA_VERSION}
    url = build_url(base_url, CONNECTION_DATA_PATH, query)
    outcome = await client.get(url)
    return outcome.data
