"""A demo station: subjects of every category, signed inspections with failed items, a draft.

``python main.py demo`` and the GUI's first run call it. Running it again tops up
what is missing and duplicates nothing.
"""
from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import TYPE_CHECKING

from sqlalchemy import select

from core import creditcode
from core.inspections import (
    ORDER_ROLE,
    add_photo,
    PARTY_ROLE,
    OfficerData,
    add_signature,
    complete_inspection,
    load_inspection,
    officer_role,
    set_answer,
    set_item_detail,
    set_legal,
    set_note,
    sign_inspection,
    start_inspection,
    update_details,
)
from core.paths import cjk_font_path
from core.subjects import SubjectData, add_subject
from core.users import require
from db.models import Inspection, Subject

if TYPE_CHECKING:
    from core.context import AppContext

OFFICERS = [OfficerData("王建国", "41170021001"), OfficerData("李秀英", "41170021002")]


def demo_code(serial: int, *, individual: bool = False) -> str:
    body = ("92" if individual else "91") + "411702" + "MA4" + f"{serial:06d}"
    return body + creditcode.check_character(body)


DEMO_SUBJECTS = [
    SubjectData("驿城区美丽佳人化妆品店", "cosmetics_operator", demo_code(101, individual=True),
                legal_rep="张丽", address="驻马店市驿城区解放路128号", phone="0396-2801234", grid="解放路社区"),
    SubjectData("驻马店市芳华日化商行", "cosmetics_operator", demo_code(102),
                legal_rep="刘芳", address="驻马店市驿城区中华路56号", phone="13903961122", grid="中华路社区"),
    SubjectData("雪莲美容美发店", "cosmetics_operator", "",
                legal_rep="陈雪", address="驻马店市驿城区顺河街道西园路8号", phone="13838961234", grid="西园社区"),
    SubjectData("驻马店市康宁医疗器械有限公司", "device_operator", demo_code(201),
                licence_no="豫驻食药监械经营许20190012号", legal_rep="赵强",
                address="驻马店市开发区金山路99号", phone="0396-3816677", grid="金山社区"),
    SubjectData("驻马店市安泰医疗器械批发有限公司", "device_wholesaler", demo_code(202),
                licence_no="豫驻食药监械经营许20210031号", legal_rep="钱安",
                address="驻马店市驿城区物流园8号", phone="0396-3900088", grid="物流园"),
    SubjectData("驿城区百姓健康医疗器械店", "device_operator", demo_code(203, individual=True),
                filing_no="豫驻食药监械经营备20220156号", legal_rep="孙健",
                address="驻马店市驿城区前进路32号", phone="13903960033", grid="前进路社区"),
    SubjectData("驿城区康复之家器械商行", "device_retailer", demo_code(204, individual=True),
                filing_no="豫驻食药监械经营备20230078号", legal_rep="李康",
                address="驻马店市驿城区健康路5号", phone="13903960044", grid="健康路社区"),
    SubjectData("仁和大药房驿城店", "drug_retailer", demo_code(301),
                licence_no="豫AA3960012345", legal_rep="孙仁", address="驻马店市驿城区文明大道200号",
                phone="0396-2223344", grid="文明路社区"),
    SubjectData("驻马店悦美医疗美容诊所", "medical_beauty", demo_code(401),
                legal_rep="周悦", address="驻马店市驿城区雪松路18号", phone="0396-2688000", grid="雪松社区"),
    SubjectData("驿城区福寿康养老院", "elderly_care", demo_code(501),
                legal_rep="吴福", address="驻马店市驿城区胡庙乡福寿路1号", phone="0396-2100123", grid="胡庙乡"),
    SubjectData("驿城区惠民超市", "other", demo_code(601, individual=True),
                legal_rep="郑惠", address="驻马店市驿城区南海路66号", phone="13603960011", grid="南海路社区"),
    SubjectData("驻马店市瑞康体外诊断试剂有限公司", "device_cold_chain", demo_code(205),
                licence_no="豫驻药监械经营许20240007号", legal_rep="冯瑞",
                address="驻马店市开发区冷链物流园3号", phone="0396-3827700", grid="物流园"),
]

INSPECTORS = OFFICERS + [
    OfficerData("张卫东", "41170021003"), OfficerData("刘洋", "41170021004"),
    OfficerData("陈静", "41170021005"), OfficerData("赵敏", "41170021006"),
]
# (subject name, grade, reason) for the device operators' grading
DEMO_GRADES = [
    ("驻马店市康宁医疗器械有限公司", 3, "经营无菌植入类医疗器械，列入重点监管目录"),
    ("驻马店市安泰医疗器械批发有限公司", 2, "第二类、第三类医疗器械批发企业"),
    ("驿城区百姓健康医疗器械店", 1, "第二类医疗器械零售"),
    ("驿城区康复之家器械商行", 1, "第二类医疗器械零售"),
    ("驻马店市瑞康体外诊断试剂有限公司", 3, "经营需冷链管理的体外诊断试剂，列入重点监管目录"),
]
# (subject name, event type, days ago, 来源编号, 详情)
DEMO_EVENTS = [
    ("驿城区百姓健康医疗器械店", "complaint", 3, "DEMO-TS-2026-001", "消费者投诉购买的血压计无中文说明书"),
    ("驻马店悦美医疗美容诊所", "adverse_event", 2, "DEMO-BL-2026-007", "上报1例注射用透明质酸钠不良事件"),
]

# (subject index, answers that fail with their note, party refuses to sign, days ago)
DEMO_INSPECTIONS = [
    (0, {"B2": "货架上1批次普通化妆品无备案信息，已拍照", "G1": "无法提供近三个月进货查验记录"}, False, 20),
    (1, {}, False, 12),
    (2, {"D1": "2个批次产品无中文标签"}, True, 5),
]
DRAFT_SUBJECT = 8  # 悦美医疗美容诊所
# the definite facts of the demo's failed items: the case of an either-or item, the products
DEMO_DETAILS = {
    "B2": ("经营未备案的普通化妆品（备案信息经查询不存在）", {"name": "玉肌坊补水保湿面膜", "spec": "25 mL×5片/盒", "batch": "20260318",
                                    "quantity": "6盒"}),
    "G1": ("未如实记录化妆品进货查验情况（无进货查验记录）", None),
    "D1": ("化妆品最小销售单元无中文标签", {"name": "ROSE GARDEN 玫瑰精华水（进口）", "spec": "150 mL/瓶",
                                            "batch": "RG2503", "quantity": "2个批次共9瓶"}),
}
# one signed inspection with each of the other checklists: (subject index, checklist, failures, days ago)
DEMO_CHECKLIST_INSPECTIONS = [
    (7, "drug-retail", {"C2": "阴凉区温湿度计读数28℃，近一周无温湿度记录",
                        "E1": "非处方药货架发现1盒已过有效期的药品，已拍照"}, 9),
    (9, "device-user", {"D2": "护理站制氧机、雾化器无定期维护保养记录"}, 7),
    (3, "device-operator", {"J1": "第三类医疗器械销售记录未记录唯一标识（UDI）"}, 4),
    (4, "device-wholesale", {"M3": "向某诊所批发第三类医疗器械，未查验其医疗机构执业许可证，未建购货者档案"}, 6),
    (6, "device-retail", {"N1": "电子血压计与保健食品混放在同一货架，未分区陈列"}, 3),
    (11, "device-cold-chain", {"P2": "2号冷藏柜温度记录仪故障，近10天无温度记录",
                               "P4": "新购冷藏车未经验证即投入运输"}, 2),
]
DEMO_CHECKLIST_DETAILS = {
    "drug-retail": {
        "C2": ("未按规定监测、记录温湿度", None),
        "E1": (None, {"name": "复方感冒灵颗粒", "spec": "10 g×9袋/盒", "batch": "230415", "quantity": "1盒"}),
    },
    "device-user": {"D2": ("检查、检验、校准、保养、维护未予记录", None)},
    "device-operator": {"J1": ("经营实施唯一标识的医疗器械未在经营环节记录使用唯一标识", None)},
    "device-wholesale": {"M3": ("批发销售前未核实购货者资质", None)},
    "device-retail": {"N1": ("医疗器械未与非医疗器械分区陈列", {"name": "电子血压计", "spec": "臂式 YE-660", "batch": "20250911",
                                                      "quantity": "4台"})},
    "device-cold-chain": {
        "P2": ("冷链贮存温度未监测或无记录", {"name": "乙型肝炎病毒表面抗原检测试剂盒（酶联免疫法）", "spec": "96人份/盒",
                                       "batch": "HB250802", "quantity": "12盒"}),
        "P4": ("冷链设施设备未经验证即使用", None),
    },
}
DEMO_WITNESS = ("孙丽", "驿城区西园路10号 丽人服装店经营者", "13783960021")


def _signature_png(name: str) -> bytes:
    """A signature image for demo data: the name written in the CJK font."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(cjk_font_path()), 64, index=0)
    image = Image.new("RGBA", (300, 110), (255, 255, 255, 0))
    ImageDraw.Draw(image).text((12, 16), name, font=font, fill=(20, 30, 120, 255))
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _answer_all(ctx: AppContext, inspection_id: str, failures: dict[str, str], details: dict) -> None:
    record = load_inspection(ctx, inspection_id)
    for item in record.template.items:
        result = "fail" if item.code in failures else "pass"
        set_answer(ctx, inspection_id, item.code, result)
        if item.code in failures:
            set_note(ctx, inspection_id, item.code, failures[item.code])
            case, product = details.get(item.code, (None, None))
            set_item_detail(ctx, inspection_id, item.code, case=case, product=product)
            if product:
                _demo_photo(ctx, inspection_id, item.code, product["name"])


def _demo_photo(ctx: AppContext, inspection_id: str, item_code: str, caption: str) -> None:
    """A stand-in for the photo an inspector takes of the product concerned."""
    import tempfile
    from pathlib import Path

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (640, 480), (236, 230, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 300, 600, 320), fill=(120, 90, 60))  # a shelf
    for x in range(80, 560, 120):
        draw.rectangle((x, 170, x + 70, 300), fill=(210, 120, 150), outline=(90, 40, 60), width=3)
    font = ImageFont.truetype(str(cjk_font_path()), 24, index=0)
    draw.text((40, 350), f"{item_code} 现场照片", font=font, fill=(30, 30, 30))
    draw.text((40, 390), caption, font=font, fill=(30, 30, 30))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{item_code}.png"
        image.save(path, format="PNG")
        add_photo(ctx, inspection_id, item_code, path)


def _demo_legal(ctx: AppContext, inspection_id: str, subject: SubjectData, refused: bool, n: int) -> None:
    """The 告知 answers, the person present, the recorder, the camera; the refusal and its witness."""
    set_legal(ctx, inspection_id, party_id_no=f"41170219850{n}0512{n}3", recorder=OFFICERS[1].name,
              credentials_answer="看清楚了", recusal_answer="不申请回避",
              camera_device=f"DSJ-041170-0{n + 1}", camera_file=f"DSJ0{n + 1}_20260301_093012.mp4（09:30—10:20）")
    if refused:
        name, unit, phone = DEMO_WITNESS
        update_details(ctx, inspection_id, party_refused=True, witness_name=name)
        set_legal(ctx, inspection_id, refusal_reason="称产品是朋友代购，不认可检查结果", witness_id=unit,
                  witness_phone=phone, order_refused=True, order_refusal_reason="拒绝签收，称要先咨询律师")
    else:
        set_legal(ctx, inspection_id, confirmation="以上笔录我已看过，与事实相符。",
                  checklist_opinion="无异议")


def _signed_inspection(ctx: AppContext, subject_id: str, index: int, template_code: str, failures: dict[str, str],
                       refused: bool, when) -> None:
    """One inspection recorded at ``when``, completed, signed by all, locked."""
    ctx.clock = lambda: when
    inspection_id = start_inspection(ctx, subject_id, template_code, OFFICERS, notified_by="现场出示执法证件后告知")
    _answer_all(ctx, inspection_id, failures, DEMO_DETAILS if template_code == "cosmetics-531"
                else DEMO_CHECKLIST_DETAILS.get(template_code, {}))
    subject = DEMO_SUBJECTS[index]
    update_details(
        ctx, inspection_id,
        party_present_name=subject.legal_rep,
        party_statement="" if refused else "对检查发现的问题无异议，将按要求整改。",
        ended_at=when + timedelta(minutes=50),
    )
    _demo_legal(ctx, inspection_id, subject, refused, index)
    ctx.clock = lambda: when + timedelta(minutes=55)
    complete_inspection(ctx, inspection_id)
    signers = [("witness", DEMO_WITNESS[0])] if refused else [(PARTY_ROLE, subject.legal_rep)]
    if load_inspection(ctx, inspection_id).rectification is not None and not refused:
        signers.append((ORDER_ROLE, subject.legal_rep))
    for role, name in signers:
        add_signature(ctx, inspection_id, role, name, _signature_png(name))
    for i, officer in enumerate(OFFICERS):
        add_signature(ctx, inspection_id, officer_role(i), officer.name, _signature_png(officer.name))
    # each officer present enters their password: their own key signs the record
    sign_inspection(ctx, inspection_id, {officer.cert_no: DEMO_PASSWORD for officer in OFFICERS})


def create_demo(ctx: AppContext) -> dict:
    """Create or top up the demo station (the system or an admin). Returns counts of what was added.
    On an encrypted database each demo account then unlocks it with the demo password."""
    require(ctx, "demo")
    added = {"subjects": 0, "inspections": 0}
    with ctx.sessions() as s:
        codes = set(s.scalars(select(Subject.credit_code)))
        names = set(s.scalars(select(Subject.name)))
    ids = []
    for data in DEMO_SUBJECTS:
        if (data.credit_code and data.credit_code in codes) or (not data.credit_code and data.name in names):
            with ctx.sessions() as s:
                query = select(Subject.id).where(
                    Subject.credit_code == data.credit_code if data.credit_code else Subject.name == data.name
                )
                ids.append(s.scalar(query))
            continue
        ids.append(add_subject(ctx, data).id)
        added["subjects"] += 1
    with ctx.sessions() as s:
        inspected = set(s.scalars(select(Inspection.subject_id)))
    real_clock = ctx.clock
    try:
        # the officers (and their signing keys) first, made before the oldest demo inspection
        oldest = max(row[-1] for row in [*DEMO_INSPECTIONS, *DEMO_CHECKLIST_INSPECTIONS])
        ctx.clock = lambda: real_clock() - timedelta(days=oldest + 1)
        _demo_officers(ctx)
        ctx.clock = real_clock
        plan = [(i, "cosmetics-531", f, r, d) for i, f, r, d in DEMO_INSPECTIONS]
        plan += [(i, code, f, False, d) for i, code, f, d in DEMO_CHECKLIST_INSPECTIONS]
        for index, template_code, failures, refused, days_ago in plan:
            if ids[index] in inspected:
                continue
            when = real_clock().replace(hour=9, minute=30) - timedelta(days=days_ago)
            _signed_inspection(ctx, ids[index], index, template_code, failures, refused, when)
            added["inspections"] += 1
        # a draft left half-way, as an inspector would after being called away
        draft_subject = ids[DRAFT_SUBJECT]
        if draft_subject not in inspected:
            ctx.clock = real_clock
            inspection_id = start_inspection(ctx, draft_subject, "cosmetics-531", OFFICERS)
            record = load_inspection(ctx, inspection_id)
            for item in record.template.items[:6]:
                set_answer(ctx, inspection_id, item.code, "pass")
            added["inspections"] += 1
    finally:
        ctx.clock = real_clock
    _demo_oversight(ctx)
    seal_demo_accounts(ctx)
    return added


DEMO_PASSWORD = "demo123"
DEMO_ADMIN = "张所长"
DEMO_GRID_WORKER = ("马红", "西园社区")


def _demo_officers(ctx: AppContext) -> None:
    """The list of officers: the two demo officers can log in (and have signing keys); the others
    are on the list only, as officers from elsewhere are (they sign by hand)."""
    from core.inspectors import add_inspector, list_inspectors

    known = {o.cert_no for o in list_inspectors(ctx, active_only=False)}
    for officer in INSPECTORS:
        if officer.cert_no not in known:
            password = DEMO_PASSWORD if officer in OFFICERS else None
            add_inspector(ctx, officer.name, officer.cert_no, password=password)


def _demo_oversight(ctx: AppContext) -> None:
    """Users, device operators' grades, two trigger events and two leads (top-up safe)."""
    from core.grades import grade_history, set_grade
    from core.tasks import record_event
    from core.users import add_user, list_users
    from db.models import TriggerEvent

    names = {u.name for u in list_users(ctx)}
    if DEMO_ADMIN not in names:
        add_user(ctx, name=DEMO_ADMIN, role="admin", password=DEMO_PASSWORD)
    if DEMO_GRID_WORKER[0] not in names:
        add_user(ctx, name=DEMO_GRID_WORKER[0], role="grid_worker", password=DEMO_PASSWORD, grid=DEMO_GRID_WORKER[1])
    _demo_officers(ctx)
    ctx.set_setting("demo.accounts", f"{DEMO_ADMIN}、{OFFICERS[0].name}、{DEMO_GRID_WORKER[0]}，密码均为 {DEMO_PASSWORD}")
    with ctx.sessions() as s:
        ids = dict(s.execute(select(Subject.name, Subject.id)).all())
        refs = set(s.scalars(select(TriggerEvent.source_ref)))
    for name, grade, reason in DEMO_GRADES:
        if not grade_history(ctx, ids[name]):
            set_grade(ctx, ids[name], grade, reason=f"年度风险分级评定：{reason}", changed_by="王建国")
    today = ctx.clock().date()
    for name, event_type, days_ago, ref, details in DEMO_EVENTS:
        if ref not in refs:
            record_event(ctx, ids[name], event_type, today - timedelta(days=days_ago), source_ref=ref,
                         details=details, source="import")
    _demo_leads(ctx, ids)


def _demo_leads(ctx: AppContext, ids: dict[str, str]) -> None:
    """One lead waiting at the station, one received weeks ago and now overdue."""
    from core import leads
    from core.users import list_users

    if leads.list_leads(ctx):
        return
    users = {u.name: u for u in list_users(ctx)}
    real_clock, real_user = ctx.clock, ctx.user
    try:
        ctx.user = users[DEMO_GRID_WORKER[0]]
        ctx.clock = lambda: real_clock() - timedelta(days=30)
        old = leads.report_lead(ctx, category="expired_in_use", subject_id=ids["驿城区福寿康养老院"],
                                description="护理站药柜内发现2盒已过期的降压药仍在使用", place="福寿康养老院二楼护理站")
        ctx.user = None
        leads.receive_lead(ctx, old)
        leads.assign_lead(ctx, old, users[OFFICERS[0].name].id)
        ctx.user, ctx.clock = users[DEMO_GRID_WORKER[0]], real_clock
        leads.report_lead(ctx, category="unlicensed_selling", party_name="流动摊贩（无店招）",
                          party_address="驿城区西园社区集市东口", place="西园社区集市东口",
                          description="集市上有人摆摊销售血压计、血糖试纸，无任何证照")
    finally:
        ctx.clock, ctx.user = real_clock, real_user


def demo_needed(ctx: AppContext) -> bool:
    with ctx.sessions() as s:
        return s.scalar(select(Subject.id).limit(1)) is None


def seal_demo_accounts(ctx: AppContext) -> None:
    """An encrypted demo database without a service key: each demo account's wrap (the demo password
    is public, so is the demo data); otherwise the demo's users get theirs at their first log-in."""
    from core import dbkeys
    from core.users import list_users

    db = ctx.encrypted_file
    if db is None or dbkeys.read(db).service is not None:
        return
    for user in list_users(ctx):
        if user.active and user.name in (DEMO_ADMIN, DEMO_GRID_WORKER[0], *(o.name for o in OFFICERS)):
            if not dbkeys.opens_for(db, user.name, DEMO_PASSWORD):
                dbkeys.set_user(db, user.name, DEMO_PASSWORD)
