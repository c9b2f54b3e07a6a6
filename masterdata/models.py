"""Golden records and source records arrive with the master-data work (issue 3)."""
