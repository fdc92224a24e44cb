"""Who may open the board, and with which role.

Three roles: a *coordinator* does everything; an *inspector* reads the board and records the
inspections assigned to them; a *viewer* (a leader checking on a phone) only reads. Passwords
are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended profile), so a
copied ledger does not give the passwords away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.errors import DubanError
from duban.ledger.schema import BoardUserRow
from duban.ledger.store import append_event


class Role(StrEnum):
    COORDINATOR = "coordinator"
    INSPECTOR = "inspector"
    VIEWER = "viewer"


MIN_PASSWORD = 8
"""Shorter passwords are refused: the board may be reachable from the office's network."""
NAME = re.compile(r"^[\w.@-]{1,64}$")

_hasher = PasswordHasher()
# Verifying an unknown name costs the same as a known one, so timing does not tell which exist.
_DUMMY = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    scope: tuple[str, ...] = ()

    @property
    def may_act(self) -> bool:
        """Whether this account may change anything (a viewer may not)."""
        return self.role is not Role.VIEWER

    @property
    def coordinates(self) -> bool:
        return self.role is Role.COORDINATOR


def add_user(
    session: Session,
    clock: Clock,
    name: str,
    password: str,
    role: str,
    by: str = "coordinator",
    inspectors: tuple[str, ...] = (),
) -> Account:
    """A new account; a name already taken is an error, not an overwrite. An inspector's
    account names the inspector ids (of the campaign's inspector register) it stands for."""
    checked = _role(role)
    if checked is Role.INSPECTOR and not inspectors:
        raise DubanError(
            "an inspector account needs --inspector: the inspector id(s) it stands for",
            hint="e.g. --inspector I03 (the id in the inspector register)",
            zh="督查人员账号需要 --inspector：对应督查人员名录中的编号",
            zh_hint="如 --inspector I03",
        )
    _check_name(name)
    _check_password(password)
    if session.get(BoardUserRow, name) is not None:
        raise DubanError(
            f"the board user {name!r} already exists",
            hint="`duban users passwd` changes a password; pick another name for a new account",
            zh=f"看板用户 {name!r} 已存在",
            zh_hint="改密码用 `duban users passwd`；新账号请换一个名字",
        )
    now = clock.now()
    row = BoardUserRow(
        name=name, password_hash=_hasher.hash(password), role=checked.value,
        scope=list(inspectors), active=True, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(row)
    payload = {"role": checked.value, "inspectors": list(inspectors)}
    append_event(session, clock, "board.user_added", campaign_id=None, subject=f"user:{name}",
                 actor=by, payload=payload)  # fmt: skip
    return Account(name, checked, inspectors)


def set_password(session: Session, clock: Clock, name: str, password: str, by: str) -> None:
    row = _existing(session, name)
    _check_password(password)
    row.password_hash = _hasher.hash(password)
    row.updated_at = clock.now()
    append_event(session, clock, "board.password_changed", campaign_id=None,
                 subject=f"user:{name}", actor=by)  # fmt: skip


def set_active(session: Session, clock: Clock, name: str, active: bool, by: str) -> bool:
    """Disable (or enable again) an account; returns whether anything changed."""
    row = _existing(session, name)
    if row.active == active:
        return False
    row.active = active
    row.updated_at = clock.now()
    kind = "board.user_enabled" if active else "board.user_disabled"
    append_event(session, clock, kind, campaign_id=None, subject=f"user:{name}", actor=by)
    return True


def list_users(session: Session) -> list[BoardUserRow]:
    return list(session.query(BoardUserRow).order_by(BoardUserRow.name))


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The account when the name and password match an active account, else None."""
    row = session.get(BoardUserRow, name)
    try:
        _hasher.verify(row.password_hash if row is not None else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.active:
        return None
    return Account(row.name, Role(row.role), tuple(str(s) for s in row.scope))


def account(session: Session, name: str) -> Account | None:
    """The active account of a signed-in name (a disabled account is signed out at once)."""
    row = session.get(BoardUserRow, name)
    if row is None or not row.active:
        return None
    return Account(row.name, Role(row.role), tuple(str(s) for s in row.scope))


def _existing(session: Session, name: str) -> BoardUserRow:
    row = session.get(BoardUserRow, name)
    if row is None:
        raise DubanError(
            f"no board user is called {name!r}",
            hint="`duban users list` shows the accounts",
            zh=f"没有名为 {name!r} 的看板用户",
            zh_hint="`duban users list` 列出全部账号",
        )
    return row


def _role(role: str) -> Role:
    try:
        return Role(role.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise DubanError(
            f"{role!r} is not a role", hint=f"one of: {roles}",
            zh=f"{role!r} 不是有效角色", zh_hint=f"可选：{roles}",
        ) from None  # fmt: skip


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise DubanError(
            f"{name!r} cannot be a user name",
            hint="letters, digits, '.', '_', '-' or '@', at most 64",
            zh=f"{name!r} 不能作为用户名",
            zh_hint="用字母、数字及 . _ - @，不超过 64 个字符",
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DubanError(
            f"the password is too short ({len(password)} characters)",
            hint=f"use at least {MIN_PASSWORD} characters",
            zh=f"密码太短（{len(password)} 个字符）",
            zh_hint=f"至少 {MIN_PASSWORD} 个字符",
        )
