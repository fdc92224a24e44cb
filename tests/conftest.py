from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from duban.model.loader import CampaignBundle, load_campaign
from duban.testing.helpers import (
    DEFAULT_POSTGRES_ADMIN_URL,
    copy_campaign,
    temporary_postgres_database,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example" / "campaign.yaml"

# Prefect reads its settings when first imported: make it quiet, offline and private to this
# test session before any test imports it; duban itself never does (NOTES.md, "Prefect 3").
_PREFECT_HOME = tempfile.mkdtemp(prefix="duban-prefect-")
os.environ.update(
    {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": _PREFECT_HOME,
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    }
)
os.environ.pop("PREFECT_API_URL", None)
# The command line speaks the campaign's language (Chinese for the example). Most tests read
# its English wording, as they did before it spoke Chinese; the tests of the Chinese interface
# (test_cli_language.py) set DUBAN_LANG themselves or remove it.
os.environ["DUBAN_LANG"] = "en"
# Each test that reads a table gives its width (COLUMNS in the runner's env). Rich fixes a
# console's width when COLUMNS is set as it is made, and the command line's consoles are made
# at import: pytest-xdist's workers start with COLUMNS=80 and LINES=24 set, which would pin
# every table to 80 columns whatever the test asks for.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)
# For the same reason the command groups `duban` imports only when a command names them
# (cli.group.LazyCommands) are imported here, not inside whichever test's runner names one
# first with its own COLUMNS (tests/test_cli.py checks that `duban` itself imports them late).
for _spec in importlib.import_module("duban.cli.app").DubanCommands.lazy.values():
    importlib.import_module(_spec.partition(":")[0])  # duban.cli.app itself only after the pop

POSTGRES_ADMIN_URL = os.environ.get("DUBAN_TEST_POSTGRES_URL", DEFAULT_POSTGRES_ADMIN_URL)


@pytest.fixture(scope="session")
def example_bundle() -> CampaignBundle:
    return load_campaign(EXAMPLE)


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A private copy of the example campaign folder that a test may break."""
    return copy_campaign(EXAMPLE, tmp_path / "campaign")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each ledger test runs twice: on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    with temporary_postgres_database(POSTGRES_ADMIN_URL) as url:
        yield url


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session (about 7 s, once)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield
