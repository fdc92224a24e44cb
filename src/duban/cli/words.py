"""The command line's Chinese: help of every command and option, and click's own phrases.

The English stays where it is written (the commands' docstrings and ``help=``), so the code
reads as before; this catalog gives the Chinese beside it, keyed by command and parameter. A
test fails when a command or an option has no Chinese here, so a new one cannot be missed.
"""

from __future__ import annotations

APP_ZH = "督办 duban：通过邮件和电子表格，对众多单位分阶段开展专项工作。"

_INSPECTION = "活动文件中督查事项的编号"
_ROUND = "轮次：如 2026-Q2 的期次，或自定标签（默认：本期，临时督查为今天）"
_COUNT = "每层抽取的单位数（默认：活动文件所写）"
_TAG = "只抽带此标签的单位（可重复）"
_BY = "操作人（记入操作记录）"

COMMANDS_ZH = {
    "validate": "检查活动文件、表单和花名册；有问题则逐条列出，退出码 1。",
    "init": "建立或升级台账，登记活动和花名册（可重复运行）。",
    "status": "各报送事项、各期次：应报、已收、按时、逾期、未报、退回；整改事项按标签、"
    "按单位的整改完成率；配合单位先报牵头单位的，各项重点工作的牵头、配合单位及逾期单位。",
    "mobilize": "向每个承担单位发送通知和其专属模板（动员部署）。",
    "approve": "核准已预览的通知，下一次 mobilize 才会发出。",
    "collect": "收取单位来件：保存、逐格校验、登记并回复。",
    "review": "列出待核（M… 邮件、F… 文件）；打开其中一项；或作出处理决定。",
    "chase": "按催办梯次，给每项逾期未报的任务发送当前应发的提醒。",
    "remind": "一键催办：立即提醒选定的、某期次仍未报送的单位（不按梯次）。",
    "compile": "生成某报送事项某期次的汇总表和通报。",
    "outbox": "duban 发出了什么、发给谁、何时发出、发送状态（来自台账）。",
    "extend": "批准延期：为某单位某项任务定一个新的截止日，并写明理由。",
    "exempt": "批准免报：该单位此项任务无需报送，并写明理由。",
    "rectify": "整改台账：列出、查看和核验整改事项（销号、退回、延期、作废），导入交办问题，"
    "生成台账工作簿和核验销号表，导入核验结论。",
    "rectify import": "从电子表格导入交办给各单位的问题（督查交办），登记为整改事项。",
    "rectify ledger": "生成整改台账工作簿：全部事项、每个标签一张表、逾期未完成、各项比率。",
    "rectify list": "列出整改事项：编号、单位、类别、问题描述、整改时限、状态、是否逾期。",
    "rectify show": "查看一项整改事项：发现的问题、当前进展及全部操作记录。",
    "rectify close": "核验属实后，对已申请销号的事项销号。",
    "rectify return": "退回已申请销号的事项：尚未整改到位，回到整改中，并写明理由。",
    "rectify extend": "延长未办结事项的整改时限（延期），并写明理由。",
    "rectify cancel": "作废不属于问题的事项，并写明理由；事项仍保留在台账中。",
    "rectify sheet": "生成核验销号表：全部已申请销号的事项，每项一行，供填写核验结论。",
    "rectify verdicts": "导入填好的核验销号表：逐项销号或退回，有误则全部不记录。",
    "inspect": "督查检查（双随机）：承诺、抽取、审定、回避、复核、公示、通报。",
    "inspect commit": "在随机种子产生之前，记录本轮抽取的承诺（名录、参数及其哈希）。",
    "inspect draw": "用随机种子抽取被检查单位和检查组；审定之前不通知任何人。",
    "inspect approve": "审定已抽取的轮次：检查组就此确定，可以通知。",
    "inspect notify": "向已审定轮次的检查人员发送任务通知和各单位评分表"
    "（事先通知的也告知被检查单位）。",
    "inspect recuse": "某检查人员对某单位回避，由该单位顺序中下一位符合条件的人员替补。",
    "inspect verify": "根据台账重新计算某轮抽取，判断是否一致（不一致时退出码 1）。",
    "inspect status": "列出督查轮次：状态、承诺、种子、抽中单位。",
    "inspect publish": "生成抽取结果公示页（双随机一公开）：名录、哈希、种子、结果。",
    "inspect report": "生成本轮督查汇总表和督查通报；加 --send 发送通报。",
    "evaluate": "评议考核：发送测评表、导入加减分、计算、反馈结果、复核申请、复核处理、定稿、"
    "复算核对、查看状态。",
    "evaluate ballots": "向评议人名录中的每位评议人发送本轮专属测评表（每人只发一次），"
    "并告知和记录测评截止时间。",
    "evaluate adjustments": "导入加分、扣分表：单位、分值、事由、依据，每行一项；"
    "有误则全部不导入。",
    "evaluate compute": "根据台账计算各单位得分、组内排名和得分说明（初步结果）。",
    "evaluate publish": "向各单位发送考核结果（每个单位只发一次）：初步结果附得分说明和"
    "复核申请表，并开始复核申请期；定稿后附最终得分说明和考核通报，通报同时发送分送名单。",
    "evaluate appeal": "登记某单位对其得分说明某一项的复核申请。",
    "evaluate decide": "处理复核申请：--uphold 来源=数值 为成立（更正后重新计算），否则为不成立。",
    "evaluate freeze": "考核结果定稿：尚有未处理的复核申请时拒绝；定稿后不再重新计算。",
    "evaluate verify": "根据台账复算最新一版，核对输入和结果的哈希（不一致时退出码 1）。",
    "evaluate status": "列出考核各版本（状态、截止时间、种子、结果哈希）和复核申请。",
    "verify": "按哈希链核对台账中每个活动的事件日志，并显示可另行记下的链末端。",
    "board": "启动督办看板（网页）：报送情况矩阵、单位页面、待核事项、文件下载和日常操作。",
    "users": "看板账号：添加、列出、改密码、停用、启用。",
    "users add": "添加一个看板账号并指定角色。",
    "users passwd": "为看板账号设置新密码。",
    "users disable": "停用看板账号：下次打开页面即退出登录，且不能再登录。",
    "users enable": "重新启用已停用的看板账号。",
    "users list": "列出看板账号及其角色。",
    "archive": "活动归档：把全部材料写成一个可自行核验的 BagIt 归档包，或核验一个归档包。",
    "archive write": "写出活动归档：收到和发出的原件、台账、事件日志、全部产出，"
    "附 SHA-256 与 SM3 清单。",
    "archive verify": "核验归档包：每个文件齐全且未被改动（SHA-256 与 SM3），事件日志完整，"
    "并（除非 --no-replay）仅凭归档包复算其记载的结果；不通过时逐一列出问题文件、行与字段，"
    "并以退出码 1 结束。",
}

_LABEL = "考核名称（默认：评议考核阶段所在年份，如 2026）"

_SHARED = {
    "campaign": "活动 YAML 文件",
    "as_of": "以此时刻为准（ISO 日期或时间；默认：现在或 DUBAN_NOW）",
    "units": "只限这些单位编号（可重复，或用逗号分隔）",
    "period": "期次，如 2026-Q2；默认：下一个到期的期次",
    "deliverable": "报送事项编号",
    "by": "经办人（记入操作记录）",
    "as_json": "以 JSON 输出（供程序读取）",
    "dry_run": "只把邮件写入发件箱目录，不发送",
    "reason": "理由（记入操作记录）",
    "unit": "单位编号",
    "help": "显示本帮助并退出。",
}

OPTIONS_ZH: dict[str, dict[str, str]] = {
    "validate": {},
    "init": {},
    "status": {
        "campaign": "只看此活动编号",
        "deliverable": "只看此报送事项编号",
        "units": "同时逐单位列出",
        "tags": "同时按单位标签列出各项比率",
    },
    "mobilize": {"deliverable": "要发送通知的报送事项编号"},
    "approve": {"deliverable": "要核准通知的报送事项编号", "by": "核准人（记入操作记录）"},
    "collect": {"batch_size": "每批处理的来件数"},
    "review": {
        "open_item": "导出一封邮件的原始 .eml（M…）或一个文件的原始字节（F…），不论是否待核",
        "out_path": "--open 写到哪里：一个文件或文件夹（默认：DUBAN_HOME/review/）",
        "accept": "把这个待核文件作为报送材料接收",
        "reject": "退回这个待核文件；--note 会发给寄件人",
        "attach": "把这封待核邮件作为往来函件归入 --unit（不算报送，也不发送任何邮件）",
        "dismiss": "搁置这封待核邮件或文件（不发送任何邮件）",
        "unit": "单位：与 --attach 一起用；文件未标明单位时（别的单位的模板、没有模板）与 "
        "--accept 一起用",
        "deliverable": "文件未标明报送事项时，与 --accept 一起用",
        "period": "文件未标明期次时，与 --accept 一起用",
        "note": "原因（留存；--reject 时发给寄件人）",
        "by": "决定人（记入操作记录）",
        "as_json": "以 JSON 列出",
    },
    "chase": {"deliverable": "只催办此报送事项"},
    "remind": {
        "deliverable": "要提醒的报送事项编号",
        "period": "期次，如 2026-Q2；默认：最近到期的期次",
        "tag": "只提醒花名册中带此标签的单位",
        "by": "发起人（记入操作记录）",
    },
    "compile": {
        "deliverable": "要汇总的报送事项编号",
        "period": "期次；默认：最近一个已过截止日的期次",
        "send": "把通报发给分发名单",
    },
    "outbox": {
        "kind": "只看这一类：notice、reminder、ack、rejection、escalation、bulletin…",
        "to": "只看发给这个地址的邮件",
        "limit": "最多列出这么多条，最新的在前",
    },
    "extend": {"to": "新的截止日，如 2026-03-12", "period": "期次，如 2026-Q2（有多期时）"},
    "exempt": {"period": "期次，如 2026-Q2（有多期时）", "by": "批准人（记入操作记录）"},
    "rectify": {},
    "rectify list": {
        "unit": "只看此单位的事项",
        "state": "只看此状态的事项：open（未启动）、in_progress（整改中）、claimed（已申请销号）、"
        "closed（已销号）、cancelled（已作废）；可重复",
        "overdue": "只看已逾期的事项",
    },
    "rectify show": {"code": "整改事项编号，如 ZG-B03-007"},
    "rectify close": {
        "code": "整改事项编号，如 ZG-B03-007",
        "reviewer": "另一位一同核验的复核人",
        "note": "核验意见",
        "by": "核验人（记入操作记录）",
    },
    "rectify return": {"code": "整改事项编号，如 ZG-B03-007", "by": "核验人（记入操作记录）"},
    "rectify extend": {
        "code": "整改事项编号，如 ZG-B03-007",
        "to": "新的整改时限，如 2026-10-31",
        "by": "批准人（记入操作记录）",
    },
    "rectify cancel": {"code": "整改事项编号，如 ZG-B03-007", "by": "核验人（记入操作记录）"},
    "rectify import": {
        "file": "要导入的 .xlsx 问题清单，每行一个问题",
        "source": "来源：assigned（交办）或 inspection（督查发现）",
        "by": "导入人（记入操作记录）",
    },
    "rectify ledger": {
        "out_path": "写到哪里：一个文件或文件夹（默认：DUBAN_HOME/out/活动编号/ 下）"
    },
    "rectify sheet": {
        "unit": "只列此单位的事项（可重复）",
        "out_path": "写到哪里：一个文件或文件夹（默认：DUBAN_HOME/out/活动编号/ 下）",
    },
    "rectify verdicts": {
        "file": "填好核验结论的核验销号表（.xlsx）",
        "by": "销号人（记入操作记录）",
    },
    "inspect": {},
    "evaluate": {},
    "evaluate adjustments": {"file": "加减分表（.xlsx），每行一项", "by": "导入人（记入操作记录）"},
    "evaluate compute": {
        "label": _LABEL,
        "closes": "截止时间：此后记录的不计入（默认：首次计算时为现在，之后沿用首次的）",
        "seed": "组内排名抽签的随机种子（默认：取自输入数据的哈希）",
    },
    "evaluate appeal": {
        "unit": "申请复核的单位编号",
        "line": "有争议的事项，按得分说明中的写法",
        "statement": "单位陈述的理由",
        "label": _LABEL,
    },
    "evaluate decide": {
        "appeal": "复核申请编号，如 A3",
        "reason": "处理意见（告知单位并记入操作记录）",
        "uphold": "复核成立并更正该来源的原始数据：来源=数值（如 timeliness=1）",
        "label": _LABEL,
    },
    "evaluate publish": {"label": _LABEL},
    "evaluate freeze": {"label": _LABEL},
    "evaluate verify": {"label": _LABEL},
    "evaluate status": {"label": _LABEL},
    "verify": {"campaign": "只核对此活动编号"},
    "board": {
        "campaigns": "要显示的活动 YAML 文件（须已用 init 登记）",
        "host": "监听的地址",
        "port": "监听的端口",
        "secure_cookies": "登录状态只经 HTTPS 传送",
    },
    "users": {},
    "users add": {
        "name": "账号的用户名",
        "role": "coordinator（全部权限）、inspector（督查人员）或 viewer（只读，供领导查看）",
        "password_stdin": "从标准输入读取密码",
        "inspector": "督查人员账号对应的督查人员名录编号（可重复）：只看分派给该编号的轮次",
    },
    "users passwd": {"name": "账号的用户名", "password_stdin": "从标准输入读取密码"},
    "users disable": {"name": "账号的用户名"},
    "users enable": {"name": "账号的用户名"},
    "archive": {},
    "archive write": {"out_dir": "归档包写到哪个新文件夹（不得已存在或须为空）"},
    "archive verify": {
        "bag": "归档包所在文件夹（BagIt 格式）",
        "replay": "同时仅凭归档包复算考核、督查抽取、排名表与汇总表并核对",
        "office_key": "办公室的 OpenPGP 私钥文件：解密加密收录的选票，逐一核对其杂凑值，"
        "并重新计票（与导出的选票及考核的民主评议得分核对）",
    },
    "inspect commit": {
        "inspection": _INSPECTION,
        "label": _ROUND,
        "count": _COUNT,
        "tag": _TAG,
        "reason": "重新承诺的理由（本轮已有承诺时必填，将公开）",
        "by": _BY,
    },
    "inspect draw": {
        "inspection": _INSPECTION,
        "seed": "随机种子：现场输入，或公开的彩票开奖号码等",
        "label": _ROUND,
        "count": _COUNT,
        "tag": _TAG,
        "by": _BY,
    },
    "inspect approve": {"inspection": _INSPECTION, "label": _ROUND, "by": _BY},
    "inspect notify": {"inspection": _INSPECTION, "label": _ROUND},
    "inspect recuse": {
        "inspection": _INSPECTION,
        "unit": "抽中单位的编号",
        "inspector": "检查人员在名录中的编号",
        "reason": "回避理由（将公开）",
        "label": _ROUND,
        "by": _BY,
    },
    "inspect verify": {"inspection": _INSPECTION, "label": _ROUND},
    "inspect status": {"inspection": "只看此督查事项"},
    "inspect report": {
        "inspection": _INSPECTION,
        "label": _ROUND,
        "send": "把督查通报发送给通报分发名单",
    },
    "inspect publish": {
        "inspection": _INSPECTION,
        "label": _ROUND,
        "out_path": "写到哪里：一个文件或文件夹（默认：DUBAN_HOME/out/活动编号/ 下）",
    },
    "evaluate ballots": {
        "source": "考核来源中的民主评议（public-evaluation）来源编号",
        "label": "本次评议的名称（默认：活动年度，如 2026）",
        "closes": "测评截止时间：日期（当天24:00截止）或本地时间；首次发送时必填",
    },
}


def option_zh(command: str, param: str) -> str | None:
    """The Chinese help of one parameter of one command, if the catalog has it."""
    return OPTIONS_ZH.get(command, {}).get(param) or _SHARED.get(param)


CLICK_ZH = {
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "[required]": "[必填]",
    "required": "必填",
    "[default: {}]": "[默认：{}]",
    "default: {default}": "默认：{default}",
}
"""Typer's own phrases (it vendors click, with these few still behind gettext)."""

_USAGE_ZH: list[tuple[str, str]] = [
    (r"^Missing option (.+)\.$", r"缺少选项 \1"),
    (r"^Missing argument (.+)\.$", r"缺少参数 \1"),
    (r"^Missing parameter:? (.+?)\.?$", r"缺少参数 \1"),
    (r"^No such option: (\S+) \(Possible options: (.+)\)$", r"没有选项 \1（可能是：\2）"),
    (r"^No such option: (\S+)$", r"没有选项 \1"),
    (r"^No such command '(.+)'\. Did you mean (.+)\?$", r"没有命令 '\1'，是不是 \2？"),
    (r"^No such command '(.+)'\.$", r"没有命令 '\1'"),
    (r"^Got unexpected extra argument(?:\(s\)|s)? \((.+)\)$", r"多出了参数（\1）"),
    (r"^Missing command\.$", r"缺少命令"),
    (r"^Option '(.+)' requires an argument\.$", r"选项 '\1' 后面要跟一个值"),
    (r"^Option '(.+)' requires (\d+) arguments\.$", r"选项 '\1' 后面要跟 \2 个值"),
    (r"^Option '(.+)' does not take a value\.$", r"选项 '\1' 不带值"),
    (r"^Invalid value for (.+?): (.+)$", r"\1 的值不对：\2"),
]
_VALUE_ZH: list[tuple[str, str]] = [
    (r"'(.*)' is not a valid integer\.?", r"'\1' 不是整数"),
    (r"'(.*)' is not a valid float\.?", r"'\1' 不是数字"),
    (r"'(.*)' is not a valid boolean\.?", r"'\1' 不是 是/否 值"),
    (r"'(.*)' is not one of (.+)\.", r"'\1' 不在 \2 之中"),
    (r"(File|Directory|Path) '(.+)' does not exist\.", r"'\2' 不存在"),
    (r"(File|Path) '(.+)' is a directory\.", r"'\2' 是文件夹，要的是文件"),
    (r"Value (.+) is not a valid (.+)\.", r"\1 不是有效的 \2"),
    (r"Input should be a valid integer.*", r"应为整数"),
    (r"Input should be a valid number.*", r"应为数字"),
    (r"Input should be a valid boolean.*", r"应为 是/否 值"),
]


def usage_zh(message: str) -> str:
    """A usage error of typer's click in Chinese (its text is English, fixed in the code);
    a message not known here stays English rather than being guessed at."""
    import re

    for pattern, replacement in _USAGE_ZH:
        translated, n = re.subn(pattern, replacement, message)
        if n:
            for inner, zh in _VALUE_ZH:
                translated = re.sub(inner, zh, translated)
            return translated
    return message
