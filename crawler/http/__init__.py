"""The one HTTP client of a crawl: the aiohttp session, the rate ceiling, when a request
may start (pacing, shared pauses), the outage wait, retries, paging, and its counters."""
