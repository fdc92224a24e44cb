"""How many rounds a concurrency or crash test runs: a few in ``make test``, many in
``make stress`` (which sets ``DUBAN_STRESS=1``; CI does not run it)."""

from __future__ import annotations

import os


def rounds(test: int, stress: int) -> range:
    """``range(test)`` normally, ``range(stress)`` under ``make stress``."""
    return range(stress if os.environ.get("DUBAN_STRESS") == "1" else test)
