"""Prefect flows: orchestration only. Each flow batches units into a few tasks and leaves the
decisions to the ``duban`` package."""
