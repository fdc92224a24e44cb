"""A flow run's batch tasks load the campaign once (``tasks.runtime``): each loaded it again,
0.9 s at 10,000 units, fifty times in a mobilize through Prefect. A new flow run loads it
again (a coordinator's edit counts from the next run); outside a flow run nothing is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect import flow, task

import duban.runtime
from duban.model.loader import CampaignBundle, load_campaign
from duban.settings import Settings, load_settings
from tasks.runtime import runtime

from .conftest import EXAMPLE


@task
def units_of(settings: Settings, campaign_file: str) -> int:
    with runtime(settings, campaign_file) as rt:
        return len(rt.bundle.units)


@flow
def three_batches(settings: Settings, campaign_file: str) -> list[int]:
    return [units_of(settings, campaign_file) for _ in range(3)]


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every campaign file loaded by a ``Runtime``, in order."""
    loaded: list[Path] = []

    def counting(path: Path | str) -> CampaignBundle:
        loaded.append(Path(path))
        return load_campaign(path)

    monkeypatch.setattr(duban.runtime, "load_campaign", counting)
    return loaded


def test_a_flow_runs_batches_share_one_load_of_the_campaign(
    prefect_harness: None, loads: list[Path], tmp_path: Path
) -> None:
    settings = load_settings(home=tmp_path)
    assert three_batches(settings, str(EXAMPLE)) == [30, 30, 30]
    assert loads == [EXAMPLE]
    assert three_batches(settings, str(EXAMPLE)) == [30, 30, 30]
    assert loads == [EXAMPLE, EXAMPLE]  # the next flow run loads it again


def test_outside_a_flow_run_each_runtime_loads_the_campaign(
    loads: list[Path], tmp_path: Path
) -> None:
    settings = load_settings(home=tmp_path)
    for _ in range(2):
        with runtime(settings, str(EXAMPLE)) as rt:
            assert len(rt.bundle.units) == 30
    assert loads == [EXAMPLE, EXAMPLE]
