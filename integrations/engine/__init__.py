"""The sync engine: mapping, the pipeline steps, retries and the sweeper (docs/architecture.md)."""
