"""Notices per second end to end: plan, personalise, check, build, send, record.

    .venv/bin/python bench/mobilize.py [--units 1000] [--baseline 200]

A synthetic roster of N units on the example campaign, a SQLite ledger, and an SMTP server
with STARTTLS and AUTH in another process (bench/smtp_sink.py). duban's path is the one the
mobilize flow runs (``send_notices`` per batch of 200 over one connection each, a ledger row
committed per message); the baseline sends the same messages with yagmail's plain ``send()``,
which logs in again for every message. Both in the same run; the ratio is what counts.
Targets (issue 3): at least 200 messages/s over STARTTLS+AUTH.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yagmail

from duban.adapters.mail import SmtpMailer, parse_smtp_url
from duban.adapters.render import environment
from duban.clock import FixedClock
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.store import register
from duban.mobilize.notices import notice_drafts
from duban.mobilize.send import NoticeRequest, instances_by_id, plan_notices, send_notices
from duban.model.loader import load_campaign
from duban.sending.batching import batches
from duban.testing.mailserver import make_self_signed_certificate

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "youhuaban@jt.example", "bench-password"
SECRET = b"bench secret, long enough for HMAC"
NOW = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)


KEY_TASK_EVERY = 10
"""Synthetic units per synthetic key task (``synthetic_chains``)."""


def synthetic_campaign(folder: Path, units: int, *, key_tasks: bool = False) -> Path:
    """The example campaign with N synthetic units (U00000 …) beside its 20 B units; with
    ``key_tasks``, also one synthetic key task per ``KEY_TASK_EVERY`` units
    (``synthetic_key_tasks``), so the quarterly progress's chains grow with N."""
    shutil.copytree(ROOT / "data" / "example", folder, dirs_exist_ok=True)
    lines = ["id,name,tags,emails,head_email"]
    lines += [
        f"U{n:05d},第{n}单位,镇区,u{n}@bench.example,h{n}@bench.example" for n in range(units)
    ]
    # the example's key tasks name real roster ids: keep those units too
    example = (ROOT / "data" / "example" / "roster.csv").read_text(encoding="utf-8").splitlines()
    lines += [line for line in example[1:] if line.startswith("B")]
    (folder / "roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "inspectors.csv").write_text(synthetic_inspectors(units), encoding="utf-8")
    (folder / "evaluators.csv").write_text(synthetic_evaluators(), encoding="utf-8")
    campaign = folder / "campaign.yaml"
    if key_tasks:
        text = campaign.read_text(encoding="utf-8")
        head, forms = text.split("\nforms:\n", 1)  # the key tasks' list ends before the forms
        added = "".join(f"{line}\n" for line in synthetic_key_tasks(units))
        campaign.write_text(f"{head.rstrip()}\n{added}\nforms:\n{forms}", encoding="utf-8")
    return campaign


def synthetic_chains(units: int) -> list[tuple[str, list[str]]]:
    """The synthetic key tasks' lead and partners, one task per ``KEY_TASK_EVERY`` units: task
    k led by U(10k) with partners U(10k+1), U(10k+2), U(10k+3); in every fourth task from the
    second on, the third partner is the previous task's first instead, which then partners two
    tasks (two rows in its own template, one in each lead's)."""
    chains = []
    for k in range(units // KEY_TASK_EVERY):
        first = KEY_TASK_EVERY * k
        partners = [first + 1, first + 2, first + 3]
        if k % 4 == 1:
            partners[2] = first - KEY_TASK_EVERY + 1
        chains.append((f"U{first:05d}", [f"U{p:05d}" for p in partners]))
    return chains


def synthetic_task_title(k: int) -> str:
    return f"合成重点工作{k:05d}：完善工作机制，推进重点项目"


def synthetic_key_tasks(units: int) -> list[str]:
    """The campaign file's lines of the synthetic key tasks (``synthetic_chains``), after the
    example's five."""
    lines = []
    for k, (lead, partners) in enumerate(synthetic_chains(units)):
        lines += [f"  - id: kt{k:05d}", f"    title: {synthetic_task_title(k)}",
                  f"    lead: {lead}", f"    partners: [{', '.join(partners)}]"]  # fmt: skip
    return lines


def synthetic_evaluators(count: int = 50) -> str:
    """An evaluator register for the synthetic roster (the example's names towns it drops):
    ``count`` evaluators over the example's five categories, of no unit, rating every unit."""
    categories = ("党代表", "人大代表", "政协委员", "企业", "服务对象")
    rows = ["编号,姓名,类别,所在单位,测评范围,联系邮箱"]
    rows += [f"E{n:03d},评议人{n},{categories[n % 5]},,全部,e{n}@bench.example"
             for n in range(count)]  # fmt: skip
    return "\n".join(rows) + "\n"


def synthetic_inspectors(units: int, count: int = 40) -> str:
    """An inspector register for the synthetic roster (the example's names towns it drops):
    ``count`` inspectors of the example's departments, each declaring a conflict with one
    synthetic unit."""
    rows = ["id,name,unit,tags,conflicts,emails"]
    rows += [
        f"I{n:03d},检查员{n},B{n % 20 + 1:02d},督查,U{n * 7 % units:05d},i{n}@bench.example"
        for n in range(count)
    ]
    return "\n".join(rows) + "\n"


def start_sink(folder: Path) -> tuple[subprocess.Popen[str], int]:
    cert, key = make_self_signed_certificate(folder)
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(cert), str(key), USER,
         PASSWORD],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert sink.stdout is not None
    return sink, int(sink.stdout.readline())


def duban_rate(campaign: Path, url: str, ledger: str) -> tuple[float, int]:
    bundle = load_campaign(campaign)
    engine = make_engine(ledger)
    migrate(engine)
    clock, env = FixedClock(NOW), environment()
    with session_scope(engine) as session:
        register(session, bundle, clock)
    start = time.perf_counter()
    with session_scope(engine) as session:
        plan = plan_notices(
            session, bundle, NoticeRequest("plan"), clock=clock, secret=SECRET, env=env
        )
    outcomes = []
    for batch in batches(plan.instance_ids, 200):
        with session_scope(engine) as session, SmtpMailer(parse_smtp_url(url)) as mailer:
            outcomes += send_notices(
                session, bundle, batch, mailer=mailer, clock=clock, secret=SECRET, env=env
            )
    elapsed = time.perf_counter() - start
    engine.dispose()
    sent = sum(o.sent_now for o in outcomes)
    return sent / elapsed, sent


def yagmail_rate(campaign: Path, port: int, cafile: Path, count: int) -> float:
    """The same notices, built by duban once, then each sent with yagmail's ``send()``."""
    import ssl

    bundle = load_campaign(campaign)
    folder = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{folder / 'baseline.sqlite3'}")
    migrate(engine)
    clock, env = FixedClock(NOW), environment()
    with session_scope(engine) as session:
        register(session, bundle, clock)
        plan = plan_notices(
            session, bundle, NoticeRequest("plan"), clock=clock, secret=SECRET, env=env
        )
        drafts = notice_drafts(
            bundle, instances_by_id(session, plan.instance_ids[:count]), secret=SECRET, env=env,
            now=NOW,
        )  # fmt: skip
    attachments = []
    for draft in drafts:
        outgoing = draft.compose("<x@bench.example>")
        path = folder / outgoing.attachments[0].filename
        path.write_bytes(outgoing.attachments[0].content)
        attachments.append((outgoing, path))
    context = ssl.create_default_context(cafile=str(cafile))
    yag = yagmail.SMTP(
        {USER: USER}, PASSWORD, host="127.0.0.1", port=port, smtp_ssl=False,
        smtp_starttls={"context": context},
    )  # fmt: skip
    start = time.perf_counter()
    for outgoing, path in attachments:
        yag.send(
            to=[a.email for a in outgoing.to], subject=outgoing.subject,
            contents=[outgoing.html or "", str(path)],
        )  # fmt: skip
    elapsed = time.perf_counter() - start
    yag.close()
    return len(attachments) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        campaign = synthetic_campaign(folder / "campaign", args.units)
        sink, port = start_sink(folder)
        url = f"smtp+starttls://{USER}:{PASSWORD}@127.0.0.1:{port}?cafile={folder / 'cert.pem'}"
        rate, sent = duban_rate(campaign, url, f"sqlite:///{folder / 'ledger.sqlite3'}")
        baseline = yagmail_rate(campaign, port, folder / "cert.pem", args.baseline)
        assert sink.stdin is not None
        assert sink.stdout is not None
        sink.stdin.close()
        received, sessions = sink.stdout.readline().split()
        sink.wait()
    say = print
    say(f"duban mobilize   {sent:6d} notices  {rate:8.1f} msg/s  (end to end, ledger included)")
    say(f"yagmail send()   {args.baseline:6d} notices  {baseline:8.1f} msg/s  (send only)")
    say(f"server received {received} messages over {sessions} SMTP sessions")
    say(f"ratio duban / yagmail: {rate / baseline:.1f}x; target ≥ 200 msg/s: "
        f"{'met' if rate >= 200 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
