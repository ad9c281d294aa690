"""``ado-inventory audit``: the pipeline security posture of a snapshot, as findings.

``rules`` is the table (what each rule reads, decides and advises), ``engine`` runs it over the
report model and says what it could not assess, ``render`` and ``sarif`` write text, Markdown,
JSON and SARIF 2.1.0. Pure: an audit reads a snapshot and makes no request.
"""
