"""The board's words in Chinese and English; the campaign's language picks (``words_for``)."""

from __future__ import annotations

from collections.abc import Callable

from duban.errors import is_chinese

WORDS: dict[str, tuple[str, str]] = {
    "board": ("督办看板", "duban board"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "wrong_login": ("用户名或密码不对", "Wrong user name or password"),
    "throttled": ("尝试次数过多，请 15 分钟后再试", "Too many tries: wait 15 minutes"),
    "campaigns": ("活动", "Campaigns"),
    "overview": ("概况", "Overview"),
    "matrix": ("报送情况", "Status matrix"),
    "held": ("待核", "Held for review"),
    "files": ("文件下载", "Downloads"),
    "phases": ("阶段", "Phases"),
    "deliverable": ("报送事项", "Deliverable"),
    "period": ("期次", "Period"),
    "due": ("截止", "Due"),
    "expected": ("应报", "Expected"),
    "received": ("已收", "Received"),
    "on_time": ("按时", "On time"),
    "late": ("逾期报送", "Late"),
    "missing": ("未报", "Missing"),
    "rejected": ("退回", "Rejected"),
    "pending": ("未到期", "Not yet due"),
    "completeness": ("报送率", "Completeness"),
    "timeliness": ("及时率", "Timeliness"),
    "due_today": ("今日截止", "Due today"),
    "overdue": ("已逾期未报", "Overdue"),
    "search": ("搜索单位名称或编号", "Search unit name or id"),
    "tag": ("标签", "Tag"),
    "state": ("状态", "State"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "export": ("导出 Excel", "Export to Excel"),
    "unit": ("单位", "Unit"),
    "unit_id": ("编号", "Id"),
    "sort": ("排序", "Sort"),
    "sort_unit": ("按编号", "By id"),
    "sort_name": ("按名称", "By name"),
    "sort_trouble": ("问题多的在前", "Most trouble first"),
    "page": ("页", "Page"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "units_shown": ("个单位", "units"),
    "history": ("记录", "History"),
    "duties": ("报送义务", "Duties"),
    "messages": ("发出的邮件", "Messages sent"),
    "replies": ("收到的回复", "Replies received"),
    "download": ("下载", "Download"),
    "accept": ("接收", "Accept"),
    "reject": ("退回", "Reject"),
    "dismiss": ("搁置", "Set aside"),
    "note": ("理由", "Reason"),
    "note_to_sender": ("退回说明（发给寄件人）", "Note to the sender"),
    "extend": ("延期", "Extend"),
    "exempt": ("免报", "Exempt"),
    "new_due": ("新截止日", "New due day"),
    "reason": ("理由", "Reason"),
    "events": ("操作记录", "Audit trail"),
    "when": ("时间", "When"),
    "what": ("事项", "What"),
    "who": ("经办人", "Who"),
    "sender": ("寄件人", "Sender"),
    "subject": ("主题", "Subject"),
    "file": ("文件", "File"),
    "outcome": ("结果", "Outcome"),
    "nothing": ("暂无", "Nothing yet"),
    "forbidden": ("无权执行此操作", "Your role may not do this"),
    "bad_form": ("表单已过期，请刷新页面后重试", "The form expired: reload the page and try again"),
    "not_found": ("找不到", "Not found"),
    "rectification": ("整改事项", "Rectification items"),
    "inspections": ("督查得分", "Inspection scores"),
    "evaluation": ("考核得分", "Evaluation"),
    "recipients": ("收件人", "Recipients"),
    "status": ("状态", "Status"),
    "as_of": ("截至", "As of"),
    "read_only": ("只读账号", "read-only"),
    "legend": ("图例", "Legend"),
    "no_units": ("没有符合条件的单位", "No unit matches"),
    "done": ("已完成", "Done"),
    "overdue_items": ("只看逾期", "Overdue only"),
    "measure": ("整改措施", "Measure"),
    "close_item": ("销号", "Close"),
    "return_item": ("退回", "Return"),
    "inspection_rounds": ("督查轮次", "Inspection rounds"),
    "assigned_only": ("只显示分派给您的轮次和单位", "Only the rounds and units assigned to you"),
    "inspection": ("督查事项", "Inspection"),
    "seed": ("随机种子", "Seed"),
    "units_drawn": ("抽中单位", "Units drawn"),
    "ranking": ("排名", "Ranking"),
    "group": ("组别", "Group"),
    "total": ("总分", "Total"),
    "flagged": ("末位", "Last-ranked"),
    "commended": ("表扬", "Commended"),
    "appeals": ("复核申请", "Appeals"),
    "decision": ("处理意见", "Decision"),
    "uphold_hint": ("成立时：来源=数值", "upheld: source=value"),
    "decide": ("处理", "Decide"),
    "runs": ("一键执行", "Run now"),
    "runs_on_server": ("在 Prefect 服务器上运行：", "Runs on the Prefect server"),
    "runs_here": ("在本机运行（未设置 Prefect 服务器）", "Runs here (no Prefect server set)"),
    "run_collect": ("收件", "Collect replies"),
    "run_chase": ("催办", "Chase"),
    "run_remind": ("一键催办", "Remind now"),
    "run_compile": ("汇总和通报", "Summary and bulletin"),
    "run_inspect": ("督查抽取（临时）", "Inspection round (ad hoc)"),
    "start": ("开始", "Start"),
    "scheduled": ("接下来的定时运行", "Scheduled next"),
    "started": ("从看板启动的运行", "Started from the board"),
}

CELLS: dict[str, tuple[str, str]] = {
    "on-time": ("按时", "on time"),
    "late": ("逾期报送", "late"),
    "missing": ("未报", "missing"),
    "rejected": ("退回", "rejected"),
    "held": ("待核", "held"),
    "extended": ("已延期", "extended"),
    "exempt": ("免报", "exempt"),
    "due-today": ("今日截止", "due today"),
    "pending": ("未到期", "not yet due"),
}


NAMES: dict[str, tuple[str, str]] = {
    # what became of a message or a file
    "accepted": ("已接收", "accepted"),
    "rejected": ("已退回", "rejected"),
    "held": ("待核", "held"),
    "ignored": ("已忽略", "ignored"),
    "duplicate": ("重复件", "duplicate"),
    "quarantined": ("已隔离", "quarantined"),
    "attached": ("已归入", "attached"),
    "dismissed": ("已搁置", "set aside"),
    "received": ("已收到", "received"),
    # what a message was
    "notice": ("通知", "notice"),
    "reminder": ("提醒", "reminder"),
    "final-notice": ("催办", "final notice"),
    "overdue-notice": ("督办", "overdue notice"),
    "escalation": ("上报", "escalation"),
    "remind": ("一键催办", "reminder (by hand)"),
    "ack": ("回执", "acknowledgement"),
    "rejection": ("退回通知", "rejection"),
    "lead-copy": ("汇总副本", "lead's copy"),
    "bulletin": ("通报", "bulletin"),
    "bot": ("群机器人", "group bot"),
    # whether it went out
    "sent": ("已发送", "sent"),
    "partial": ("部分送达", "partly delivered"),
    "refused": ("被拒收", "refused"),
    "failed": ("发送失败", "failed"),
    "pending": ("待发送", "pending"),
    "sending": ("发送中", "sending"),
    "previewed": ("已预览", "previewed"),
    # an evaluation's versions and its appeals
    "preliminary": ("初步结果", "preliminary"),
    "frozen": ("定稿", "frozen"),
    "appeal-open": ("待处理", "open"),
    "appeal-upheld": ("成立", "upheld"),
    "appeal-rejected": ("不成立", "not upheld"),
    # an inspection round
    "committed": ("已承诺待抽取", "committed"),
    "drawn": ("已抽取待审定", "drawn"),
    "approved": ("已审定", "approved"),
    "notified": ("已通知", "notified"),
}


def names_for(language: str) -> Callable[[str | None], str]:
    """``named(code)`` for open vocabularies (outcomes, message kinds): a code without a name
    yet is shown as it is, not an error."""
    index = 0 if is_chinese(language) else 1

    def named(code: str | None) -> str:
        if code is None:
            return ""
        return NAMES[code][index] if code in NAMES else code

    return named


def words_for(language: str) -> Callable[[str], str]:
    """``t("key")`` in the language; a missing key is a bug, so it raises."""
    index = 0 if is_chinese(language) else 1

    def t(key: str) -> str:
        if key in WORDS:
            return WORDS[key][index]
        return CELLS[key][index]

    return t
