"""Did the office's own receiving server confirm the sender? Its ``Authentication-Results``.

A From address proves nothing: anyone holding a unit's template can write the unit's address.
The office's receiving server checks SPF, DKIM and DMARC (no DNS is asked here, no signature
verified: duban reads the verdict the server wrote, RFC 8601) and adds a header naming itself,
its *authserv-id*. Only headers naming a server the settings trust count
(``DUBAN_TRUSTED_AUTHSERV``), since a sender can add any header with any verdict; of several
trusted ones the topmost (the last added, by the server nearest duban) counts.

A message is in doubt, and held for the coordinator with the reason, when that header says
``dmarc=fail``; or, with no DMARC verdict (none, temperror, permerror or none given), when SPF
failed or soft-failed and no DKIM signature passed (fail, none or none given). Everything else
passes; so does a message with no trusted header (nothing to go on: the From address decides,
as it always did).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import authres  # type: ignore[import-untyped]

from duban.implement.intake.decide import Outcome, Verdict

UNAUTHENTICATED = "unauthenticated-sender"
_NO_DMARC = frozenset({"none", "temperror", "permerror"})
_SPF_FAILED = frozenset({"fail", "softfail"})
_DKIM_FAILED = frozenset({"fail", "none"})
_SHOWN = ("spf", "dkim", "dmarc")


def sender_doubt(headers: Sequence[str], trusted: Collection[str]) -> Verdict | None:
    """The held verdict when the topmost trusted ``Authentication-Results`` header says the
    sender is not who the From address claims; None when it does not, or when none is
    trusted."""
    found = _topmost_trusted(headers, {t.lower() for t in trusted})
    if found is None:
        return None
    authserv, results = found
    if not _failed(results):
        return None
    shown = " ".join(f"{m}={'/'.join(results.get(m, [])) or 'none'}" for m in _SHOWN)
    return Verdict(Outcome.HELD, UNAUTHENTICATED, {"authserv": authserv, "results": shown})


def _failed(results: dict[str, list[str]]) -> bool:
    dmarc = results.get("dmarc", [])
    if "fail" in dmarc:
        return True
    if any(r not in _NO_DMARC for r in dmarc):
        return False  # DMARC passed (or gave a verdict other than failing): that decides
    spf_failed = any(r in _SPF_FAILED for r in results.get("spf", []))
    dkim_failed = all(r in _DKIM_FAILED for r in results.get("dkim", []))
    return spf_failed and dkim_failed


def _topmost_trusted(
    headers: Sequence[str], trusted: set[str]
) -> tuple[str, dict[str, list[str]]] | None:
    """The authserv-id and the results by method of the first header a trusted server wrote;
    a header that does not parse names no server and is passed over."""
    if not trusted:
        return None
    for value in headers:
        parsed = _parse(value)
        if parsed is not None and str(parsed.authserv_id).lower() in trusted:
            results: dict[str, list[str]] = {}
            for result in parsed.results:
                method, verdict = str(result.method).lower(), str(result.result).lower()
                results.setdefault(method, []).append(verdict)
            return str(parsed.authserv_id), results
    return None


def _parse(value: str) -> Any:
    """The header as ``authres`` reads it, or None for one it refuses (a sender's garbage, or
    a server that leaves out its authserv-id)."""
    try:
        return authres.AuthenticationResultsHeader.parse_value(value.strip())
    except Exception:  # authres raises its own errors, and more, on hostile text
        return None
