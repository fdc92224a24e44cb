"""One settings object, built once at the start of a run from ``DUBAN_*`` variables.

Nothing else in duban reads the environment: functions receive the settings (or what they
need from them), so tests build a ``Settings`` by hand and never touch ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from duban.clock import Clock, FixedClock, SystemClock, parse_moment
from duban.errors import ConfigError

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

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            size = len(value.get_secret_value().encode("utf-8"))
            if size < MIN_SECRET_BYTES:
                raise ValueError(
                    f"too short to sign templates safely ({size} bytes, at least "
                    f"{MIN_SECRET_BYTES})"
                )
        return value

    @field_validator("campaign")
    @classmethod
    def _campaign_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no campaign file at {str(value)!r}")
        return value

    @field_validator("now")
    @classmethod
    def _moment(cls, value: str | None) -> str | None:
        if value is not None:
            parse_moment(value, ZoneInfo("UTC"))
        return value

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
            )
        return self.secret.get_secret_value().encode("utf-8")

    def smtp(self) -> str:
        if self.smtp_url is None or not self.smtp_url.get_secret_value():
            raise ConfigError(
                "DUBAN_SMTP_URL is not set: there is no mail server to send through",
                hint="set DUBAN_SMTP_URL, e.g. smtp+starttls://user:password@mail.example:587",
            )
        return self.smtp_url.get_secret_value()

    def clock(self) -> Clock:
        if self.now is None:
            return SystemClock()
        return FixedClock(parse_moment(self.now, self.zone))


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
    )


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
        names = [name for name, _ in problems]
        raise ConfigError(
            "; ".join(f"{name}: {message}" for name, message in problems),
            hint=f"fix {', '.join(names)}",
        ) from None


def _problem(item: Any, given: Mapping[str, object], blame: Mapping[str, str]) -> tuple[str, str]:
    field = str(item["loc"][0]) if item["loc"] else ""
    if field in given and field in blame:
        name = blame[field]
    else:
        name = "DUBAN_" + field.upper() if field else "DUBAN_*"
    message = str(item["msg"]).removeprefix("Value error, ")
    return name, message
