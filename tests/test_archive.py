"""The campaign archive (issue 19): a BagIt bag of a campaign that really ran (notices sent over
SMTP, replies collected from a Maildir, a summary compiled), which ``duban archive verify``
passes, and fails naming each file after each kind of tampering."""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import json
import mailbox
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from duban.archive.digests import require_sm3
from duban.cli.app import app
from duban.testing.helpers import attachment_of, fill_workbook, reply_to_notice
from duban.testing.mailserver import LocalSmtpServer

from .conftest import EXAMPLE

runner = CliRunner()
SENT_TO = ("T01", "B08")
ROWS = [["教育培训", f"任务{n}", f"具体措施{n}", "办公室", "张三", "13800000000", "2026-06-30"]
        for n in (1, 2, 3)]  # fmt: skip


@dataclass
class Round:
    env: dict[str, str]
    home: Path
    bag: Path


def run_ok(args: list[str], env: dict[str, str]) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def campaign_round(home: Path, ledger_url: str, campaign: Path = EXAMPLE) -> dict[str, str]:
    """init, mobilize two units over SMTP, one replies into a Maildir, collect, compile."""
    maildir = home / "inbox"
    mailbox.Maildir(maildir, create=True)
    with LocalSmtpServer() as server:
        env = {"DUBAN_HOME": str(home), "DUBAN_DATABASE_URL": ledger_url,
               "DUBAN_SECRET": "s" * 20, "DUBAN_SMTP_URL": server.url(),
               "DUBAN_INTAKE": f"maildir:{maildir}", "DUBAN_NOW": "2026-02-10T09:00"}  # fmt: skip
        run_ok(["init", str(campaign)], env)
        run_ok(["mobilize", str(campaign), "--deliverable", "plan", "--units", ",".join(SENT_TO)],
               env)  # fmt: skip
        notices = [email.message_from_bytes(m.raw, policy=email.policy.default)
                   for m in server.messages]  # fmt: skip
        notice = next(m for m in notices if "jiaoyu@jt.example" not in str(m["To"]))
        assert isinstance(notice, EmailMessage)
        name, template = attachment_of(notice)
        sender = str(notice["To"].addresses[0].addr_spec)
        raw = reply_to_notice(notice, sender, [(name, fill_workbook(template, "实施方案", ROWS))],
                              when=datetime(2026, 3, 4, 10, 0, tzinfo=UTC))  # fmt: skip
        mailbox.Maildir(maildir).add(raw)
        run_ok(["collect", str(campaign), "--as-of", "2026-03-04T12:00"], env)
        run_ok(["compile", str(campaign), "--deliverable", "plan", "--as-of", "2026-03-10"], env)
    return env


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Round:
    """One campaign round and its bag, on SQLite, shared by the tests that only read it."""
    home = tmp_path_factory.mktemp("archive-home")
    env = campaign_round(home, f"sqlite:///{home / 'duban.sqlite3'}")
    bag = home / "bag"
    run_ok(["archive", "write", str(EXAMPLE), "--out", str(bag)], env)
    return Round(env, home, bag)


def copy_of(archived: Round, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "bag"
    shutil.copytree(archived.bag, target)
    return target


def verify(bag: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["archive", "verify", str(bag)], env={"DUBAN_LANG": "en"})
    return result.exit_code, result.output


def manifest(bag: Path, name: str) -> dict[str, str]:
    lines = (bag / name).read_text(encoding="utf-8").splitlines()
    return {path.strip(): digest for digest, _, path in (ln.partition(" ") for ln in lines)}


def rewrite_entry(bag: Path, name: str, relative: str) -> None:
    """What an attacker does after editing a file: put its new digest in one manifest."""
    algorithm = name.rsplit("-", 1)[1].removesuffix(".txt")
    digest = hashlib.new(algorithm, (bag / relative).read_bytes()).hexdigest()
    path = bag / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = [re.sub(r"^[0-9a-f]+", digest, ln) if ln.rstrip().endswith(" " + relative) else ln
               for ln in lines]  # fmt: skip
    assert changed != lines
    path.write_text("".join(changed), encoding="utf-8")


def flip_a_byte(path: Path, at: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[min(at, len(data) - 1)] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))


# --- what goes in -------------------------------------------------------------------------


def test_the_bag_holds_the_campaign_received_sent_ledger_events_and_outputs(archived: Round):
    data = archived.bag / "data"
    assert (data / "campaign" / EXAMPLE.name).read_bytes() == EXAMPLE.read_bytes()
    roster = EXAMPLE.parent / "roster.csv"
    assert (data / "campaign" / "roster.csv").read_bytes() == roster.read_bytes()
    registered = list((data / "campaign" / "registered").iterdir())
    assert any(p.read_bytes() == EXAMPLE.read_bytes() for p in registered)
    received = list((data / "received" / "messages").iterdir())
    files = list((data / "received" / "files").iterdir())
    sent = list((data / "sent").glob("*.eml"))
    assert len(received) == 1
    assert files
    assert len(sent) >= len(SENT_TO)  # two notices, and the answer to the reply
    for path in [*received, *files, *sent]:  # each is named by the hash of its bytes
        assert path.name.split(".")[0] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not (data / "sent" / "not-kept.csv").exists()
    outputs = [p for p in (data / "outputs").rglob("*") if p.is_file()]
    assert any(p.suffix == ".xlsx" for p in outputs)
    accepted = (data / "ledger" / "submissions.csv").open(encoding="utf-8-sig")
    [submission] = list(csv.DictReader(accepted))
    assert (data / "received" / "files" / f"{submission['sha256']}.xlsx").is_file()
    assert submission["row_count"] == "3"
    units = list(csv.DictReader((data / "ledger" / "units.csv").open(encoding="utf-8-sig")))
    assert {"T01", "B08"} <= {row["id"] for row in units}
    schema = json.loads((data / "ledger" / "units.schema.json").read_text(encoding="utf-8"))
    assert set(schema["properties"]) == set(units[0])
    assert not (data / "ledger" / "board_users.csv").exists()
    events = [json.loads(line) for line in (data / "events.jsonl").open(encoding="utf-8")]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {"campaign.registered", "campaign.sources_kept"} <= {e["kind"] for e in events}
    info = (archived.bag / "bag-info.txt").read_text(encoding="utf-8")
    assert f"Duban-Event-Count: {len(events)}" in info
    assert "Duban-Version: " in info
    assert set(manifest(archived.bag, "manifest-sm3.txt")) == set(
        manifest(archived.bag, "manifest-sha256.txt")
    )
    readme = (data / "README.txt").read_text(encoding="utf-8")
    assert "归档说明" in readme
    assert "About this archive" in readme


def test_every_message_sent_is_kept_by_hash(archived: Round):
    import sqlite3

    with sqlite3.connect(archived.home / "duban.sqlite3") as db:
        rows = db.execute("select raw_sha256, status from messages").fetchall()
    assert rows
    assert all(sha is not None for sha, status in rows if status == "sent")
    kept = {p.name.removesuffix(".eml") for p in (archived.bag / "data" / "sent").iterdir()}
    assert {sha for sha, _ in rows if sha} == kept


def test_an_untouched_bag_verifies(archived: Round):
    code, output = verify(archived.bag)
    assert code == 0, output
    assert "verifies" in output
    assert "SHA-256 and SM3" in output


def test_the_archive_is_never_written_over_another(archived: Round):
    result = runner.invoke(app, ["archive", "write", str(EXAMPLE), "--out", str(archived.bag)],
                           env=archived.env)  # fmt: skip
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_an_empty_folder_is_filled_and_a_run_that_finds_it_filled_meanwhile_says_so(
    archived: Round, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Two ``archive write`` runs into one ``--out`` at once: each builds its own hidden bag;
    the one that finishes second finds the folder filled and says so in one line, leaving the
    first bag whole and nothing of its own behind. (The other run is played by copying a
    finished bag into place just before this run renames its own.)"""
    import shutil

    from duban.archive.fourprops.run import file_report as reported

    out = tmp_path / "shared"
    out.mkdir()
    run_ok(["archive", "write", str(EXAMPLE), "--out", str(out)], archived.env)
    assert verify(out)[0] == 0  # an empty folder is filled
    shutil.rmtree(out)
    out.mkdir()

    def the_other_run_finishes_first(staging: Path) -> object:
        finished = reported(staging)
        shutil.copytree(archived.bag, out, dirs_exist_ok=True)
        return finished

    monkeypatch.setattr("duban.archive.write.file_report", the_other_run_finishes_first)
    result = runner.invoke(app, ["archive", "write", str(EXAMPLE), "--out", str(out)],
                           env=archived.env)  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "filled by another run" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared"]  # no staging left
    assert verify(out)[0] == 0
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == sorted(
        p.relative_to(archived.bag) for p in archived.bag.rglob("*")
    )


# --- tampering ----------------------------------------------------------------------------


def test_one_byte_flipped_in_a_received_file_is_named(archived: Round, tmp_path: Path):
    bag = copy_of(archived, tmp_path)
    [raw] = (bag / "data" / "received" / "messages").iterdir()
    flip_a_byte(raw)
    code, output = verify(bag)
    assert code == 1
    assert f"data/received/messages/{raw.name}: content changed (SHA-256 and SM3 differ" in output


def test_a_missing_file_and_a_changed_one_are_both_named(archived: Round, tmp_path: Path):
    bag = copy_of(archived, tmp_path)
    gone = next((bag / "data" / "sent").iterdir())
    gone.unlink()
    changed = next(p for p in (bag / "data" / "outputs").rglob("*") if p.is_file())
    flip_a_byte(changed)
    code, output = verify(bag)
    assert code == 1
    assert f"data/sent/{gone.name}: missing" in output
    assert changed.relative_to(bag).as_posix() in output


def test_an_edited_event_is_caught_though_the_payload_manifests_were_fixed(
    archived: Round, tmp_path: Path
):
    bag = copy_of(archived, tmp_path)
    events = bag / "data" / "events.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = lines[0].replace('"actor": "cli"', '"actor": "someone-else"')
    events.write_text("".join(lines), encoding="utf-8")
    for name in ("manifest-sha256.txt", "manifest-sm3.txt"):
        rewrite_entry(bag, name, "data/events.jsonl")
    code, output = verify(bag)
    assert code == 1
    assert "manifest-sha256.txt: content changed" in output  # the tag manifests cover them
    assert "Duban-Event-Log-SHA256" in output
    # and with the tag manifests rewritten too, bag-info.txt's digest still disagrees
    for algorithm in ("sha256", "sm3"):
        for name in ("manifest-sha256.txt", "manifest-sm3.txt"):
            rewrite_entry(bag, f"tagmanifest-{algorithm}.txt", name)
    code, output = verify(bag)
    assert code == 1
    assert "manifest-sha256.txt: content changed" not in output
    assert "data/events.jsonl: Duban-Event-Log-SHA256" in output


def test_a_removed_event_is_caught_by_the_count(archived: Round, tmp_path: Path):
    bag = copy_of(archived, tmp_path)
    events = bag / "data" / "events.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    events.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")
    code, output = verify(bag)
    assert code == 1
    assert f"Duban-Event-Count is {len(lines) - 1}" in output


def test_an_sm3_mismatch_is_caught_when_the_sha256_side_was_fixed(archived: Round, tmp_path: Path):
    bag = copy_of(archived, tmp_path)
    target = next((bag / "data" / "received" / "files").iterdir())
    flip_a_byte(target)
    relative = target.relative_to(bag).as_posix()
    rewrite_entry(bag, "manifest-sha256.txt", relative)
    rewrite_entry(bag, "tagmanifest-sha256.txt", "manifest-sha256.txt")
    import bagit

    assert bagit.Bag(str(bag)).is_valid()  # bagit-python alone would pass it
    code, output = verify(bag)
    assert code == 1
    assert f"{relative}: content changed (SM3 differs" in output
    assert "SHA-256" not in output.split("content changed")[1].split("\n")[0]


def test_a_file_added_to_the_payload_is_named(archived: Round, tmp_path: Path):
    bag = copy_of(archived, tmp_path)
    (bag / "data" / "extra.txt").write_text("not from duban", encoding="utf-8")
    code, output = verify(bag)
    assert code == 1
    assert "data/extra.txt: not listed in the manifests" in output


def test_verify_speaks_chinese(archived: Round, tmp_path: Path):
    bag = copy_of(archived, tmp_path)
    (bag / "data" / "events.jsonl").unlink()
    result = runner.invoke(app, ["archive", "verify", str(bag)], env={"DUBAN_LANG": "zh-CN"})
    assert result.exit_code == 1
    assert "归档核验未通过" in result.output
    assert "data/events.jsonl：缺失" in result.output


def test_a_folder_that_is_no_bag_is_said(tmp_path: Path):
    code, output = verify(tmp_path)
    assert code == 1
    assert "not a BagIt bag" in output


def test_sm3_is_there_or_said(monkeypatch: pytest.MonkeyPatch):
    require_sm3()  # on this machine OpenSSL has it
    import hashlib as real

    original = real.new

    def without_sm3(name: str, *args: object, **kwargs: object) -> object:
        if name.lower() == "sm3":
            raise ValueError("unsupported hash type sm3")
        return original(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(real, "new", without_sm3)
    from duban.errors import DubanError

    with pytest.raises(DubanError, match="no SM3"):
        require_sm3()


@pytest.mark.postgres
def test_a_campaign_on_postgresql_archives_and_verifies(tmp_path: Path):
    from duban.testing.helpers import temporary_postgres_database

    from .conftest import POSTGRES_ADMIN_URL

    with temporary_postgres_database(POSTGRES_ADMIN_URL) as url:
        env = campaign_round(tmp_path, url)
        bag = tmp_path / "bag"
        run_ok(["archive", "write", str(EXAMPLE), "--out", str(bag)], env)
    code, output = verify(bag)
    assert code == 0, output
    assert len(list((bag / "data" / "sent").glob("*.eml"))) >= len(SENT_TO)


def add_a_ballot(
    home: Path,
    workbook: bytes = b"a ballot workbook naming its evaluator",
    marks: dict[str, str] | None = None,
    comments: dict[str, str] | None = None,
    source: str = "public",
    category: str = "代表",
    received: datetime = datetime(2026, 12, 10, 2, 0, tzinfo=UTC),
    recorded: datetime | None = None,
) -> tuple[str, str]:
    """A returned ballot as intake records it (its message, its file, its row); the hashes of
    the ballot and of the message that carried it (the file need not be a workbook);
    ``recorded``: when its row was (held, then accepted in review, its event written then),
    if later than received."""
    from duban.clock import FixedClock
    from duban.evaluate.ballot_intake import RECORDED_EVENT
    from duban.implement.intake.rawstore import RawStore
    from duban.ledger.db import make_engine, session_scope
    from duban.ledger.schema import BallotRow, IntakeFileRow, IntakeRow
    from duban.ledger.store import append_event

    store = RawStore(home / "raw")
    ballot = store.put(workbook)
    carrier = store.put(f"the message of {received} that carried it, from ping@pingyi.example"
                        .encode())  # fmt: skip
    when, later = received, recorded or received
    engine = make_engine(f"sqlite:///{home / 'duban.sqlite3'}")
    with session_scope(engine) as session:
        record = IntakeRow(campaign_id="nlzf-2026", source="test", source_ref=str(when),
                           raw_sha256=carrier, sender="ping@pingyi.example", received_at=when,
                           recorded_at=when, status="accepted")  # fmt: skip
        session.add(record)
        session.flush()
        session.add(IntakeFileRow(intake_id=record.id, index=0, sha256=ballot,
                                  size=len(workbook), filename="评议表.xlsx",
                                  outcome="accepted"))  # fmt: skip
        session.add(BallotRow(campaign_id="nlzf-2026", source_id=source, label="2026",
                              evaluator_id="PY-EVALUATOR-7", category=category,
                              sha256=ballot, sender="ping@pingyi.example", received_at=when,
                              recorded_at=later, marks=marks or {"T01": "好"},
                              comments=comments or {}))  # fmt: skip
        if recorded is not None:
            append_event(session, FixedClock(recorded), RECORDED_EVENT, campaign_id="nlzf-2026",
                         actor="PY-EVALUATOR-7", payload={"sha256": ballot})  # fmt: skip
    engine.dispose()
    return ballot, carrier


def test_ballots_are_exported_without_their_evaluators_and_left_out_raw(tmp_path: Path):
    env = campaign_round(tmp_path, f"sqlite:///{tmp_path / 'duban.sqlite3'}")
    ballot, carrier = add_a_ballot(tmp_path)
    bag = tmp_path / "bag"
    run_ok(["archive", "write", str(EXAMPLE), "--out", str(bag)], env)
    exported = (bag / "data" / "ledger" / "evaluation_ballots.csv").read_text(encoding="utf-8-sig")
    header, row = exported.splitlines()
    assert header == "campaign_id,source_id,label,category,marks,comments"
    assert "好" in row
    assert "PY-EVALUATOR-7" not in exported
    assert "ping@" not in exported
    assert ballot not in exported
    names = {p.name.split(".")[0] for p in (bag / "data").rglob("*") if p.is_file()}
    assert ballot not in names
    assert carrier not in names
    info = (bag / "bag-info.txt").read_text(encoding="utf-8")
    assert "Duban-Ballots-Left-Out: 1" in info
    assert "Duban-Ballots-Mode: leave-out" in info  # the default: nothing encrypted
    assert not (bag / "data" / "ballots").exists()
    assert verify(bag)[0] == 0


def remanifest(bag: Path) -> None:
    """What a thorough attacker does last: the Payload-Oxum, every manifest and every tag
    manifest written anew."""
    payload = sorted(p for p in (bag / "data").rglob("*") if p.is_file())
    set_info(bag, **{"Payload-Oxum": f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"})
    for algorithm in ("sha256", "sm3"):
        lines = [f"{hashlib.new(algorithm, p.read_bytes()).hexdigest()}  "
                 f"{p.relative_to(bag).as_posix()}\n" for p in payload]  # fmt: skip
        (bag / f"manifest-{algorithm}.txt").write_text("".join(lines), encoding="utf-8")
    for algorithm in ("sha256", "sm3"):
        tags = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sm3.txt"]
        lines = [f"{hashlib.new(algorithm, (bag / t).read_bytes()).hexdigest()} {t}\n"
                 for t in tags]  # fmt: skip
        (bag / f"tagmanifest-{algorithm}.txt").write_text("".join(lines), encoding="utf-8")


def set_info(bag: Path, **values: str) -> None:
    path = bag / "bag-info.txt"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        text = re.sub(rf"(?m)^{key}: .*$", f"{key}: {value}", text)
    path.write_text(text, encoding="utf-8")


def test_the_event_chain_catches_what_a_thorough_attacker_leaves(archived: Round, tmp_path: Path):
    """Events edited and removed, bag-info.txt's count and digest and every manifest made to
    agree: each line whose link no longer follows is named."""
    bag = copy_of(archived, tmp_path)
    events = bag / "data" / "events.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) >= 4
    edited = lines[1].replace('"actor": "cli"', '"actor": "someone-else"')
    assert edited != lines[1]
    kept = [lines[0], edited, *lines[3:]]  # the third event removed
    events.write_text("".join(kept), encoding="utf-8")
    digest = hashlib.sha256(events.read_bytes()).hexdigest()
    set_info(bag, **{"Duban-Event-Count": str(len(kept)), "Duban-Event-Log-SHA256": digest,
                     "Duban-Event-Last-Id": str(json.loads(kept[-1])["id"])})  # fmt: skip
    remanifest(bag)
    import bagit

    assert bagit.Bag(str(bag)).is_valid()
    code, output = verify(bag)
    assert code == 1
    second, fourth = json.loads(lines[1])["id"], json.loads(lines[3])["id"]
    assert (f"data/events.jsonl line 2: event {second}: changed after it was recorded"
            in output)  # fmt: skip
    assert f"data/events.jsonl line 3: event {fourth}: its link does not follow" in output
    assert "manifest" not in output  # every manifest agrees: only the chain said it


def test_the_chain_head_is_in_bag_info_and_said(archived: Round):
    info = (archived.bag / "bag-info.txt").read_text(encoding="utf-8")
    last = (archived.bag / "data" / "events.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    head = json.loads(last)["link"]["sha256"]
    assert f"Duban-Event-Chain-Head: {head}" in info


def test_a_ledger_whose_chain_breaks_is_not_filed(tmp_path: Path):
    from duban.ledger.db import make_engine

    env = campaign_round(tmp_path, f"sqlite:///{tmp_path / 'duban.sqlite3'}")
    engine = make_engine(f"sqlite:///{tmp_path / 'duban.sqlite3'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER events_no_update")
        connection.exec_driver_sql("UPDATE events SET actor = 'someone' WHERE id = 2")
    engine.dispose()
    result = runner.invoke(app, ["archive", "write", str(EXAMPLE), "--out", str(tmp_path / "b")],
                           env=env)  # fmt: skip
    assert result.exit_code == 1
    assert "changed outside duban" in result.output
    assert "event 2: changed after it was recorded" in result.output
    assert not (tmp_path / "b").exists()
