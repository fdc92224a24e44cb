"""What units send: every received message (intake records), every file in it (intake files),
and the accepted workbooks (submissions, versioned per duty).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import ID, Base


class IntakeRow(Base):
    """Every message or file received, whatever became of it (收件记录).

    ``status``: received (stored, not yet decided), then accepted, rejected, held,
    quarantined, duplicate or ignored (an automatic reply), with a reason for all but accepted;
    a held message the coordinator reviewed becomes attached (to ``unit_id``, as
    correspondence) or dismissed.
    """

    __tablename__ = "intake_records"
    __table_args__ = (UniqueConstraint("source", "source_ref"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"))
    source: Mapped[str] = mapped_column(String(255))
    source_ref: Mapped[str] = mapped_column(String(255))
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    sender: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    """The Message-ID the message answers: a notice's or reminder's links it to that duty."""
    unit_id: Mapped[str | None] = mapped_column(String(64))
    """The unit a held message was attached to by the coordinator's review."""
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class IntakeFileRow(Base):
    """One file found in a received message (or dropped in the folder), whatever became of it.

    ``outcome``: received (not decided yet), accepted, rejected, held, quarantined, duplicate,
    ignored; a held file the coordinator reviewed becomes accepted, rejected or dismissed.
    ``index`` is its place in the message, so a rerun after a crash finds the row again.
    """

    __tablename__ = "intake_files"
    __table_args__ = (UniqueConstraint("intake_id", "index"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intake_records.id"))
    index: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[list[Any]] = mapped_column(default=list)
    # A unit's page lists the files claiming to be from it (a template sent from a stranger's
    # address names its unit on the file only).
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("deliverable_instances.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[list[Any]] = mapped_column(default=list)


class SubmissionRow(Base):
    """An accepted workbook (报送); a later version replaces an earlier one, history is kept."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("instance_id", "version"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("deliverable_instances.id"))
    version: Mapped[int] = mapped_column(Integer)
    intake_file_id: Mapped[int | None] = mapped_column(ForeignKey("intake_files.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    on_time: Mapped[bool] = mapped_column(Boolean)
    row_count: Mapped[int] = mapped_column(Integer)
    rows: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The validated rows per sheet key, as JSON (dates ISO, decimals as text), for compiling."""
