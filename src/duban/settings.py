"""One settings object, built once at the start of a run from ``DUBAN_*`` variables.

Nothing else in duban reads the environment: functions receive the settings (or what they
need from them), so tests build a ``Settings`` by hand and never touch ``os.environ``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from duban.clock import Clock, FixedClock, SystemClock, parse_moment
from duban.errors import ConfigError


class SettingValueError(ValueError):
    """A wrong value, said in English and in Chinese (pydantic keeps the exception, so
    ``load_settings`` can give the coordinator's language)."""

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(message)
        self.zh = zh


MIN_SECRET_BYTES = 16
"""HMAC keys shorter than this can be guessed; a template's token would no longer prove much."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUBAN_", frozen=True, extra="ignore")

    home: Path = Field(default=Path("var"), description="ledger, raw store, outbox, outputs")
    database_url: str | None = Field(default=None, description="default: SQLite under home")
    now: str | None = Field(default=None, description="simulated 'now' (demo and tests)")
    timezone: str = Field(default="Asia/Shanghai", description="zone of times given without one")
    secret: SecretStr | None = Field(default=None, description="HMAC key of template tokens")
    smtp_url: SecretStr | None = Field(
        default=None, description="smtp://, smtp+starttls://, smtps://"
    )
    templates: Path | None = Field(default=None, description="Jinja templates; default: shipped")
    campaign: Path | None = Field(
        default=None, description="the campaign YAML a flow runs when its run names none"
    )
    prefect_api_url: str | None = Field(
        default=None,
        description="the Prefect server's API the board starts deployment runs on "
        "(e.g. http://127.0.0.1:4200/api); unset: the board runs the command here",
    )
    bots: SecretStr | None = Field(
        default=None, description="group-bot webhooks, comma or newline separated"
    )
    intake: SecretStr | None = Field(
        default=None, description="imap://, imaps://, maildir:PATH or dir:PATH"
    )
    store_flush: Literal["auto", "filesystem", "files"] = Field(
        default="auto",
        description="how the raw store makes writes durable: one syncfs per step "
        "(filesystem, Linux), an fsync per file (files: for a disk shared with a busy "
        "database), or auto (filesystem where possible)",
    )

    trusted_authserv: str | None = Field(
        default=None,
        description="authserv-ids of the office's receiving servers whose "
        "Authentication-Results count, comma separated",
    )

    @field_validator("trusted_authserv")
    @classmethod
    def _authserv_ids(cls, value: str | None) -> str | None:
        for name in _split_ids(value):
            if not _AUTHSERV_ID.fullmatch(name):
                raise SettingValueError(
                    f"{name!r} is not an authserv-id (the name a receiving server writes first "
                    "in its Authentication-Results header, like mx.example.gov.cn)",
                    f"{name!r} 不是 authserv-id（收信服务器写在 Authentication-Results "
                    "邮件头最前面的名字，如 mx.example.gov.cn）",
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingValueError(
                f"unknown time zone {value!r}", f"没有时区 {value!r}（应写成 Asia/Shanghai 这样）"
            ) from None
        return value

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            size = len(value.get_secret_value().encode("utf-8"))
            if size < MIN_SECRET_BYTES:
                raise SettingValueError(
                    f"too short to sign templates safely ({size} bytes, at least "
                    f"{MIN_SECRET_BYTES})",
                    f"太短，不足以安全地给模板签名（{size} 字节，至少 {MIN_SECRET_BYTES} 字节）",
                )
        return value

    @field_validator("campaign")
    @classmethod
    def _campaign_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise SettingValueError(
                f"no campaign file at {str(value)!r}", f"找不到活动文件 {str(value)!r}"
            )
        return value

    @field_validator("now")
    @classmethod
    def _moment(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_moment(value, ZoneInfo("UTC"))
            except ValueError as error:
                zh = f"{value.strip()!r} 不是日期或时间；应写成 2026-03-06 或 2026-03-06T09:00"
                raise SettingValueError(str(error), zh) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str | None) -> str | None:
        """Checked with the others, not when the ledger is first opened."""
        if value:
            try:
                normalise_database_url(value)
            except ConfigError as error:
                raise SettingValueError(error.message, error.zh or error.message) from None
        return value

    @property
    def trusted_authserv_ids(self) -> frozenset[str]:
        """The receiving servers whose verdict on a sender intake trusts (lower case)."""
        return frozenset(name.lower() for name in _split_ids(self.trusted_authserv))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def ledger_url(self) -> str:
        if not self.database_url:
            return f"sqlite:///{(self.home / 'duban.sqlite3').resolve()}"
        return normalise_database_url(self.database_url)

    @property
    def outbox(self) -> Path:
        """Where dry runs write every message as an .eml file for the coordinator to open."""
        return self.home / "outbox"

    @property
    def outputs(self) -> Path:
        """Summary workbooks and bulletins, per campaign and deliverable period."""
        return self.home / "out"

    @property
    def raw_store(self) -> Path:
        """Every byte received, content-addressed (留痕)."""
        return self.home / "raw"

    def intake_spec(self) -> str:
        if self.intake is None or not self.intake.get_secret_value():
            raise ConfigError(
                "DUBAN_INTAKE is not set: there is no mailbox or folder to collect from",
                hint="set DUBAN_INTAKE, e.g. imaps://user:password@mail.example:993/INBOX",
                zh="没有设置 DUBAN_INTAKE：没有可收件的邮箱或文件夹",
                zh_hint="设置 DUBAN_INTAKE，如 imaps://用户名:密码@mail.example:993/INBOX",
            )
        return self.intake.get_secret_value()

    def bot_specs(self) -> list[Any]:
        """The group bots of escalations; none when DUBAN_BOTS is unset."""
        if self.bots is None or not self.bots.get_secret_value().strip():
            return []
        from duban.adapters.bots import parse_bots  # only a run with bots pays for importing them

        return list(parse_bots(self.bots.get_secret_value()))

    def secret_key(self) -> bytes:
        if self.secret is None or not self.secret.get_secret_value():
            raise ConfigError(
                "DUBAN_SECRET is not set: templates carry a token signed with it",
                hint="set DUBAN_SECRET to a long random string and keep it for the whole campaign",
                zh="没有设置 DUBAN_SECRET：模板里的校验码要用它签名",
                zh_hint="把 DUBAN_SECRET 设为一串足够长的随机字符，整个活动期间不要更换",
            )
        return self.secret.get_secret_value().encode("utf-8")

    def smtp(self) -> str:
        if self.smtp_url is None or not self.smtp_url.get_secret_value():
            raise ConfigError(
                "DUBAN_SMTP_URL is not set: there is no mail server to send through",
                hint="set DUBAN_SMTP_URL, e.g. smtp+starttls://user:password@mail.example:587",
                zh="没有设置 DUBAN_SMTP_URL：没有可用的发信服务器",
                zh_hint="设置 DUBAN_SMTP_URL，如 smtp+starttls://用户名:密码@mail.example:587",
            )
        return self.smtp_url.get_secret_value()

    def environment(self) -> dict[str, str]:
        """The environment of a command started for this run (the board's *Run now*): this
        process's, with these settings as the ``DUBAN_*`` variables they come from."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
        for name, value in self.model_dump().items():
            if value is not None:
                text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
                env[f"DUBAN_{name.upper()}"] = text
        return env

    def clock(self) -> Clock:
        if self.now is None:
            return SystemClock()
        return FixedClock(parse_moment(self.now, self.zone))


_AUTHSERV_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""RFC 8601 allows any token; servers write a host name, which is what is accepted here."""


def _split_ids(value: str | None) -> list[str]:
    return [name for name in re.split(r"[,\s]+", value or "") if name]


def normalise_database_url(url: str) -> str:
    """Accept the URLs people write and pick the driver duban ships (psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    if url.startswith(("sqlite:", "postgresql+psycopg:")):
        return url
    raise ConfigError(
        f"unsupported database URL {url.split('@')[-1]!r}",
        hint="set DUBAN_DATABASE_URL to postgresql://user@host:5432/db or sqlite:///path",
        zh=f"不支持的数据库地址 {url.split('@')[-1]!r}（应为 postgresql://… 或 sqlite:///…）",
        zh_hint="把 DUBAN_DATABASE_URL 设为 postgresql://用户@主机:5432/库名 或 sqlite:///路径",
    )


def language_setting() -> str:
    """``DUBAN_LANG``, read apart from the other settings: the command line must know its
    language before it can say what is wrong with them."""
    import os

    return os.environ.get("DUBAN_LANG", "")


def load_settings(blame: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build the settings from the environment plus explicit overrides (CLI options).

    Every problem is reported at once, each under the name the person gave it: the
    environment variable, or for an override the option named in ``blame`` (``now`` given as
    ``--as-of`` is the option's fault, not ``DUBAN_NOW``'s)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = [_problem(item, given, blame or {}) for item in error.errors()]
        names = [name for name, _, _ in problems]
        raise ConfigError(
            "; ".join(f"{name}: {message}" for name, message, _ in problems),
            hint=f"fix {', '.join(names)}",
            zh="；".join(f"{name}：{zh}" for name, _, zh in problems),
            zh_hint=f"请改正 {'、'.join(names)}",
        ) from None


def _problem(
    item: Any, given: Mapping[str, object], blame: Mapping[str, str]
) -> tuple[str, str, str]:
    """The name to blame, the English and the Chinese of one setting's problem."""
    field = str(item["loc"][0]) if item["loc"] else ""
    if field in given and field in blame:
        name = blame[field]
    else:
        name = "DUBAN_" + field.upper() if field else "DUBAN_*"
    message = str(item["msg"]).removeprefix("Value error, ")
    cause = (item.get("ctx") or {}).get("error")
    zh = cause.zh if isinstance(cause, SettingValueError) else _ZH_TYPES.get(item["type"], message)
    return name, message, zh


_ZH_TYPES = {
    "literal_error": "不是可选的值之一",
    "string_type": "应为文字",
    "path_type": "应为路径",
}
