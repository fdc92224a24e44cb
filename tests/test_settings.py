"""Settings are checked completely before anything runs, and every problem is named at once
under the name the person gave it (issue 13, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from duban.cli.app import app
from duban.errors import ConfigError
from duban.settings import MIN_SECRET_BYTES, load_settings

from .conftest import EXAMPLE


def test_a_short_secret_is_refused_before_anything_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_SECRET", "abc")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.message == (
        f"DUBAN_SECRET: too short to sign templates safely (3 bytes, at least {MIN_SECRET_BYTES})"
    )
    assert caught.value.hint == "fix DUBAN_SECRET"


def test_every_problem_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_SECRET", "abc")
    monkeypatch.setenv("DUBAN_TIMEZONE", "Mars/Base")
    monkeypatch.setenv("DUBAN_STORE_FLUSH", "sometimes")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    names = [part.split(":")[0] for part in caught.value.message.split("; ")]
    assert sorted(names) == ["DUBAN_SECRET", "DUBAN_STORE_FLUSH", "DUBAN_TIMEZONE"]
    assert "unknown time zone 'Mars/Base'" in caught.value.message


def test_a_bad_option_is_blamed_not_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUBAN_NOW", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_settings(blame={"now": "--as-of"}, now="2026-02-30")
    assert caught.value.message.startswith("--as-of: '2026-02-30' is not a date or time")
    assert "DUBAN_NOW" not in str(caught.value)


def test_the_cli_says_it_in_one_error_line_and_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_SECRET", "abc")
    result = CliRunner().invoke(app, ["status", "--as-of", "2026-02-30"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2, result.output
    assert lines[0].startswith("error: --as-of: '2026-02-30' is not a date or time")
    assert "DUBAN_SECRET: too short" in lines[0]
    assert lines[1].strip() == "→ fix --as-of, DUBAN_SECRET"
    assert "Traceback" not in result.output


def test_the_campaign_setting_names_the_flows_campaign_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One setting names the campaign every deployment runs (issue 13, item 6)."""
    monkeypatch.setenv("DUBAN_CAMPAIGN", str(EXAMPLE))
    assert load_settings().campaign == EXAMPLE


def test_a_missing_campaign_file_is_listed_with_the_other_problems(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DUBAN_CAMPAIGN", str(tmp_path / "nosuch.yaml"))
    monkeypatch.setenv("DUBAN_SECRET", "abc")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert f"DUBAN_CAMPAIGN: no campaign file at '{tmp_path / 'nosuch.yaml'}'" in (
        caught.value.message
    )
    assert caught.value.hint == "fix DUBAN_SECRET, DUBAN_CAMPAIGN"
