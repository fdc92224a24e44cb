"""The board's accounts: who may open the web board and with which role.

Passwords are kept only as argon2 hashes. An account is never deleted (the event log names its
user), only disabled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from duban.ledger.schema.base import Base


class BoardUserRow(Base):
    __tablename__ = "board_users"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # The inspection rounds (or inspector ids) an inspector account is limited to.
    scope: Mapped[list[Any]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
