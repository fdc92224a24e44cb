"""One rule says whether a message is automatic: its headers at once, its subject only when
nothing in the message was found to decide."""

from __future__ import annotations

import pytest

from duban.implement.intake.automatic import automatic_reason


@pytest.mark.parametrize(
    ("subject", "auto_submitted", "own", "reason"),
    [
        ("催报：实施方案", None, True, "own-message"),
        ("Out of Office", "auto-replied", True, "own-message"),
        ("回复：实施方案", "auto-replied", False, "automatic-reply"),
        ("回复：实施方案", " Auto-Generated ", False, "automatic-reply"),
        ("回复：实施方案", " No ", False, None),
        ("回复：实施方案", None, False, None),
        ("自动回复：外出", None, False, None),  # a subject alone sets nothing aside at receipt
    ],
)
def test_the_headers_decide_as_a_message_is_received(
    subject: str, auto_submitted: str | None, own: bool, reason: str | None
) -> None:
    """``own`` is the ledger's word (the message's Message-ID and key were recorded when duban
    sent it); ``tests/test_intake_senders.py`` checks that a copied header is not."""
    assert automatic_reason(subject, auto_submitted, own=own) == reason


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("自动回复：我现在不在办公室", "automatic-reply"),
        ("Auto-Reply: away", "automatic-reply"),
        ("Automatic reply: away", "automatic-reply"),
        ("OUT OF OFFICE until Monday", "automatic-reply"),
        ("回复：实施方案", None),
        (None, None),
    ],
)
def test_the_subject_counts_once_nothing_was_found_to_decide(
    subject: str | None, reason: str | None
) -> None:
    assert automatic_reason(subject, found_nothing=True) == reason
