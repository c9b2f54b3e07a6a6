"""Demo tooling: local peer systems for the demo landscape and the connector tests (not product code)."""
