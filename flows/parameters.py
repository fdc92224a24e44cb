"""The flows' parameters as Prefect's Custom Run form shows them: types, checks, Chinese text.

Prefect builds a deployment's parameter schema from the flow's signature, and gives each field
the description of the flow docstring's ``Args:`` section or none (a description inside
``Annotated[..., Field(...)]`` is dropped). So each type here carries its whole JSON schema,
description included, in ``WithJsonSchema``, beside the ``Field`` constraints pydantic checks
when a run starts: the form and the check say the same thing, written once for every flow.

Choices that depend on the campaign (its deliverable ids, its roster's tags) are enums when the
process that imports the flows — ``prefect deploy``, a worker — has ``DUBAN_CAMPAIGN`` set and
the file loads; otherwise free text, which the use case checks and answers naming the ids that
exist. Unit ids stay free text: a roster of thousands is no dropdown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, WithJsonSchema

from duban.errors import ConfigError, DubanError
from duban.model.loader import CampaignBundle, load_campaign
from duban.settings import Settings, load_settings

PERIOD = r"^(once|\d{4}(-Q[1-4]|-H[12]|-(0[1-9]|1[0-2]))?)$"
"""once (a fixed date), 2026 (a year), 2026-H1, 2026-Q2 or 2026-09."""
MOMENT = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
"""What ``--as-of`` takes: a day, or a day and a time, with or without an offset."""


def _campaign_choices() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The deliverable ids, roster tags and inspection ids of the campaign DUBAN_CAMPAIGN
    names, if any.

    Read once, when the flows are imported; a setting or file that does not load gives free
    text here, and the run itself then reports it in full."""
    try:
        path = load_settings().campaign
        bundle = load_campaign(path) if path is not None else None
    except (DubanError, OSError):
        bundle = None
    if bundle is None:
        return (), (), ()
    tags = sorted({tag for unit in bundle.units for tag in unit.tags})
    inspections = tuple(i.id for i in bundle.campaign.inspections)
    return tuple(d.id for d in bundle.campaign.deliverables), tuple(tags), inspections


DELIVERABLES, TAGS, INSPECTIONS = _campaign_choices()


def _schema(kind: Any, description: str, choices: tuple[str, ...] = ()) -> WithJsonSchema:
    """``kind``'s JSON schema with ``description``; with ``choices``, an optional one of them."""
    if choices:
        one_of: Any = Literal.__getitem__(choices)
        kind = one_of | None
    return WithJsonSchema({**TypeAdapter(kind).json_schema(), "description": description})


_TEXT = Field(min_length=1)
_POSITIVE = Field(ge=1)
_PERIOD = Field(pattern=PERIOD)
_MOMENT = Field(pattern=MOMENT)

CampaignFile = Annotated[
    str | None,
    _TEXT,
    _schema(
        Annotated[str | None, _TEXT],
        "活动文件（campaign file，YAML）的路径，相对于项目目录；留空则用设置 DUBAN_CAMPAIGN",
    ),
]
Deliverable = Annotated[
    str | None,
    _TEXT,
    _schema(Annotated[str | None, _TEXT], "报送材料（deliverable）的编号，必填", DELIVERABLES),
]
OneDeliverable = Annotated[
    str | None,
    _TEXT,
    _schema(
        Annotated[str | None, _TEXT],
        "只处理这一项报送材料（deliverable）；留空则全部",
        DELIVERABLES,
    ),
]
Period = Annotated[
    str | None,
    _PERIOD,
    _schema(
        Annotated[str | None, _PERIOD],
        "期次（period）：once（固定日期）、2026、2026-H1、2026-Q2 或 2026-09；留空则按默认",
    ),
]
Units = Annotated[
    list[Annotated[str, _TEXT]] | None,
    _schema(
        list[Annotated[str, _TEXT]] | None,
        "只限这些单位（units，填单位编号，如 T01、B03）；留空则全部应报单位",
    ),
]
Tag = Annotated[
    str | None,
    _TEXT,
    _schema(
        Annotated[str | None, _TEXT], "只限名册中带此标签（tag，如 镇区）的单位；留空则不限", TAGS
    ),
]
DryRun = Annotated[
    bool, _schema(bool, "演练（dry run）：把每封邮件写成 .eml 放入 outbox 文件夹，不发送")
]
Send = Annotated[bool, _schema(bool, "发送（send）：把通报发给分发名单，并推送到工作群机器人")]
PublishResults = Annotated[
    bool,
    _schema(
        bool,
        "反馈结果（publish）：向各单位发送得分说明和复核申请表（开始复核申请期），"
        "定稿后发送最终结果和考核通报（通报同时发送分送名单）",
    ),
]
By = Annotated[str, _TEXT, _schema(Annotated[str, _TEXT], "由谁催办（by），记入留痕")]
BatchSize = Annotated[
    int, _POSITIVE, _schema(Annotated[int, _POSITIVE], "每个任务处理的单位或邮件数（batch size）")
]
MaxBatches = Annotated[
    int,
    _POSITIVE,
    _schema(Annotated[int, _POSITIVE], "本次最多处理的批数（max batches），其余留给下一次运行"),
]
Inspection = Annotated[
    str | None,
    _TEXT,
    _schema(Annotated[str | None, _TEXT], "督查事项（inspection）的编号，必填", INSPECTIONS),
]
RoundLabel = Annotated[
    str | None,
    _TEXT,
    _schema(
        Annotated[str | None, _TEXT],
        "轮次（round label）：如 2026-Q2，或自定的标签；留空则为本期（临时督查为当天）",
    ),
]
SampleSize = Annotated[
    int | None,
    _POSITIVE,
    _schema(Annotated[int | None, _POSITIVE], "每层抽取的单位数（sample size）；留空则按活动文件"),
]
SampleTags = Annotated[
    list[Annotated[str, _TEXT]] | None,
    _schema(
        list[Annotated[str, _TEXT]] | None,
        "只抽带这些标签（tags，如 镇区）的单位；留空则按活动文件的范围",
    ),
]
Seed = Annotated[
    str | None,
    _TEXT,
    _schema(
        Annotated[str | None, _TEXT],
        "随机种子（seed）：现场输入，或公开的彩票开奖号码等；留空则先记录承诺，"
        "运行暂停，待输入种子后再抽取",
    ),
]
Announced = Annotated[
    Literal["file", "announced", "unannounced"],
    _schema(
        Literal["file", "announced", "unannounced"],
        "是否事先通知被检查单位（announced）：file 按活动文件，announced 事先通知，"
        "unannounced 不事先通知（明察暗访）",
    ),
]
EvaluationLabel = Annotated[
    str | None,
    _TEXT,
    _schema(
        Annotated[str | None, _TEXT],
        "考核名称（label）：如 2026；留空则为评议考核阶段所在年份",
    ),
]
Closes = Annotated[
    str | None,
    _MOMENT,
    _schema(
        Annotated[str | None, _MOMENT],
        "截止时间（closes）：如 2026-12-31（当天24:00）或 2026-12-31T18:00，此后记录的不计入；"
        "留空则首次计算时为当前时刻，之后沿用",
    ),
]
DrawSeed = Annotated[
    str | None,
    _TEXT,
    _schema(
        Annotated[str | None, _TEXT],
        "排名抽签的随机种子（seed）；留空则取自输入数据的哈希（无人可选）",
    ),
]
AsOf = Annotated[
    str | None,
    _MOMENT,
    _schema(
        Annotated[str | None, _MOMENT],
        "模拟时刻（as of），如 2026-03-06 或 2026-03-06T09:00（仅演示与测试）；留空则用时钟",
    ),
]


def campaign_of(settings: Settings, campaign_file: str | None) -> Path:
    """The run's campaign file: the parameter if the run gave one, else DUBAN_CAMPAIGN."""
    chosen = campaign_file or settings.campaign
    if chosen is None:
        raise ConfigError(
            "no campaign file: the run names none and DUBAN_CAMPAIGN is not set",
            hint="set DUBAN_CAMPAIGN in the work pool's or worker's environment",
            zh="没有活动文件：本次运行未指定，也未设置 DUBAN_CAMPAIGN",
            zh_hint="在工作池或 worker 的环境中设置 DUBAN_CAMPAIGN",
        )
    return Path(chosen)


def deliverable_of(deliverable: str | None, bundle: CampaignBundle) -> str:
    """The deliverable a run must name (the form cannot require it: ``campaign_file``, first
    and optional, keeps the flows' positional calls, so no parameter after it is required)."""
    if not deliverable:
        known = [d.id for d in bundle.campaign.deliverables]
        raise DubanError(
            "no deliverable: the run must name one",
            hint=f"choose one of {', '.join(known)}",
            zh="未指定报送材料（deliverable）",
            zh_hint=f"从以下编号中选一个：{'、'.join(known)}",
        )
    return deliverable
