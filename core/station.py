"""Station settings a station admin edits: names on the forms, document-number prefixes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import InvalidInput
from core.users import require

if TYPE_CHECKING:
    from core.context import AppContext

MAX_DEVICE_NO = 99


@dataclass(frozen=True)
class StationSettings:
    station_name: str
    organ_name: str
    inspection_prefix: str
    rectification_prefix: str
    device_no: int
    rectification_days: int
    # the 复议/诉讼 notice of the 责令改正通知书 (《行政复议法》《行政诉讼法》)
    review_organ: str = "示例市人民政府"
    review_days: int = 60
    court: str = "示例市人民法院"
    lawsuit_months: int = 6
    questioning_prefix: str = "示市监询"  # 询问笔录
    service_prefix: str = "示市监送"  # 送达回证
    case_source_prefix: str = "示市监案源"  # 案件来源登记表
    case_filing_prefix: str = "示市监立"  # 立案审批表
    evidence_hold_prefix: str = "示市监先保"  # 先行登记保存证据通知书
    evidence_release_prefix: str = "示市监解保"  # 解除先行登记保存证据通知书
    address_confirm_prefix: str = "示市监址"  # 送达地址确认书


_KEYS = {
    "station_name": "station_name",
    "organ_name": "organ_name",
    "inspection_prefix": "prefix.inspection",
    "rectification_prefix": "prefix.rectification",
    "device_no": "device_no",
    "rectification_days": "rectification_days",
    "review_organ": "review_organ",
    "review_days": "review_days",
    "court": "court",
    "lawsuit_months": "lawsuit_months",
    "questioning_prefix": "prefix.questioning",
    "service_prefix": "prefix.service",
    "case_source_prefix": "prefix.case_source",
    "case_filing_prefix": "prefix.case_filing",
    "evidence_hold_prefix": "prefix.evidence_hold",
    "evidence_release_prefix": "prefix.evidence_release",
    "address_confirm_prefix": "prefix.address_confirm",
}
_INTS = ("device_no", "rectification_days", "review_days", "lawsuit_months")


def get_settings(ctx: AppContext) -> StationSettings:
    values = {field: ctx.setting(key) for field, key in _KEYS.items()}
    for field in _INTS:
        values[field] = int(values[field])
    return StationSettings(**values)


def _check(settings: StationSettings) -> None:
    for label, value in (("所名", settings.station_name), ("执法机关名称", settings.organ_name),
                         ("检查笔录文号前缀", settings.inspection_prefix),
                         ("责令改正通知书文号前缀", settings.rectification_prefix),
                         ("询问笔录文号前缀", settings.questioning_prefix),
                         ("送达回证文号前缀", settings.service_prefix),
                         ("案件来源登记表文号前缀", settings.case_source_prefix),
                         ("立案审批表文号前缀", settings.case_filing_prefix),
                         ("先行登记保存证据通知书文号前缀", settings.evidence_hold_prefix),
                         ("解除先行登记保存证据通知书文号前缀", settings.evidence_release_prefix),
                         ("送达地址确认书文号前缀", settings.address_confirm_prefix),
                         ("行政复议机关", settings.review_organ), ("行政诉讼管辖法院", settings.court)):
        if not value.strip():
            raise InvalidInput(f"{label}不能为空")
    prefixes = (settings.inspection_prefix, settings.rectification_prefix, settings.questioning_prefix,
                settings.service_prefix, settings.case_source_prefix, settings.case_filing_prefix,
                settings.evidence_hold_prefix, settings.evidence_release_prefix, settings.address_confirm_prefix)
    for prefix in prefixes:
        if any(ch in prefix for ch in "〔〕[]()（）号") or any(ch.isdigit() for ch in prefix):
            raise InvalidInput(f"文号前缀“{prefix}”只写机关代字，例如“连市监药检”，年份和序号由系统生成")
    if settings.inspection_prefix.strip() == settings.rectification_prefix.strip():
        raise InvalidInput("检查笔录与责令改正通知书的文号前缀不能相同")
    if len({p.strip() for p in prefixes}) < len(prefixes):
        raise InvalidInput("各类文书的文号前缀不能相同")
    if not 0 <= settings.device_no <= MAX_DEVICE_NO:
        raise InvalidInput(f"设备号应在 0 到 {MAX_DEVICE_NO} 之间（所里的电脑用 0，每台笔记本一个不同的号）")
    if not 1 <= settings.rectification_days <= 365:
        raise InvalidInput("默认改正期限应在 1 到 365 天之间")
    # 行政复议法: 60 days unless a law sets longer; 行政诉讼法: 6 months (DOMAIN.md §3)
    if not 60 <= settings.review_days <= 365:
        raise InvalidInput("申请行政复议的期限不得少于六十日（《中华人民共和国行政复议法》），应在 60 到 365 天之间")
    if not 6 <= settings.lawsuit_months <= 24:
        raise InvalidInput("提起行政诉讼的期限一般为六个月（《中华人民共和国行政诉讼法》），应在 6 到 24 个月之间")


def update_settings(ctx: AppContext, settings: StationSettings) -> None:
    """Validate, then save all settings together."""
    require(ctx, "settings")
    _check(settings)
    values = {key: str(getattr(settings, field)).strip() for field, key in _KEYS.items()}
    ctx.set_settings(values)
