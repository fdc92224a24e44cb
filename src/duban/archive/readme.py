"""The bag's README.txt: for a person who has never heard of duban, in Chinese and English."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from duban import __version__
from duban.model.loader import CampaignBundle

if TYPE_CHECKING:
    from duban.archive.write import ArchiveReport

ZH = """\
归档说明（{title}，活动编号 {id}）
====================================

这是一份“督办”（duban）活动的电子归档，按 BagIt 格式（RFC 8493）封装。duban 是协调办公室
用来向众多成员单位下发通知、收取报表、催办、汇总、通报和评议的软件；本归档收录了这次活动
“要求了什么、各单位何时报送了什么、发出了哪些通知和催办、作出了哪些决定、得出了哪些结果”。
不需要安装 duban 即可查看和核验。

目录（data/ 下）
- campaign/          活动文件和单位名单（原样）；registered/ 为每次 duban init 登记时保存的各个版本
- received/messages/ 收到的每封邮件原文（.eml），文件名为其 SHA-256
- received/files/    邮件中的每个附件，文件名为其 SHA-256；原文件名见 ledger/intake_files.csv
- received/other/    事件日志中提到的其他原件（如导入的整改、加减分表），文件名为其 SHA-256
- sent/              duban 发出的每封邮件的原始字节（.eml）和群机器人消息（.json），
                     文件名为其 SHA-256
- ledger/            本活动的台账，每张表一个 CSV 文件（UTF-8 带 BOM，可用 Excel 打开），
                     旁边的 .schema.json 说明每一列（JSON Schema）
- events.jsonl       事件日志（留痕）：每行一件事，按编号递增，谁、何时、做了什么
- outputs/           活动的全部产出：汇总表、通报、整改台账、督查和评议结果等
- templates/         生成邮件通报网页所用的模板（复核时据此重新生成通报网页并逐行核对）
- duban-version.txt  生成本归档的 duban 版本（{version}）
- left-out.csv       按设计不以明文收录的原件（民主评议选票及其来件）的 SHA-256（如有）
- ballots/           加密的原始选票及其来件（ballots.tar.gpg），仅当活动设置
                     archive.ballots: encrypt
- 归档包根目录下的 四性检测报告.txt 和 four-properties.json：按 DA/T 70-2018 对真实性、完整性、
  可用性、安全性的检测结果（检测了什么、多少项、哪些未通过）

核验方法
- 清单文件 manifest-sha256.txt 和 manifest-sm3.txt 分别列出 data/ 下每个文件的 SHA-256 和
  SM3（GB/T 32905）杂凑值；tagmanifest-*.txt 覆盖清单本身和 bag-info.txt。
- 任何 BagIt 工具都可核验，例如在归档目录中运行：sha256sum -c manifest-sha256.txt；
  SM3 可用 openssl dgst -sm3 文件名 逐个核对；装有 duban 时运行 duban archive verify 本目录。
- bag-info.txt 记录了事件日志的条数（{count} 条）、最后编号和整个文件的 SHA-256，
  删改任何一行事件都会被发现。

本归档不包含的内容
{ballots_zh}
- 早于本功能的已发邮件没有保存原始字节：{unkept} 封，见 sent/not-kept.csv（如有）。
- 原始存储中缺失或损坏的对象：{missing} 个，见 MISSING.txt（如有）。
"""

EN = """\
About this archive ({title}, campaign id {id})
==========================================================

This is the electronic archive of a campaign run with duban, packaged as a BagIt bag (RFC 8493).
duban is software a coordinating office uses to send notices to many member units, collect
their spreadsheets, chase the late ones, compile results, publish bulletins and run
evaluations. This archive holds what the campaign asked, what each unit sent and when, every
notice and reminder sent, every decision and every result. You do not need duban to read or
check it.

Layout (under data/)
- campaign/          the campaign file and the roster of units, as given; registered/ holds
                     every version kept when `duban init` registered it
- received/messages/ every message received, as it arrived (.eml), named by its SHA-256
- received/files/    every file found in them, named by SHA-256; the original names are in
                     ledger/intake_files.csv
- received/other/    any other original an event names (an imported sheet), by SHA-256
- sent/              the exact bytes of every message duban sent (.eml) and bot post (.json),
                     named by SHA-256
- ledger/            the campaign's ledger, one CSV file per table (UTF-8 with a byte-order
                     mark, so Excel reads the Chinese), with a JSON Schema (.schema.json) beside
- events.jsonl       the event log: one event a line, ids increasing: who did what, and when
- outputs/           everything the campaign produced: summary workbooks, bulletins,
                     rectification ledgers, inspection and evaluation results
- templates/         the templates the mailed bulletins were rendered with (the check renders
                     each mailed bulletin again with them and compares it line by line)
- duban-version.txt  the version of duban that wrote this archive ({version})
- left-out.csv       the SHA-256 of the originals not filed in the clear by design (ballots and
                     the messages carrying them), when there are any
- ballots/           the raw ballots and their messages, encrypted (ballots.tar.gpg), only when
                     the campaign sets archive.ballots: encrypt
- beside data/, 四性检测报告.txt and four-properties.json: the four-properties report
  (DA/T 70-2018: authentic, complete, usable, secure): what was checked, on how many items,
  which failed

How to check it
- manifest-sha256.txt and manifest-sm3.txt list the SHA-256 and the SM3 (GB/T 32905) digest
  of every file under data/; the tagmanifest-*.txt files cover the manifests and bag-info.txt.
- Any BagIt tool checks it; or, in this folder, `sha256sum -c manifest-sha256.txt`; SM3 with
  `openssl dgst -sm3 FILE`; with duban installed, `duban archive verify THIS-FOLDER`.
- bag-info.txt records the number of events ({count}), the last id and the SHA-256 of the
  whole event log, so removing or editing an event is found.

What this archive leaves out
{ballots_en}
- Sent messages whose bytes duban did not keep (sent before it kept them): {unkept}, listed in
  sent/not-kept.csv when there are any.
- Raw objects missing or damaged in the store: {missing}, listed in MISSING.txt when any.
"""


LEFT_OUT_ZH = """\
- 民主评议的原始选票（{ballots} 份）：选票上同时有评议人和打分，为保护评议匿名不予收录
  （活动设置 archive.ballots: leave-out）；ledger/evaluation_ballots.csv 只保留分数、意见和
  评议人类别，不含评议人、来件和时间。"""
SEALED_ZH = """\
- 民主评议的原始选票（{sealed} 份）及其来件不以明文收录：按活动设置 archive.ballots: encrypt，
  它们装在 ballots/ballots.tar.gpg 中，用办公室的 OpenPGP 公钥（campaign/ 下的公钥文件）加密，
  只有持有对应私钥者能打开：gpg --decrypt ballots.tar.gpg | tar -x（解出 files/ 下的选票和
  messages/ 下的来件，文件名为其 SHA-256；left-out.csv 列出每一件）。其余文件中没有评议人与
  打分的对应：ledger/evaluation_ballots.csv 只保留分数、意见和评议人类别。持有私钥者运行
  duban archive verify 本目录 --office-key 私钥文件，可逐份核对选票的杂凑值，并重新计票：
  重新读取每份选票，与 evaluation_ballots.csv 的打分及考核所记的民主评议得分逐一核对。"""
LEFT_OUT_EN = """\
- The raw ballots of public evaluation ({ballots}): a ballot names its evaluator beside the
  marks, so to keep the evaluation anonymous they stay out (the campaign sets archive.ballots:
  leave-out). ledger/evaluation_ballots.csv keeps the marks, comments and evaluator category,
  without the evaluator, the file or the times."""
SEALED_EN = """\
- The raw ballots of public evaluation ({sealed}) and the messages that carried them are not
  filed in the clear: the campaign sets archive.ballots: encrypt, so they are inside
  ballots/ballots.tar.gpg, encrypted with OpenPGP to the office's public key (its file is
  under campaign/). Only the holder of the matching secret key opens it:
  `gpg --decrypt ballots.tar.gpg | tar -x` gives files/ (the ballots) and messages/ (the
  messages), named by SHA-256; left-out.csv lists each. Nothing else here puts an evaluator
  beside marks: ledger/evaluation_ballots.csv keeps the marks, comments and evaluator category.
  With the secret key, `duban archive verify THIS-FOLDER --office-key SECRET-KEY-FILE` checks
  each one against its hash and recounts: it reads every ballot again and compares its marks
  with evaluation_ballots.csv and the evaluations' public-evaluation figures."""


def write(path: Path, bundle: CampaignBundle, report: ArchiveReport) -> None:
    events = report.events
    values = {
        "title": bundle.campaign.title, "id": bundle.campaign.id, "version": __version__,
        "count": 0 if events is None else events.count, "ballots": report.ballots_left_out,
        "unkept": report.unkept_sent, "missing": len(report.missing),
        "sealed": report.ballots_sealed,
    }  # fmt: skip
    sealed = report.ballots == "encrypt"
    values["ballots_zh"] = (SEALED_ZH if sealed else LEFT_OUT_ZH).format(**values)
    values["ballots_en"] = (SEALED_EN if sealed else LEFT_OUT_EN).format(**values)
    text = ZH.format(**values) + "\n\n" + EN.format(**values)
    path.write_text(text, encoding="utf-8")
