"""How many rounds a concurrency or crash test runs: a few in ``make test``, many in
``make stress`` (which sets ``DUBAN_STRESS=1``; CI does not run it).

In ``make test`` each two-runs-at-once test runs twice on each database and each crash test
three trials (killed at three seeded points, on each database where it is parametrised). On 7
Dec 2026 the suite in one process took 32 minutes with two rounds and five trials, so they were
cut to one and two; in two processes (pytest-xdist) it took 14 minutes with those, and two
rounds and three trials came back. ``make stress`` runs ten and twenty."""

from __future__ import annotations

import os

import pytest


def rounds(test: int, stress: int) -> range:
    """``range(test)`` normally, ``range(stress)`` under ``make stress``."""
    return range(stress if os.environ.get("DUBAN_STRESS") == "1" else test)


only_in_stress = pytest.mark.skipif(
    os.environ.get("DUBAN_STRESS") != "1",
    reason="a long smoke run (the round through Prefect: a server, two workers and a flow run "
    "a stage): `make stress` runs it, so that `make test` stays well under 30 minutes",
)
"""A test only ``make stress`` runs (marked ``stress`` too, which ``make stress`` selects)."""
