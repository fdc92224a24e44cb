"""Prefect tasks: thin adapters that do I/O (mail, files, the ledger) for a batch of units."""
