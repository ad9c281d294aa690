"""ado-inventory: an asynchronous inventory crawler for Azure DevOps."""

from __future__ import annotations

__version__ = "0.1.0"
NAME = "ado-inventory"
