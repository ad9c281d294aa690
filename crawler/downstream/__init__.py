"""Reading snapshots: diff, merge, export, the reports and the audit."""
