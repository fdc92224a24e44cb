"""真实性 (authentic): the files are the ones filed, the event log is the one recorded, each
received or sent object is the one its name says, the campaign files are the ones registered."""

from __future__ import annotations

from pathlib import PurePosixPath

from duban.archive.events import DIGEST, HEAD, against_info
from duban.archive.fourprops.bagview import BagView
from duban.archive.fourprops.model import Check
from duban.archive.sources import KEPT

ADDRESSED = ("data/received/", "data/sent/")
REGISTERED = "data/campaign/registered/"


def checks(view: BagView) -> list[Check]:
    return [fixity(view), event_chain(view), content_addressed(view), campaign_sources(view)]


def fixity(view: BagView) -> Check:
    check = Check("fixity", "每个内容文件的 SHA-256 与 SM3 杂凑值与清单相符",
                  "every payload file's SHA-256 and SM3 match the manifests",
                  items=len(view.payload()))  # fmt: skip
    check.said([p for p in view.manifests.problems if p.where.startswith("data/")])
    return check


def event_chain(view: BagView) -> Check:
    read = view.events
    check = Check("event_chain", "事件哈希链从第一条事件到 bag-info.txt 记载的末端连续未断",
                  "the event hash chain is unbroken from the first event to the head "
                  "bag-info.txt records", items=read.count)  # fmt: skip
    if not read.present:
        check.fail("data/events.jsonl", "missing", "缺失")
        return check
    check.said([*read.lines, *read.chain])
    check.said(against_info("data/events.jsonl", view.info, {HEAD: read.head, DIGEST: read.sha256}))
    return check


def content_addressed(view: BagView) -> Check:
    """Named by SHA-256 (the manifest's, which ``fixity`` holds to the bytes)."""
    check = Check("content_addressed", "收到和发出的每个原件的文件名等于其 SHA-256；"
                  "登记版本的文件名以其 SHA-256 前 16 位开头",
                  "every received and sent object is named by its SHA-256; every registered "
                  "version's name starts with its first 16 hex digits")  # fmt: skip
    for relative in view.payload():
        name = PurePosixPath(relative).name
        if relative.startswith(ADDRESSED) and not name.endswith(".csv"):
            expected = name.split(".", 1)[0]
        elif relative.startswith(REGISTERED):
            expected = name.split("-", 1)[0]
        else:
            continue
        check.items += 1
        if not view.sha256(relative).startswith(expected) or len(expected) < 16:
            check.fail(
                relative,
                f"named {expected}, its SHA-256 is {view.sha256(relative)}",
                f"文件名为 {expected}，而其 SHA-256 为 {view.sha256(relative)}",
            )
    return check


def campaign_sources(view: BagView) -> Check:
    """Every version a ``campaign.sources_kept`` event recorded is in ``registered/`` with that
    hash; the campaign files as given are the last version registered."""
    check = Check(
        "campaign_sources",
        "事件日志记载的每个活动文件版本都在 campaign/registered/ 中且"
        "杂凑值相符；campaign/ 下的活动文件即最后登记的版本",
        "every campaign file version the event log recorded is in campaign/registered/ "
        "with that hash; the campaign files given are the last version registered",
    )
    registered = {view.sha256(p): p for p in view.payload() if p.startswith(REGISTERED)}
    last: dict[str, str] = {}  # file name → its last registered hash
    seen: set[str] = set()
    for event in view.event_lines():
        if event.get("kind") != KEPT:
            continue
        for item in dict((event.get("payload") or {}).get("files", {})).values():
            sha, name = str(item.get("sha256", "")), str(item.get("name", ""))
            last[name] = sha
            if sha in seen:
                continue
            seen.add(sha)
            check.items += 1
            if sha not in registered:
                check.fail(f"{REGISTERED}{sha[:16]}-{name}", f"recorded ({sha}), not in the bag",
                           f"事件日志记载了此版本（{sha}），归档包中没有")  # fmt: skip
    for name, sha in last.items():
        given = f"data/campaign/{name}"
        if given in view.manifests.listed:
            check.items += 1
            if view.sha256(given) != sha:
                check.fail(given, "differs from the version last registered (duban init)",
                           "与最后一次登记（duban init）的版本不同")  # fmt: skip
    return check
