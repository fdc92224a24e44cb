"""The ledger's tables (SQLAlchemy 2 declarative). Migrations in ``migrations/`` create them.

Rows are never deleted: a unit leaving the roster becomes inactive, a duty no longer owed is
withdrawn, and the event log is append-only (database triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from duban.ledger.types import JSONValue, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # SQLAlchemy reads this class attribute once, at mapping time; nothing mutates it.
    type_annotation_map = {  # noqa: RUF012
        dict[str, Any]: JSONValue,
        list[Any]: JSONValue,
        datetime: UTCDateTime,
    }


class CampaignRow(Base):
    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]]
    definition_sha256: Mapped[str] = mapped_column(String(64))
    roster_sha256: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UnitRow(Base):
    __tablename__ = "units"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    tags: Mapped[list[Any]]
    emails: Mapped[list[Any]]
    head_email: Mapped[str | None] = mapped_column(String(254))
    supervisor_email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class InstanceRow(Base):
    """One unit's duty for one deliverable in one period (deliverable instance)."""

    __tablename__ = "deliverable_instances"
    __table_args__ = (
        UniqueConstraint("campaign_id", "deliverable_id", "unit_id", "period"),
        ForeignKeyConstraint(["campaign_id", "unit_id"], ["units.campaign_id", "units.id"]),
    )
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    deliverable_id: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime]
    extended_to: Mapped[datetime | None]
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def effective_due(self) -> datetime:
        """The due time that counts: an extension's, else the calendar's."""
        return self.extended_to or self.due_at


class MessageRow(Base):
    """An outgoing message: recorded as an intent before sending, marked after."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("deliverable_instances.id"))
    kind: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    refused: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


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
    unit_id: Mapped[str | None] = mapped_column(String(64))
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


class RectificationRow(Base):
    """A finding and its measure, tracked to closure (整改台账 / 销号)."""

    __tablename__ = "rectification_items"
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    source: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    finding: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100))
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[datetime | None]


class ScoreRow(Base):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "source", "period"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]


class EventRow(Base):
    """The append-only audit trail (留痕): who did what, when, to which thing."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_campaign_at", "campaign_id", "at"),)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
