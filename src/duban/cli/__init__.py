"""``duban``: the coordinator's command line (``app``) and the tables it prints (``tables``)."""

from duban.cli.app import app, main

__all__ = ["app", "main"]
