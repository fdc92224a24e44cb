"""The signatures DingTalk and Feishu custom robots ask for when a secret is configured.

Both sign the current time, so both refuse a post whose timestamp is more than about an hour
from theirs: the time comes from duban's ``Clock`` (never the wall clock directly), which is the
wall clock in production and a ``FixedClock`` in tests.

- DingTalk: ``sign = base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}"))``, sent
  with ``timestamp`` as query parameters (percent-encoded: the base64 holds ``+``, ``/``, ``=``).
- Feishu: ``sign = base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}", msg=b""))``, sent with
  ``timestamp`` in the JSON body. (The key and message are swapped compared with DingTalk; that
  is Feishu's documented scheme, not a slip.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_milliseconds(at: datetime) -> int:
    """Exact integer milliseconds since the epoch (no float rounding of the timestamp)."""
    return (at - _EPOCH) // timedelta(milliseconds=1)


def epoch_seconds(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(seconds=1)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The base64 signature (not yet percent-encoded)."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_signed_url(endpoint: str, secret: str, at: datetime) -> str:
    """``endpoint`` with ``timestamp`` and ``sign`` appended, percent-encoded."""
    timestamp = epoch_milliseconds(at)
    query = urlencode({"timestamp": timestamp, "sign": dingtalk_sign(secret, timestamp)})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_signature_fields(secret: str, at: datetime) -> dict[str, str]:
    """The ``timestamp`` and ``sign`` fields to merge into a Feishu JSON body."""
    timestamp = epoch_seconds(at)
    return {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp)}
