"""Raw ballots filed encrypted to the office's key (issue 19 point 6, ``archive.ballots``).

One campaign round (``test_archive``'s, on SQLite) with a returned ballot, filed with
``archive.ballots: encrypt`` to a key made here with GnuPG: the bag holds one OpenPGP file that
plain ``gpg --decrypt`` opens to exactly the ballot and the message that carried it; nothing
else in the bag names the evaluator; ``archive verify --office-key`` opens and checks it, and
names a ballot removed or changed inside though every manifest was made to agree. The wrong
settings and a missing gpg are said, never a traceback. (The default, ``leave-out``, is
``test_archive``'s ballot test.)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from duban.archive.ballots import seal
from duban.archive.gather import BALLOT, ENCRYPTED_BALLOT, ENCRYPTED_CARRIER, RawRefs
from duban.archive.gnupg import check_public_key, gnupg
from duban.cli.app import app
from duban.errors import DubanError, InvalidInputError
from duban.evaluate.ballotsheets import BallotBuilder
from duban.implement.intake.rawstore import RawStore
from duban.model.loader import load_campaign
from duban.testing.helpers import copy_campaign, edit_campaign

from .conftest import EXAMPLE
from .test_archive import add_a_ballot, campaign_round, remanifest, run_ok
from .test_ballots_roundtrip import fill

runner = CliRunner()
SEALED = Path("data/ballots/ballots.tar.gpg")
EVALUATOR = "PY-EVALUATOR-7"
"""The evaluator ``add_a_ballot`` records beside the marks."""
KEY = "keys/office-public.asc"
CATEGORY = "服务对象"
SOURCE = "public-evaluation"
MARKS = ("满意", "基本满意", "不满意")
SECRET = b"s" * 20
"""``campaign_round``'s ``DUBAN_SECRET``, which signs the ballot."""


@dataclass(frozen=True)
class Office:
    """The office's keypair: its GnuPG home (holding the secret key) and exported files."""

    home: Path
    public: Path
    secret: Path

    def gpg(self, *args: str, data: bytes | None = None) -> bytes:
        command = ["gpg", "--homedir", str(self.home), "--batch", "--quiet", *args]
        return subprocess.run(command, input=data, capture_output=True, check=True).stdout


@dataclass(frozen=True)
class Filed:
    env: dict[str, str]
    home: Path
    campaign: Path
    bag: Path
    ballot: str
    carrier: str


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """A keypair as the README says to make one, without a passphrase (quick: ed25519)."""
    folder = tmp_path_factory.mktemp("office")
    home = folder / "gnupg"
    home.mkdir(mode=0o700)
    keys = Office(home, folder / "office-public.asc", folder / "office-secret.asc")
    keys.gpg("--passphrase", "", "--quick-gen-key", "Office <office@localhost>", "ed25519",
             "cert", "never")  # fmt: skip
    listed = keys.gpg("--with-colons", "--list-keys", "office@localhost").decode()
    fingerprint = next(ln.split(":")[9] for ln in listed.splitlines() if ln.startswith("fpr"))
    keys.gpg("--passphrase", "", "--quick-add-key", fingerprint, "cv25519", "encr", "never")
    keys.public.write_bytes(keys.gpg("--export", "--armor", fingerprint))
    keys.secret.write_bytes(keys.gpg("--pinentry-mode", "loopback", "--passphrase", "",
                                     "--export-secret-keys", "--armor", fingerprint))  # fmt: skip
    yield keys
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def encrypting(folder: Path, key: Path) -> Path:
    """A copy of the example campaign that files its ballots encrypted to ``key``, its
    register holding the evaluator ``add_a_ballot`` records."""
    campaign = copy_campaign(EXAMPLE, folder)
    with (folder / "evaluators.csv").open("a", encoding="utf-8") as register:
        register.write(f"{EVALUATOR},平易,{CATEGORY},,全部,ping@pingyi.example\n")
    (folder / KEY).parent.mkdir()
    shutil.copyfile(key, folder / KEY)
    archive = {"ballots": "encrypt", "office_key": KEY}
    return edit_campaign(campaign, lambda data: data.update(archive=archive))


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory, office: Office) -> Filed:
    home = tmp_path_factory.mktemp("sealed-home")
    campaign = encrypting(home / "campaign", office.public)
    env = campaign_round(home, f"sqlite:///{home / 'duban.sqlite3'}", campaign)
    ballot, carrier = add_a_ballot(home, *a_ballot(campaign), source=SOURCE, category=CATEGORY)
    run_ok(["evaluate", "compute", str(campaign), "--closes", "2026-12-20"],
           {**env, "DUBAN_NOW": "2026-12-21"})  # fmt: skip
    said = run_ok(["archive", "write", str(campaign), "--out", str(home / "bag")],
                  {**env, "DUBAN_LANG": "en"})  # fmt: skip
    assert "1 raw ballots filed encrypted to the office's key" in said
    assert "left out" not in said
    return Filed(env, home, campaign, home / "bag", ballot, carrier)


def a_ballot(
    campaign: Path, marks: tuple[str, ...] = MARKS
) -> tuple[bytes, dict[str, str], dict[str, str]]:
    """The evaluator's signed ballot with the first units marked (the first with a comment),
    and the marks and comments intake reads from it."""
    bundle = load_campaign(campaign)
    source = next(s for s in bundle.campaign.scoring.sources if s.id == SOURCE)
    evaluator = next(e for e in bundle.evaluators if e.id == EVALUATOR)
    builder = BallotBuilder(bundle, source, "2026", datetime(2026, 12, 20, tzinfo=UTC), SECRET)
    units = [u.id for u in builder.rated(evaluator)[: len(marks)]]
    data = fill(builder.workbook(evaluator), [(m, None if n else "办事快")
                                               for n, m in enumerate(marks)])  # fmt: skip
    return data, dict(zip(units, marks, strict=True)), {units[0]: "办事快"}


def verify(bag: Path, *flags: str, **env: str) -> tuple[int, str]:
    result = runner.invoke(app, ["archive", "verify", str(bag), *flags],
                           env={"DUBAN_LANG": "en", "COLUMNS": "400", **env})  # fmt: skip
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def unsealed(office: Office, path: Path) -> dict[str, bytes]:
    """What plain ``gpg --decrypt`` and a tar reader give: member name → bytes."""
    plain = office.gpg("--decrypt", str(path))
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def resealed(office: Office, bag: Path, change: Any) -> None:
    """The attacker's way: open the tar, ``change`` its members, encrypt it again to the
    office's public key, and make every manifest agree."""
    members = unsealed(office, bag / SEALED)
    change(members)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (bag / SEALED).chmod(0o644)
    encrypt = ("--trust-model", "always", "--recipient-file", str(office.public), "--encrypt")
    (bag / SEALED).write_bytes(office.gpg(*encrypt, data=out.getvalue()))
    remanifest(bag)


def copy_of(filed: Filed, tmp_path: Path) -> Path:
    target = tmp_path / "bag"
    shutil.copytree(filed.bag, target)
    return target


# --- what goes in -------------------------------------------------------------------------


def test_the_ballots_are_one_encrypted_file_that_plain_gpg_opens(filed: Filed, office: Office):
    assert [p.name for p in (filed.bag / "data" / "ballots").iterdir()] == ["ballots.tar.gpg"]
    members = unsealed(office, filed.bag / SEALED)
    assert sorted(members) == sorted([f"files/{filed.ballot}.xlsx",
                                      f"messages/{filed.carrier}.eml"])  # fmt: skip
    for name, data in members.items():
        assert hashlib.sha256(data).hexdigest() == Path(name).name.split(".")[0]
    raw = RawStore(filed.home / "raw")
    assert members[f"files/{filed.ballot}.xlsx"] == raw.path(filed.ballot).read_bytes()


def test_left_out_bag_info_and_readme_say_the_ballots_are_inside(filed: Filed):
    data = filed.bag / "data"
    with (data / "left-out.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["sha256"]: row["reason"] for row in csv.DictReader(handle)}
    assert rows == {filed.ballot: ENCRYPTED_BALLOT, filed.carrier: ENCRYPTED_CARRIER}
    info = (filed.bag / "bag-info.txt").read_text(encoding="utf-8")
    for line in ("Duban-Ballots-Mode: encrypt", "Duban-Ballots-Encrypted: 1",
                 "Duban-Ballots-Left-Out: 0"):  # fmt: skip
        assert line in info
    readme = (data / "README.txt").read_text(encoding="utf-8")
    assert readme.count("gpg --decrypt ballots.tar.gpg | tar -x") == 2  # 中文 and English
    assert "archive.ballots: encrypt" in readme
    assert (data / "campaign" / "office-public.asc").read_bytes() == (
        filed.campaign.parent / KEY
    ).read_bytes()  # the archivist knows which key opens it


def test_nothing_else_in_the_bag_names_the_evaluator_or_holds_a_ballot(filed: Filed):
    raw = RawStore(filed.home / "raw")
    ballot, carrier = raw.path(filed.ballot).read_bytes(), raw.path(filed.carrier).read_bytes()
    campaign = filed.bag / "data" / "campaign"  # the register (and its kept versions): names
    files = [p for p in filed.bag.rglob("*")
             if p.is_file() and not (p.is_relative_to(campaign) and p.name.endswith(
                 "evaluators.csv"))]  # fmt: skip
    assert len(files) > 20
    for path in files:
        data = path.read_bytes()
        assert EVALUATOR.encode() not in data, path
        assert ballot not in data, path
        assert carrier not in data, path
    exported = (filed.bag / "data" / "ledger" / "evaluation_ballots.csv").read_text("utf-8-sig")
    assert exported.splitlines()[0] == "campaign_id,source_id,label,category,marks,comments"


# --- verify --------------------------------------------------------------------------------


def test_verify_without_the_key_checks_the_bytes_and_says_it_did_not_open(filed: Filed):
    code, output = verify(filed.bag)
    assert code == 0, output
    assert "checked as bytes, not opened" in output
    assert "authentic pass, complete pass, usable pass, secure pass" in output


def test_verify_with_the_office_key_opens_and_checks_each_ballot(filed: Filed, office: Office):
    code, output = verify(filed.bag, "--office-key", str(office.secret), "--no-replay")
    assert code == 0, output
    assert "opened with the office's key: 2 ballots and messages inside" in output


@pytest.mark.parametrize("tamper", ["removed", "changed"])
def test_a_ballot_tampered_inside_is_named_though_the_manifests_agree(
    filed: Filed, office: Office, tmp_path: Path, tamper: str
):
    bag = copy_of(filed, tmp_path)
    name = f"files/{filed.ballot}.xlsx"

    def change(members: dict[str, bytes]) -> None:
        if tamper == "removed":
            del members[name]
        else:
            members[name] = b"a ballot with other marks"

    resealed(office, bag, change)
    assert verify(bag, "--no-replay")[0] == 0  # only the opened ballots can tell
    code, output = verify(bag, "--office-key", str(office.secret), "--no-replay")
    assert code == 1, output
    said = {"removed": f"ballot {filed.ballot}: listed in left-out.csv as inside, not in it",
            "changed": f"{name}: content differs from its name (SHA-256)"}  # fmt: skip
    assert said[tamper] in output
    assert filed.carrier not in output  # the message is whole: not named


def test_the_wrong_key_no_key_file_or_no_gpg_is_said_first(office: Office, tmp_path: Path):
    """Before the bag is read (here there is none): a verify takes a while."""
    bag = tmp_path / "nosuch-bag"
    code, output = verify(bag, "--office-key", str(office.public))
    assert code == 1
    assert f"--office-key {office.public}: no OpenPGP secret key in it" in output
    code, output = verify(bag, "--office-key", str(tmp_path / "nosuch.asc"))
    assert code == 1
    assert "--office-key: no file" in output
    (tmp_path / "bin").mkdir()
    code, output = verify(bag, "--office-key", str(office.secret), PATH=str(tmp_path / "bin"))
    assert code == 1
    assert "GnuPG (gpg) is not installed" in output


# --- wrong settings and a missing gpg ------------------------------------------------------


def problems_of(campaign: Path) -> str:
    with pytest.raises(InvalidInputError) as caught:
        load_campaign(campaign)
    return str(caught.value) + "\n".join(caught.value.details("zh-CN"))


def test_encrypt_without_a_key_or_with_no_such_file_is_named(tmp_path: Path):
    campaign = copy_campaign(EXAMPLE, tmp_path / "c")
    edit_campaign(campaign, lambda data: data.update(archive={"ballots": "encrypt"}))
    said = problems_of(campaign)
    assert "archive: ballots: encrypt needs office_key" in said
    assert "ballots: encrypt 须写 office_key" in said
    edit_campaign(campaign, lambda data: data["archive"].update(office_key=KEY))
    said = problems_of(campaign)
    assert f"archive.office_key: no file {KEY}" in said
    assert f"找不到文件 {KEY}" in said
    edit_campaign(campaign, lambda data: data["archive"].update(ballots="seal"))
    assert "archive.ballots" in problems_of(campaign)


@pytest.mark.parametrize("wrong", ["text", "secret"])
def test_a_key_file_that_is_no_public_key_is_said(office: Office, tmp_path: Path, wrong: str):
    key = office.secret if wrong == "secret" else tmp_path / "office-public.asc"
    if wrong == "text":
        key.write_text("not a key\n", encoding="utf-8")
    with gnupg() as gpg, pytest.raises(DubanError) as caught:
        check_public_key(gpg, key)
    expected = {"text": "is not an OpenPGP key", "secret": "holds a secret key"}[wrong]
    assert expected in caught.value.message
    assert caught.value.message.startswith("archive.office_key:")
    assert caught.value.zh is not None
    assert caught.value.zh_hint is not None


def test_gpg_missing_is_said_and_no_archive_is_left(filed: Filed, tmp_path: Path):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "bag"
    env = {**filed.env, "PATH": str(empty), "DUBAN_LANG": "en"}
    result = runner.invoke(app, ["archive", "write", str(filed.campaign), "--out", str(out)],
                           env=env)  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "GnuPG (gpg) is not installed or not on the PATH" in result.output
    assert "apt install gnupg" in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bin"]  # no staging folder left behind


def test_a_ballot_the_raw_store_lacks_is_said_missing_not_sealed(office: Office, tmp_path: Path):
    store = RawStore(tmp_path / "raw")
    kept = store.put(b"a ballot that is there")
    lost = hashlib.sha256(b"a ballot the store lost").hexdigest()
    refs = RawRefs(ballot_files={kept: "a.xlsx", lost: "b.xlsx"},
                   left_out={kept: BALLOT, lost: BALLOT})  # fmt: skip
    sealed = seal(store, refs, office.public, tmp_path / "bag" / "ballots.tar.gpg")
    assert sealed.filed == {kept: ENCRYPTED_BALLOT}
    assert sealed.missing == [f"{lost} missing or damaged in the raw store (for files/{lost}.xlsx)"]
    assert sorted(unsealed(office, tmp_path / "bag" / "ballots.tar.gpg")) == [f"files/{kept}.xlsx"]


# --- the recount ---------------------------------------------------------------------------


def test_the_recount_matches_on_an_untouched_bag(filed: Filed, office: Office):
    code, output = verify(filed.bag, "--office-key", str(office.secret), "--no-replay")
    assert code == 0, output
    assert "recounted, matches: 1 raw ballots read again" in output
    assert "30 public-evaluation figures computed again from them" in output
    code, output = verify(filed.bag, "--no-replay")
    assert "not opened nor recounted" in output
    assert "recounted, matches" not in output


def edited(bag: Path, change: Any, table: str = "evaluation_ballots") -> None:
    """``change`` the exported rows of ``table`` (a list of rows, header first), then its
    schema's count of rows and every manifest made to agree."""
    path = bag / "data" / "ledger" / f"{table}.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    before = len(rows) - 1
    change(rows)
    path.chmod(0o644)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    schema = path.with_name(f"{table}.schema.json")
    schema.chmod(0o644)
    text = schema.read_text(encoding="utf-8")
    text = text.replace(f'"x-rows": {before}', f'"x-rows": {len(rows) - 1}')
    schema.write_text(text.replace(f"({before} rows", f"({len(rows) - 1} rows"), "utf-8")
    remanifest(bag)


@pytest.mark.parametrize("tamper", ["mark edited", "row deleted"])
def test_a_ballot_row_edited_or_deleted_is_named_by_the_recount(
    filed: Filed, office: Office, tmp_path: Path, tamper: str
):
    bag = copy_of(filed, tmp_path)
    units = sorted(a_ballot(filed.campaign)[1])

    def change(rows: list[list[str]]) -> None:
        [row] = [r for r in rows[1:] if r[1] == SOURCE]
        if tamper == "row deleted":
            rows.remove(row)
        else:
            row[4] = row[4].replace("不满意", "满意")

    edited(bag, change)
    code, output = verify(bag, "--no-replay")
    assert code == 0, output  # the ballots are anonymous: only the key tells
    code, output = verify(bag, "--office-key", str(office.secret), "--no-replay")
    assert code == 1, output
    assert f"ballot {filed.ballot}: its marks (source {SOURCE} round 2026) are in no row" in output
    edited_unit = next(u for u, m in a_ballot(filed.campaign)[1].items() if m == "不满意")
    named = [u for u in units if f"source {SOURCE} round 2026 unit {u}: marks" in output]
    assert named == (units if tamper == "row deleted" else [edited_unit])
    if tamper == "mark edited":
        assert "marks 1 × 满意 (服务对象), the raw ballots hold 1 × 不满意 (服务对象)" in output
        assert "no raw ballot holds this row's marks" in output


def test_a_kept_figure_the_recounted_ballots_do_not_give_is_named(
    filed: Filed, office: Office, tmp_path: Path
):
    bag = copy_of(filed, tmp_path)
    unit = next(u for u, m in a_ballot(filed.campaign)[1].items() if m == "不满意")

    def change(rows: list[list[str]]) -> None:
        column = rows[0].index("inputs")
        inputs = json.loads(rows[1][column])
        inputs[unit][SOURCE]["evidence"][0]["points"] = "100.00"  # its pool's mean
        rows[1][column] = json.dumps(inputs, ensure_ascii=False, sort_keys=True)

    edited(bag, change, "evaluations")
    code, output = verify(bag, "--office-key", str(office.secret), "--no-replay")
    assert code == 1, output
    said = (
        f"data/ledger/evaluations.csv id 1 (evaluation 2026 v1, unit {unit}, source {SOURCE}):"
        " kept figure missing, the recounted ballots give missing (its evidence differs)"
    )
    assert said in output
    assert "evaluation_ballots.csv" not in output  # the marks are as exported


@pytest.fixture(scope="module")
def twice(filed: Filed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``filed``'s ledger, then the evaluator's second ballot (other marks), received before
    the close but recorded after version 1 was computed (held, accepted in review), and
    version 2 computed with it: the bag."""
    home = tmp_path_factory.mktemp("twice-home")
    shutil.copytree(filed.home, home, dirs_exist_ok=True, ignore=shutil.ignore_patterns("bag"))
    env = {**filed.env, "DUBAN_HOME": str(home), "DUBAN_LANG": "en",
           "DUBAN_DATABASE_URL": f"sqlite:///{home / 'duban.sqlite3'}"}  # fmt: skip
    campaign = home / filed.campaign.relative_to(filed.home)
    add_a_ballot(home, *a_ballot(campaign, ("不满意", "不满意", "满意")), source=SOURCE,
                 category=CATEGORY, received=datetime(2026, 12, 11, tzinfo=UTC),
                 recorded=datetime(2026, 12, 21, 12, tzinfo=UTC))  # fmt: skip
    run_ok(["evaluate", "compute", str(campaign)], {**env, "DUBAN_NOW": "2026-12-22"})
    run_ok(["archive", "write", str(campaign), "--out", str(home / "bag")], env)
    return home / "bag"


def test_the_recount_counts_as_each_version_did_the_later_ballot_superseding(
    twice: Path, office: Office
):
    """Version 1 counted the first ballot alone, version 2 the second in its place: the
    recount gives both (it would not if it put the second back before version 1, or
    counted both for version 2)."""
    with (twice / "data" / "ledger" / "evaluations.csv").open(encoding="utf-8-sig") as handle:
        kept = [json.loads(row["inputs"]) for row in csv.DictReader(handle)]
    pools = [[e for e in k["T01"][SOURCE]["evidence"] if e["kind"] == "pool"] for k in kept]
    assert [p[0]["points"] for p in pools] == ["100.00", "0.00"]  # 满意, then 不满意
    assert [p[0]["facts"][0] for p in pools] == [["count", "1"], ["count", "1"]]
    code, output = verify(twice, "--office-key", str(office.secret), "--no-replay")
    assert code == 0, output
    assert "recounted, matches: 2 raw ballots read again" in output
    assert "60 public-evaluation figures computed again" in output
