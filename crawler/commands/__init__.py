"""Sub-commands of the ado-inventory command line."""
