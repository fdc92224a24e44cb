"""Typed deployment parameters (issue 13, item 6): the Custom Run form Prefect builds from each
flow's signature has a type, a check and a Chinese description for every field; the campaign's
deliverables and tags are dropdowns when DUBAN_CAMPAIGN is set; the campaign file comes from
that one setting, not from each deployment of prefect.yaml."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from duban.clock import FixedClock
from duban.errors import ConfigError, DubanError
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.store import register
from duban.model.loader import load_campaign

from .conftest import EXAMPLE, ROOT

ENTRYPOINTS = {
    "mobilize": "flows/mobilize.py:mobilize",
    "collect": "flows/collect.py:collect",
    "chase": "flows/chase.py:chase",
    "remind": "flows/remind.py:remind",
    "compile": "flows/compile.py:compile_flow",
    "inspect": "flows/inspection.py:inspect_flow",
    "evaluate": "flows/evaluation.py:evaluate_flow",
}
SECRET = "a test secret of more than sixteen bytes"
NOW = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)  # 10 Feb 2026, 09:00 in Shanghai
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SCHEMA_SCRIPT = """
import json, sys
from prefect.flows import load_flow_from_entrypoint
from prefect.utilities.callables import parameter_schema
print(json.dumps({e: parameter_schema(load_flow_from_entrypoint(e)).model_dump()
                  for e in sys.argv[1:]}))
"""


def schemas(campaign: Path | None) -> dict[str, dict[str, Any]]:
    """Each flow's parameter schema as `prefect deploy` builds it: the flow loaded from its
    entrypoint in a fresh process, from the project folder, with or without DUBAN_CAMPAIGN."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    if campaign is not None:
        env["DUBAN_CAMPAIGN"] = str(campaign)
    done = subprocess.run(
        [sys.executable, "-c", SCHEMA_SCRIPT, *ENTRYPOINTS.values()],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    found: dict[str, dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: found[entry] for name, entry in ENTRYPOINTS.items()}


@pytest.fixture(scope="module")
def with_campaign() -> dict[str, dict[str, Any]]:
    return schemas(EXAMPLE)


@pytest.fixture(scope="module")
def without_campaign() -> dict[str, dict[str, Any]]:
    return schemas(None)


def typed(prop: dict[str, Any]) -> bool:
    """A field the form can render: a type or a choice, never the empty schema of ``Any``."""
    if "anyOf" in prop:
        return all(typed(p) for p in prop["anyOf"])
    return "type" in prop or "enum" in prop


def test_every_field_has_a_type_and_a_chinese_description(
    without_campaign: dict[str, dict[str, Any]],
) -> None:
    for name, schema in without_campaign.items():
        assert schema["properties"], name
        for field, prop in schema["properties"].items():
            assert typed(prop), (name, field, prop)
            assert CHINESE.search(prop.get("description", "")), (name, field, prop)
            # the form labels a field by its name: the description names it too
            assert f"（{field.replace('_', ' ')}" in prop["description"], (name, field)


def test_deliverables_and_tags_are_dropdowns_of_the_campaign_set(
    with_campaign: dict[str, dict[str, Any]],
) -> None:
    bundle = load_campaign(EXAMPLE)
    ids = [d.id for d in bundle.campaign.deliverables]
    tags = sorted({t for u in bundle.units for t in u.tags})
    for name in ("mobilize", "remind", "chase", "compile"):
        assert _choices(with_campaign[name], "deliverable") == ids, name
    assert _choices(with_campaign["remind"], "tag") == tags
    inspections = [i.id for i in bundle.campaign.inspections]
    assert _choices(with_campaign["inspect"], "inspection") == inspections


def test_without_the_setting_the_same_fields_are_free_text(
    without_campaign: dict[str, dict[str, Any]],
) -> None:
    assert _choices(without_campaign["mobilize"], "deliverable") is None
    assert _choices(without_campaign["remind"], "tag") is None
    assert without_campaign["remind"]["properties"]["tag"]["anyOf"][0]["type"] == "string"


def _choices(schema: dict[str, Any], field: str) -> list[str] | None:
    options = schema["properties"][field]["anyOf"]
    enums = [o["enum"] for o in options if "enum" in o]
    return enums[0] if enums else None


@pytest.mark.parametrize(
    ("parameters", "wrong"),
    [
        ({"period": "2026-Q2", "as_of": "2026-03-06T09:00:00+08:00", "units": ["T01"]}, None),
        ({"period": "once", "as_of": "2026-03-06"}, None),
        ({"period": "2026-Q5"}, "period"),
        ({"period": "2026-13"}, "period"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"batch_size": 0}, "batch_size"),
        ({"deliverable": ""}, "deliverable"),
        ({"units": [""]}, "units"),
    ],
)
def test_a_run_with_a_wrong_parameter_is_refused_before_it_starts(
    parameters: dict[str, Any], wrong: str | None
) -> None:
    from prefect.exceptions import ParameterTypeError

    from flows.mobilize import mobilize

    if wrong is None:
        checked = mobilize.validate_parameters(parameters)
        assert {k: checked[k] for k in parameters} == parameters
        return
    with pytest.raises(ParameterTypeError, match=wrong):
        mobilize.validate_parameters(parameters)


def test_no_deployment_names_the_campaign_file_the_work_pool_does_once() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    named = {d["work_pool"]["job_variables"]["env"]["DUBAN_CAMPAIGN"] for d in spec["deployments"]}
    assert len(named) == 1
    assert (ROOT / named.pop()).is_file()
    for deployment in spec["deployments"]:
        assert "campaign_file" not in (deployment.get("parameters") or {}), deployment["name"]
    assert (ROOT / "prefect.yaml").read_text(encoding="utf-8").count("DUBAN_CAMPAIGN:") == 1


def test_every_deployment_parameter_fits_its_flow(
    without_campaign: dict[str, dict[str, Any]],
) -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for deployment in spec["deployments"]:
        flow_name = deployment["entrypoint"].rsplit(":", 1)[1].removesuffix("_flow")
        fields = without_campaign[flow_name]["properties"]
        assert set(deployment.get("parameters") or {}) <= set(fields), deployment["name"]


def test_every_deliverable_a_deployment_names_is_one_of_its_campaign() -> None:
    """A deployment fixed to a deliverable (the monthly rectification progress) names one the
    work pool's campaign declares, so a scheduled run cannot fail on a typo months later."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    named = {d["work_pool"]["job_variables"]["env"]["DUBAN_CAMPAIGN"] for d in spec["deployments"]}
    campaign = load_campaign(ROOT / named.pop()).campaign
    fixed = {
        d["name"]: d["parameters"]["deliverable"]
        for d in spec["deployments"]
        if "deliverable" in (d.get("parameters") or {})
    }
    assert fixed == {"rectification-progress": "rectification"}
    for deliverable in fixed.values():
        campaign.deliverable(deliverable)  # raises on an unknown id


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger with the example campaign registered, and the settings a worker has."""
    engine = make_engine(f"sqlite:///{tmp_path / 'duban.sqlite3'}")
    migrate(engine)
    with session_scope(engine) as session:
        register(session, load_campaign(EXAMPLE), FixedClock(NOW))
    engine.dispose()
    for name in ("DUBAN_CAMPAIGN", "DUBAN_DATABASE_URL", "DUBAN_NOW", "DUBAN_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUBAN_HOME", str(tmp_path))
    monkeypatch.setenv("DUBAN_SECRET", SECRET)
    return tmp_path


def test_a_run_without_a_campaign_file_takes_the_setting(
    prefect_harness: None, ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.mobilize import mobilize

    monkeypatch.setenv("DUBAN_CAMPAIGN", str(EXAMPLE))
    result = mobilize(deliverable="plan", dry_run=True, as_of=NOW.isoformat())
    assert (result["status"], result["count"]) == ("previewed", 30)
    assert len(list(Path(result["outbox"]).rglob("*.eml"))) == 30


def test_a_run_without_campaign_file_or_setting_says_which_setting(
    prefect_harness: None, ledger: Path
) -> None:
    from flows.chase import chase

    with pytest.raises(ConfigError, match="DUBAN_CAMPAIGN is not set") as caught:
        chase(dry_run=True, as_of=NOW.isoformat())
    assert "DUBAN_CAMPAIGN" in str(caught.value.hint)


def test_a_run_without_a_deliverable_names_the_ones_there_are(
    prefect_harness: None, ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.remind import remind

    monkeypatch.setenv("DUBAN_CAMPAIGN", str(EXAMPLE))
    with pytest.raises(DubanError, match="no deliverable") as caught:
        remind(as_of=NOW.isoformat())
    ids = ", ".join(d.id for d in load_campaign(EXAMPLE).campaign.deliverables)
    assert caught.value.hint == f"choose one of {ids}"
