"""Mail for duban: build notices (``message``), send them (``mailer``), read the SMTP URL.

``build`` turns an ``OutgoingMessage`` into a standards-clean MIME message; ``SmtpMailer`` sends
a batch over one connection (yagmail opens it); ``OutboxMailer`` writes ``.eml`` files for a
dry run. Settings arrive as an ``SmtpConfig`` parsed from ``DUBAN_SMTP_URL`` by the caller.
"""

from __future__ import annotations

from duban.adapters.mail.errors import (
    HeaderInjectionError,
    InvalidAddressError,
    MailAuthenticationError,
    MailConnectionError,
    MailSenderRefusedError,
    MailServerUnreachableError,
    MailTlsError,
)
from duban.adapters.mail.html_text import html_to_text
from duban.adapters.mail.mailer import Mailer, OutboxMailer, SendResult, SmtpMailer
from duban.adapters.mail.message import Address, Attachment, OutgoingMessage, build, make_message_id
from duban.adapters.mail.smtp_url import Security, SmtpConfig, parse_smtp_url

__all__ = [
    "Address",
    "Attachment",
    "HeaderInjectionError",
    "InvalidAddressError",
    "MailAuthenticationError",
    "MailConnectionError",
    "MailSenderRefusedError",
    "MailServerUnreachableError",
    "MailTlsError",
    "Mailer",
    "OutboxMailer",
    "OutgoingMessage",
    "Security",
    "SendResult",
    "SmtpConfig",
    "SmtpMailer",
    "build",
    "html_to_text",
    "make_message_id",
    "parse_smtp_url",
]
