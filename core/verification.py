"""QR payloads on printed forms, and checking a scanned payload against the database.

Payload: ``YXJC1|{form}|{inspection id}|{document number}|{first 16 hex of content hash}``,
with the document number percent-encoded (UTF-8) so the whole payload is ASCII: a
handheld scanner "types" what it reads, and most cannot type Chinese.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from core.casework.kinds import KIND_TITLES
from core.casework.store import load_case_document
from core.corrections import corrected_by
from core.errors import NotFound
from core.officer_keys import describe, record_check
from core.inspections import InspectionRecord, enforcement_problems, load_inspection
from core.questioning import load_questioning
from core.service_receipts import load_receipt

if TYPE_CHECKING:
    from core.context import AppContext

PREFIX = "YXJC1"
FORMS = {"record": "现场检查笔录", "checklist": "检查记录表", "rectification": "责令改正通知书",
         "review": "整改复查意见书"}  # the last only for a re-inspection
SHORT_HASH = 16


def form_number(record: InspectionRecord, form: str) -> str:
    if form == "rectification":
        if record.rectification is None:
            problems = enforcement_problems(record)
            if problems and record.failed_items():
                raise NotFound(f"检查记录 {record.number} 不能出具责令改正通知书：{'；'.join(problems)}。执法检查须由两名以上"
                               "持有执法证件的执法人员进行，本次检查只能作为巡查记录，不责令改正")
            raise NotFound(f"检查记录 {record.number} 没有责令改正通知书")
        return record.rectification.number
    if form == "checklist":  # printed as the 笔录's 附件1, with its own number
        return f"{record.number}附件1"
    if form == "review":  # printed from the re-inspection record, numbered after it
        if record.purpose != "reinspection":
            raise NotFound(f"检查记录 {record.number} 不是整改复查，没有整改复查意见书")
        return f"{record.number}复查意见"
    return record.number


def make_payload(record: InspectionRecord, form: str) -> str:
    digest = record.content_hash or record.current_hash()
    number = quote(form_number(record, form), safe="")
    return "|".join((PREFIX, form, record.id, number, digest[:SHORT_HASH]))


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    record: InspectionRecord | None = None


def verify_payload(ctx: AppContext, payload: str) -> Verdict:
    """Does a scanned or typed payload match a signed, unaltered record?"""
    parts = payload.strip().split("|")
    if len(parts) == 5 and parts[0] == PREFIX and parts[1] in OWN_TABLES:  # 询问笔录, 送达回证
        return verify_own_table(ctx, parts[1], parts[2], unquote(parts[3]), parts[4])
    if len(parts) != 5 or parts[0] != PREFIX or parts[1] not in FORMS:
        return Verdict(False, "无法识别的二维码内容：不是本系统打印的文书")
    _, form, record_id, number, short = parts
    number = unquote(number)  # a typed payload may carry the number as plain text too
    try:
        record = load_inspection(ctx, record_id)
    except NotFound:
        return Verdict(False, f"数据库中没有该文书对应的记录（{number}）")
    try:
        expected_number = form_number(record, form)
    except NotFound:
        return Verdict(False, f"文书编号不符：记录 {record.number} 没有{FORMS[form]}", record)
    if form == "checklist" and number == record.number:
        expected_number = number  # printed before the checklist had its own number
    if number != expected_number:
        return Verdict(False, f"文书编号不符：二维码为 {number}，记录为 {expected_number}", record)
    if record.status != "signed" or not record.content_hash:
        return Verdict(False, f"{FORMS[form]} {number} 对应的记录尚未签名锁定，不能作为正式文书核验", record)
    if record.current_hash() != record.content_hash:
        return Verdict(False, f"数据库中的记录 {record.number} 在签名后被改动过", record)
    if short.lower() != record.content_hash[:SHORT_HASH]:
        return Verdict(False, f"文书内容与数据库记录不一致：{FORMS[form]} {number} 已被改动", record)
    unreadable = [role for role, s in sorted(record.signatures.items()) if s.problem]
    if unreadable:  # the record is as signed (its hash lists the images' SHA-256), but an image is not here
        return Verdict(False, f"{FORMS[form]} {number} 的记录未被改动，但签名图像文件缺失或已损坏（"
                              f"{'；'.join(record.signatures[r].problem for r in unreadable)}），请从备份恢复附件目录", record)
    officers = record_check(ctx, record)
    if not officers.ok:
        return Verdict(False, f"{FORMS[form]} {number} 的执法人员签名不成立：{'；'.join(officers.problems)}", record)
    party = record.party.get("name", "")
    message = f"核验通过：{FORMS[form]} {number}（{party}）与数据库中已签名的记录一致；{describe(officers)}"
    correction = corrected_by(ctx, record.id)
    if correction is not None:  # genuine, but superseded: say so first
        message = f"已更正，见 {correction.number}。{message}（原文书保留存档）"
    return Verdict(True, message, record)


# Forms kept in a table of their own (not an inspection's): title and loader.
OWN_TABLES = {"questioning": ("询问笔录", load_questioning), "service": ("送达回证", load_receipt),
              **{kind: (title, partial(load_case_document, kind=kind)) for kind, title in KIND_TITLES.items()}}


def verify_own_table(ctx: AppContext, form: str, record_id: str, number: str, short: str) -> Verdict:
    """``verify_payload`` for a 询问笔录's or 送达回证's QR code."""
    title, load = OWN_TABLES[form]
    try:
        record = load(ctx, record_id)
    except NotFound:
        return Verdict(False, f"数据库中没有该文书对应的记录（{number}）")
    if number != record.number:
        return Verdict(False, f"文书编号不符：二维码为 {number}，记录为 {record.number}")
    if not record.locked or not record.content_hash:
        return Verdict(False, f"{title} {number} 尚未签名锁定，不能作为正式文书核验")
    if record.current_hash() != record.content_hash:
        return Verdict(False, f"数据库中的{title} {number} 在签名后被改动过")
    if short.lower() != record.content_hash[:SHORT_HASH]:
        return Verdict(False, f"文书内容与数据库记录不一致：{title} {number} 已被改动")
    return Verdict(True, f"核验通过：{title} {number} 与数据库中已签名的记录一致")
