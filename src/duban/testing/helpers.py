"""Helpers for testing duban and code built on it, shipped with the package.

``temporary_postgres_database`` gives each test a database of its own on a real server;
``copy_campaign`` copies a campaign folder so a test can break one field of it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
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
    from duban.model.loader import CampaignLoader

    data = yaml.load(path.read_text(encoding="utf-8"), Loader=CampaignLoader)
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def fill_workbook(data: bytes, sheet: str, rows: Sequence[Sequence[object]]) -> bytes:
    """Fill a duban template as a unit would (openpyxl, like Excel keeps the rest as it is)."""
    import io

    from openpyxl import load_workbook

    from duban.model.forms import FIRST_DATA_ROW

    book = load_workbook(io.BytesIO(data))
    ws = book[sheet]
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            ws.cell(FIRST_DATA_ROW + offset, column, value)  # type: ignore[call-overload]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def reply_to_notice(
    notice: EmailMessage,
    sender: str,
    attachments: Sequence[tuple[str, bytes]],
    *,
    text: str = "请查收。",
    when: datetime | None = None,
) -> bytes:
    """A unit's reply to a notice: Re: subject, In-Reply-To, the files attached."""
    from email.message import EmailMessage as Message
    from email.utils import format_datetime, make_msgid

    reply = Message()
    reply["From"] = sender
    reply["To"] = str(notice["Reply-To"] or notice["From"])
    reply["Subject"] = f"回复：{notice['Subject']}"
    reply["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    if when is not None:
        reply["Date"] = format_datetime(when)
    if notice["Message-ID"]:
        reply["In-Reply-To"] = notice["Message-ID"]
    reply.set_content(text)
    for name, content in attachments:
        reply.add_attachment(content, maintype="application", subtype="octet-stream", filename=name)
    return reply.as_bytes()


def attachment_of(message: EmailMessage) -> tuple[str, bytes]:
    """The first attachment of a message: its decoded name and bytes."""
    part = next(iter(message.iter_attachments()))
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return part.get_filename() or "attachment", payload
