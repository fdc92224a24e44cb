"""Helpers for testing duban and code built on it, shipped with the package.

``temporary_postgres_database`` gives each test a database of its own on a real server;
``copy_campaign`` copies a campaign folder so a test can break one field of it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def temporary_postgres_database(admin_url: str = DEFAULT_POSTGRES_ADMIN_URL) -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it afterwards."""
    import psycopg  # a test-time import: SQLite-only users need no server

    name = f"duban_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_campaign(source: Path, target: Path) -> Path:
    """Copy the folder holding ``source`` (campaign file, roster) and return the copy's file."""
    shutil.copytree(source.parent, target, dirs_exist_ok=True)
    return target / source.name


def edit_campaign(path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """Load the YAML at ``path``, let ``change`` edit it in place, write it back."""
    from .loader import CampaignLoader

    data = yaml.load(path.read_text(encoding="utf-8"), Loader=CampaignLoader)
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
