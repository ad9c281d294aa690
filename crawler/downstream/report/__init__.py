"""Reports on one snapshot (single- or multi-organization): Markdown, CSV and HTML renderers.

``findings`` holds the audit logic every format shares; ``model`` the normalized view of a file.
"""
