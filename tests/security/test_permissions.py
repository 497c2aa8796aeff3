"""Who may call each core service that changes data: admin, inspector, grid worker (and the system).

Attack (b) of issue 10: a logged-in user of a lesser role calling a service directly (a
grid worker registering a device, changing the station's sync keys, restoring a backup...).
Every data-changing public service in ``core`` is listed in ``SERVICES`` with the roles
allowed to call it; ``test_every_data_changing_service_is_listed`` reads ``core/`` and fails
when a new one is added without an entry. For each role a refused call raises
``PermissionDenied`` ("…无权…") with the database and the attachments folder unchanged; an
allowed call goes through and changes what it should.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import ast
import json
import shutil
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import pytest

from core import inspections as svc
from core.context import AppContext
from core.users import PermissionDenied
from tests.integration.helpers import officer_passwords
from tests.security.digest import database_digest, folder_digest

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("admin", "inspector", "grid_worker")
ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
OFFICERS_ROLES = frozenset({"admin", "inspector"})


# --- the world: a demo station with one of everything each service needs ----------------------

def _csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8-sig")
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory, demo_template) -> dict:
    """Built once as the system (on a copy of the suite's demo station); each call below works on a fresh copy of station.db."""
    from core import sync
    from core.backup import make_backup
    from core.demo import DEMO_ADMIN, DEMO_GRID_WORKER, OFFICERS, demo_code
    from core.leads import assign_lead, handle_lead, list_leads, receive_lead, report_lead
    from core.subjects import SubjectData, add_subject, search_subjects
    from core.tasks import list_tasks
    from core.users import list_users
    from db.models import SyncConflict, utcnow
    from tests.integration.helpers import answer_all, officer_passwords, signature_png
    from tests.integration.test_sync import enrolled_laptop, inspect_offline, pull_master_data, photo_file

    from tests.support.stations import copy_station

    base = tmp_path_factory.mktemp("permissions")
    station = AppContext.open(copy_station(demo_template, base))  # the demo station (create_demo)
    users = {u.name: u for u in list_users(station)}
    people = {"admin": users[DEMO_ADMIN], "inspector": users[OFFICERS[0].name],
              "grid_worker": users[DEMO_GRID_WORKER[0]]}
    subject = search_subjects(station, "")[0]
    graded = search_subjects(station, "康宁医疗器械")[0]

    # sync: a laptop's package up to the station, and an enrolment for a fresh laptop
    laptop, _ = enrolled_laptop(station, base, "笔记本1")
    pull_master_data(station, laptop, base / "down")
    inspect_offline(laptop, subject.id, OFFICERS, base)
    (base / "up").mkdir()
    [package] = sync.export_packages(laptop, base / "up")
    laptop.close()
    enrolment = sync.add_device(station, "笔记本2")
    AppContext.open(base / "fresh.db").close()
    # levels: a county's enrolment file for the station, and a member station of the station's own
    county = AppContext.open(base / "county.db")
    up_enrolment = sync.add_device(county, "权限测试所", kind="station")
    county.close()
    member = sync.add_device(station, "权限测试下级所", kind="station")["device_id"]
    # a provincial revision of a checklist, to publish for the levels below
    checklist = json.loads((ROOT / "resources" / "checklists" / "cosmetics-531.v3.json").read_text(encoding="utf-8"))
    revision = base / "cosmetics-531.v4.json"
    revision.write_text(json.dumps({**checklist, "version": 4}, ensure_ascii=False), encoding="utf-8")

    # inspections in each state a service expects
    completed = svc.start_inspection(station, subject.id, "cosmetics-531", OFFICERS)
    answer_all(station, completed, {"B2": "无备案信息"})
    svc.update_details(station, completed, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(station, completed)
    ready = svc.start_inspection(station, subject.id, "cosmetics-531", OFFICERS)
    answer_all(station, ready, {})
    svc.update_details(station, ready, party_statement="无异议", party_present_name="张三")
    signable = svc.start_inspection(station, subject.id, "cosmetics-531", OFFICERS)
    answer_all(station, signable, {})
    svc.update_details(station, signable, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(station, signable)
    svc.set_legal(station, signable, confirmation=svc.DEFAULT_CONFIRMATION)
    wet = svc.start_inspection(station, subject.id, "cosmetics-531", OFFICERS)
    answer_all(station, wet, {})
    svc.update_details(station, wet, party_present_name="张三")
    svc.complete_inspection(station, wet)
    svc.lock_for_wet_signing(station, wet, officer_passwords(station, wet))
    for role in svc.signature_roles(svc.load_inspection(station, signable)):
        svc.add_signature(station, signable, role, "签名人", signature_png())
    draft = next(r.id for r in svc.list_inspections(station) if r.status == "draft" and r.id not in (ready,))
    photo = svc.add_photo(station, draft, svc.load_inspection(station, draft).template.items[0].code,
                          photo_file(base))

    # corrections: two signed demo records, one with a completed correction waiting for approval
    from core.corrections import request_correction

    signed = [r.id for r in svc.list_inspections(station) if r.status == "signed"]
    assert len(signed) >= 2
    correction = request_correction(station, signed[1], statement="更正现场情况的笔误", reason="笔误")
    svc.complete_inspection(station, correction)

    # 询问笔录: one ready to sign, one draft; the first signed inspection's 笔录 can be served
    from core import questioning as qn
    from tests.integration.helpers import signature_png

    questioning, questioning_draft = (qn.create_questioning(station, inspection_id=signed[0]).id for _ in range(2))
    qn.set_person(station, questioning, name="李小梅", id_no="410102199001011234")
    qn.set_details(station, questioning, recorder="李秀英", confirmation=qn.DEFAULT_CONFIRMATION)
    qn.add_qa(station, questioning, "你是什么职务？", "店长。")
    for role in qn.signature_roles(qn.load_questioning(station, questioning)):
        qn.add_signature(station, questioning, role, "签名人", signature_png())
    from core.service_receipts import record_service

    receipt = record_service(station, signed[0], document="record", method="直接送达", recipient="张三", place="店内").id

    # leads: one reported (demo), one assigned to the inspector (demo), one handled, one fed back
    leads = {lead.status: lead.id for lead in list_leads(station)}
    station.user = people["grid_worker"]
    handled = report_lead(station, category="expired_in_use", subject_id=subject.id, description="过期药品")
    fed_back = report_lead(station, category="expired_in_use", subject_id=subject.id, description="过期药品二")
    station.user = None
    for lead_id in (handled, fed_back):
        receive_lead(station, lead_id)
        assign_lead(station, lead_id, people["inspector"].id)
        handle_lead(station, lead_id, "unfounded", "经核查不属实")
    from core.leads import feed_back as give_feedback

    give_feedback(station, fed_back, "已核查")
    # what the delete services delete: a subject entered by mistake, a lead photo (its reporter's)
    spare = add_subject(station, SubjectData(name="误录的店", category="cosmetics_operator", address="误录路1号")).id
    from tests.integration.test_sync import photo_file

    (base / "lead-photo").mkdir()
    station.user = people["grid_worker"]
    with_photo = report_lead(station, category="expired_in_use", subject_id=subject.id, description="过期药品三",
                             photos=[photo_file(base / "lead-photo")])
    station.user = None
    from db.models import LeadPhoto

    with station.sessions() as s:
        lead_photo = s.query(LeadPhoto.id).filter_by(lead_id=with_photo).scalar()

    # the case papers: a lead handled as a case, a filing draft ready to submit, one submitted, a hold notice
    from core.casework import cases, evidence

    station.user = people["grid_worker"]
    case_lead = report_lead(station, category="fake_drugs", subject_id=subject.id, description="销售无批准文号的药膏")
    station.user = None
    receive_lead(station, case_lead)
    assign_lead(station, case_lead, people["inspector"].id)
    handle_lead(station, case_lead, "case", "核实属实")
    filing_draft, filing_submitted = (cases.draft_case(station, lead_id=case_lead, officers=OFFICERS).id for _ in range(2))
    for filing in (filing_draft, filing_submitted):
        cases.edit_case(station, filing, handler_opinion="建议立案调查")
    cases.submit_case(station, filing_submitted)
    hold = evidence.hold_evidence(station, signed[0], cause="销售未备案化妆品", place="仓库", approved_by="所长",
                                  items=[{"name": "保湿乳", "quantity": "1瓶", "kept_at": "仓库"}]).id

    with station.transaction() as s:
        s.add(SyncConflict(table_name="subjects", record_id=subject.id, local_json="{}",
                           remote_json=json.dumps({"version": 1}), from_device=enrolment["device_id"],
                           created_at=utcnow()))
    with station.sessions() as s:
        conflict_id = s.query(SyncConflict.id).scalar()
    tasks = [t for t in list_tasks(station) if t.status == "open"]
    assert len(tasks) >= 1
    from core.users import add_user
    from db.models import User

    locked_user = add_user(station, name="锁定的网格员", role="grid_worker", password="secret-123", grid="东园").id
    with station.transaction() as s:  # as five wrong passwords would
        s.get(User, locked_user).locked_until = utcnow() + timedelta(hours=1)
    backup = make_backup(station.engine.url.database)
    add_subject(station, SubjectData(name="备份之后的店", category="cosmetics_operator",
                                     credit_code=demo_code(700), address="后路1号"))  # so a restore changes something
    station.close()

    files = {
        "subjects_csv": _csv(base / "名册.csv", "名称,统一社会信用代码,类别,地址,法定代表人,联系电话,网格",
                             [f"新店,{demo_code(701)},化妆品经营者,新路1号,新,1,一"]),
        "events_csv": _csv(base / "事件.csv", "统一社会信用代码,事件类型,发生日期,来源编号,详情",
                           [f"{subject.credit_code},complaint,{date.today():%Y-%m-%d},PERM-EV-1,投诉"]),
    }
    return {"base": base, "people": people, "subject": subject, "graded": graded, "package": package, "enrolment": enrolment,
            "completed": completed, "ready": ready, "signable": signable, "wet": wet, "draft": draft, "photo": photo.id,
            "signed": signed[0], "correction": correction,
            "questioning": questioning, "questioning_draft": questioning_draft, "receipt": receipt,
            "case_lead": case_lead, "filing_draft": filing_draft, "filing_submitted": filing_submitted, "hold": hold,
            "leads": leads, "handled": handled, "fed_back": fed_back, "conflict": conflict_id,
            "up_enrolment": up_enrolment, "member": member, "revision": revision,
            "task": tasks[0].id, "spare": spare, "lead_photo": lead_photo, "backup": backup, "locked_user": locked_user, **files}


# --- the services and who may call them ---------------------------------------------------------

@dataclass(frozen=True)
class Service:
    name: str          # as found in core/ (module.function, or AppContext.method)
    allowed: frozenset  # roles that may call it
    call: Callable      # call(ctx, world, out) with ctx.user set
    fresh: bool = False  # on an empty database (the demo, enrolment) instead of the station
    system: bool = True  # the system (no user) may call it too
    effect: str = "database"  # what an allowed call changes: "database" or "file" (out/...)


def _subject_data(n: int):
    from core.demo import demo_code
    from core.subjects import SubjectData

    return SubjectData(name=f"权限测试店{n}", category="cosmetics_operator", credit_code=demo_code(800 + n),
                       address=f"测试路{n}号")


def _officers():
    from core.demo import OFFICERS

    return list(OFFICERS)


def _settings_change(ctx):
    from core.station import get_settings

    return replace(get_settings(ctx), inspection_prefix="权测药检")


def _photo_source(out: Path) -> Path:
    """A photo to attach, beside (not in) the output folder."""
    from tests.integration.test_sync import photo_file

    source = out.parent / "camera"
    source.mkdir(exist_ok=True)
    return photo_file(source)


def _first_item(ctx, inspection_id: str) -> str:
    return svc.load_inspection(ctx, inspection_id).template.items[-1].code


def _lazy(module: str, name: str):
    import importlib

    return getattr(importlib.import_module(module), name)


SERVICES = [
    # station settings, devices, conflicts, backups, the demo: the admin's (and the system's)
    Service("AppContext.set_setting", ADMIN, lambda c, w, o: c.set_setting("prefix.inspection", "权测药检")),
    Service("AppContext.set_settings", ADMIN, lambda c, w, o: c.set_settings({"sync.private_key": "00" * 32})),
    Service("AppContext.set_setting[memory]", ALL, lambda c, w, o: c.set_setting("hub_url", "http://127.0.0.1:1")),
    Service("station.update_settings", ADMIN,
            lambda c, w, o: _lazy("core.station", "update_settings")(c, _settings_change(c))),
    Service("sync.status.record_result", ALL, lambda c, w, o: _lazy("core.sync.status", "record_result")(c, "已同步")),
    Service("sync.devices.add_device", ADMIN, lambda c, w, o: _lazy("core.sync", "add_device")(c, "笔记本9")),
    Service("sync.devices.revoke_device", ADMIN,
            lambda c, w, o: _lazy("core.sync", "revoke_device")(c, w["enrolment"]["device_id"])),
    Service("sync.devices.enrol_device", ADMIN,
            lambda c, w, o: _lazy("core.sync", "enrol_device")(c, w["enrolment"]), fresh=True),
    Service("sync.levels.enrol_upstream", ADMIN,
            lambda c, w, o: _lazy("core.sync.levels", "enrol_upstream")(c, w["up_enrolment"])),
    Service("sync.levels.release_member", ADMIN,
            lambda c, w, o: _lazy("core.sync", "release_member")(c, w["member"], o / "release.json")),
    Service("published.publish", ADMIN, lambda c, w, o: _lazy("core.published", "publish")(c, w["revision"])),
    Service("sync.conflicts.resolve_conflict", ADMIN,
            lambda c, w, o: _lazy("core.sync", "resolve_conflict")(c, w["conflict"], "local")),
    Service("backup.restore_backup", ADMIN,
            lambda c, w, o: _lazy("core.backup", "restore_backup")(w["backup"], c.engine.url.database, user=c.user)),
    Service("demo.create_demo", ADMIN, lambda c, w, o: _lazy("core.demo", "create_demo")(c), fresh=True),
    # syncing one's own work: every role
    Service("sync.export.export_packages", ALL, lambda c, w, o: _lazy("core.sync", "export_packages")(c, o / "pkgs")),
    Service("sync.apply.import_package", ALL, lambda c, w, o: _lazy("core.sync", "import_package")(c, w["package"])),
    Service("sync.apply.import_packages", ALL,
            lambda c, w, o: _lazy("core.sync", "import_packages")(c, [w["package"]])),
    # the register and oversight
    Service("subjects.add_subject", OFFICERS_ROLES, lambda c, w, o: _lazy("core.subjects", "add_subject")(c, _subject_data(1))),
    Service("subjects.update_subject", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.subjects", "update_subject")(
                c, w["subject"].id, replace(_lazy("core.subjects", "SubjectData")(
                    name=w["subject"].name, category=w["subject"].category, credit_code=w["subject"].credit_code or "",
                    address=w["subject"].address), phone="13900000000"))),
    Service("register_import.import_subjects", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.register_import", "import_subjects")(c, w["subjects_csv"])),
    Service("grades.set_grade", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.grades", "set_grade")(c, w["graded"].id, 2, reason="复评", changed_by="王建国")),
    Service("tasks.record_event", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.tasks", "record_event")(c, w["subject"].id, "complaint", date.today(),
                                                               source_ref="PERM-1")),
    Service("tasks.import_events", OFFICERS_ROLES, lambda c, w, o: _lazy("core.tasks", "import_events")(c, w["events_csv"])),
    Service("tasks.assign_task", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.tasks", "assign_task")(c, w["task"], _officers()[1:])),
    Service("tasks.cancel_task", OFFICERS_ROLES, lambda c, w, o: _lazy("core.tasks", "cancel_task")(c, w["task"], "已另案处理")),
    Service("tasks.start_task", OFFICERS_ROLES, lambda c, w, o: _lazy("core.tasks", "start_task")(c, w["task"], _officers())),
    Service("plan.make_plan", OFFICERS_ROLES, lambda c, w, o: _lazy("core.plan", "make_plan")(c, date.today().year + 1, 7)),
    # inspections
    Service("inspections.drafts.start_inspection", OFFICERS_ROLES,
            lambda c, w, o: svc.start_inspection(c, w["subject"].id, "cosmetics-531", _officers())),
    Service("inspections.drafts.set_officers", OFFICERS_ROLES,
            lambda c, w, o: svc.set_officers(c, w["draft"], _officers()[::-1])),
    Service("inspections.drafts.set_answer", OFFICERS_ROLES,
            lambda c, w, o: svc.set_answer(c, w["draft"], _first_item(c, w["draft"]), "fail")),
    Service("inspections.drafts.answer_remaining", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.inspections.drafts", "answer_remaining")(c, w["draft"])),
    Service("inspections.drafts.set_note", OFFICERS_ROLES,
            lambda c, w, o: svc.set_note(c, w["draft"], _first_item(c, w["draft"]), "备注")),
    Service("inspections.drafts.update_details", OFFICERS_ROLES,
            lambda c, w, o: svc.update_details(c, w["draft"], findings="现场发现")),
    Service("inspections.drafts.set_rectification", OFFICERS_ROLES,
            lambda c, w, o: svc.set_rectification(c, w["completed"], deadline=date.today() + timedelta(days=20),
                                                  requirements="限期改正")),
    Service("inspections.photos.add_photo", OFFICERS_ROLES,
            lambda c, w, o: svc.add_photo(c, w["draft"], _first_item(c, w["draft"]), _photo_source(o))),
    Service("inspections.photos.remove_photo", OFFICERS_ROLES, lambda c, w, o: svc.remove_photo(c, w["draft"], w["photo"])),
    Service("inspections.workflow.add_signature", OFFICERS_ROLES,
            lambda c, w, o: svc.add_signature(c, w["completed"], svc.signature_roles(
                svc.load_inspection(c, w["completed"]))[0], "签名人", _lazy("tests.integration.helpers", "signature_png")())),
    Service("inspections.workflow.complete_inspection", OFFICERS_ROLES,
            lambda c, w, o: svc.complete_inspection(c, w["ready"])),
    Service("inspections.workflow.reopen_inspection", OFFICERS_ROLES,
            lambda c, w, o: svc.reopen_inspection(c, w["completed"])),
    Service("inspections.workflow.sign_inspection", OFFICERS_ROLES,
            lambda c, w, o: svc.sign_inspection(c, w["signable"], officer_passwords(c, w["signable"]))),
    Service("inspections.legal.set_legal", OFFICERS_ROLES,
            lambda c, w, o: svc.set_legal(c, w["draft"], recorder="李秀英")),
    Service("inspections.legal.set_item_detail", OFFICERS_ROLES,
            lambda c, w, o: svc.set_item_detail(c, w["draft"], "G1", case="未如实记录化妆品进货查验情况（无进货查验记录）")),
    Service("inspections.workflow.lock_for_wet_signing", OFFICERS_ROLES,
            lambda c, w, o: svc.lock_for_wet_signing(c, w["completed"], officer_passwords(c, w["completed"]))),
    Service("inspections.photos.attach_paper_scan", OFFICERS_ROLES,
            lambda c, w, o: svc.attach_paper_scan(c, w["wet"], _photo_source(o))),
    Service("printing.print_form", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.printing", "print_form")(c, w["completed"], "record", o / "forms" / "r.pdf"),
            effect="file"),
    # the forms that follow an inspection (询问笔录, 送达回证)
    Service("questioning.create_questioning", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.questioning", "create_questioning")(c, inspection_id=w["signed"])),
    Service("questioning.add_signature", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.questioning", "add_signature")(
                c, w["questioning_draft"], "officer1", "王建国", _lazy("tests.integration.helpers", "signature_png")())),
    Service("questioning.sign_questioning", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.questioning", "sign_questioning")(c, w["questioning"])),
    Service("printing.print_questioning", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.printing", "print_questioning")(c, w["questioning"], o / "forms" / "q.pdf"),
            effect="file"),
    Service("service_receipts.record_service", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.service_receipts", "record_service")(
                c, w["signed"], document="record", method="直接送达", recipient="张三", place="店内")),
    Service("printing.print_service_receipt", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.printing", "print_service_receipt")(c, w["receipt"], o / "forms" / "s.pdf"),
            effect="file"),
    # the void register and corrections
    Service("void_register.void_draft", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.void_register", "void_draft")(c, w["draft"], "误开的检查")),
    # the case papers (core.casework)
    Service("casework.cases.draft_case", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.casework.cases", "draft_case")(c, lead_id=w["case_lead"], officers=_lazy("core.demo", "OFFICERS"))),
    Service("casework.cases.edit_case", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.casework.cases", "edit_case")(c, w["filing_draft"], cause="某某涉嫌违法案")),
    Service("casework.cases.set_evidence", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.casework.cases", "set_evidence")(c, w["filing_draft"], ["线索登记"])),
    Service("casework.cases.submit_case", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.casework.cases", "submit_case")(c, w["filing_draft"])),
    Service("casework.cases.decide_case", ADMIN,
            lambda c, w, o: _lazy("core.casework.cases", "decide_case")(c, w["filing_submitted"], "approve")),
    Service("casework.evidence.release_evidence", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.casework.evidence", "release_evidence")(c, w["hold"], reason="经核查合格")),
    Service("printing.print_case_document", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.printing", "print_case_document")(c, w["hold"], o / "forms" / "c.pdf"),
            effect="file"),
    Service("casework.evidence.hold_evidence", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.casework.evidence", "hold_evidence")(
                c, w["signed"], cause="经营未备案的化妆品", place="仓库", approved_by="所长",
                items=[{"name": "保湿乳", "quantity": "1瓶", "kept_at": "仓库"}])),
    Service("casework.evidence.confirm_address", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.casework.evidence", "confirm_address")(
                c, w["signed"], recipient="张三", address="店内", phone="13800000000")),
    Service("void_register.void_questioning", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.void_register", "void_questioning")(c, w["questioning_draft"], "重新制作")),
    Service("void_register.print_voided", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.void_register", "print_voided")(c, o / "forms" / "voided.pdf"), effect="file"),
    Service("corrections.request_correction", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.corrections", "request_correction")(
                c, w["signed"], statement="更正当事人名称", reason="笔误")),
    Service("corrections.approve_correction", ADMIN,
            lambda c, w, o: _lazy("core.corrections", "approve_correction")(c, w["correction"])),
    # users
    Service("users.add_user", ADMIN,
            lambda c, w, o: _lazy("core.users", "add_user")(c, name="新网格员", role="grid_worker",
                                                          password="secret-123", grid="东园")),
    Service("users.set_password", ADMIN,
            lambda c, w, o: _lazy("core.users", "set_password")(
                c, w["people"]["grid_worker" if c.user.role != "grid_worker" else "inspector"].id, "new-secret-1")),
    Service("users.update_user", ADMIN,
            lambda c, w, o: _lazy("core.users", "update_user")(
                c, w["people"]["grid_worker"].id, name="改名网格员", role="grid_worker", grid="东园")),
    Service("users.revoke_signing_key", ADMIN,
            lambda c, w, o: _lazy("core.users", "revoke_signing_key")(c, w["people"]["inspector"].id)),
    Service("users.unlock_user", ADMIN,
            lambda c, w, o: _lazy("core.users", "unlock_user")(c, w["locked_user"])),
    Service("users.set_active", ADMIN,
            lambda c, w, o: _lazy("core.users", "set_active")(c, w["people"]["grid_worker"].id, False)),
    Service("inspectors.add_inspector", ADMIN,
            lambda c, w, o: _lazy("core.inspectors", "add_inspector")(c, "新执法员", "41170029999")),
    # deletions (core/deletions.py): a mistaken subject, a task nobody started, a lead photo
    Service("deletions.delete_subject", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.deletions", "delete_subject")(c, w["spare"])),
    Service("deletions.delete_task", OFFICERS_ROLES, lambda c, w, o: _lazy("core.deletions", "delete_task")(c, w["task"])),
    Service("deletions.remove_lead_photo", frozenset({"admin", "grid_worker"}),  # its reporter, or who manages leads
            lambda c, w, o: _lazy("core.deletions", "remove_lead_photo")(c, w["lead_photo"])),
    # leads
    Service("leads.report_lead", ALL,
            lambda c, w, o: _lazy("core.leads", "report_lead")(c, category="expired_in_use", subject_id=w["subject"].id,
                                                             description="又发现过期药品"), system=False),
    Service("leads.receive_lead", ADMIN, lambda c, w, o: _lazy("core.leads", "receive_lead")(c, w["leads"]["reported"])),
    Service("leads.assign_lead", ADMIN,
            lambda c, w, o: _lazy("core.leads", "assign_lead")(c, w["leads"]["assigned"], w["people"]["inspector"].id)),
    Service("leads.handle_lead", OFFICERS_ROLES,
            lambda c, w, o: _lazy("core.leads", "handle_lead")(c, w["leads"]["assigned"], "unfounded", "不属实")),
    Service("leads.feed_back", OFFICERS_ROLES, lambda c, w, o: _lazy("core.leads", "feed_back")(c, w["handled"], "已反馈")),
    Service("leads.close_lead", ADMIN, lambda c, w, o: _lazy("core.leads", "close_lead")(c, w["fed_back"])),
]

# Public functions in core that write but are not a user's action of their own, and why.
NOT_SERVICES = {
    "backup.make_backup": "a copy of the database, changes no record (the GUI's daily backup)",
    "backup.backup_if_due": "make_backup at start-up",
    "files.write_atomically": "a helper: the services that call it check their permission",
    "inspections.photos.store_image": "a helper of add_photo and report_lead, which check theirs",
    "users.log_in": "authentication itself: records failed attempts for everyone",
    "AppContext._write_settings": "internal: for services that checked their own permission",
    "sync.devices.private_key": "seals a key an older version stored in the clear, on use by any role (_write_settings)",
    "sync.replay.claim_request": "the hub's replay record of a request whose signature was checked",
    "sync.devices.ensure_station": "a helper of add_device and enrol_upstream, which check theirs",
    "unlock.encrypt_database": "encrypts the file as it is, no record changes: any user who has just logged in "
                               "(a laptop has no admin), checked against their password, or the system",
}


def _station_copy(world: dict, tmp_path: Path, fresh: bool) -> Path:
    name = "fresh" if fresh else "station"
    rawdb.copy_db(world["base"] / f"{name}.db", tmp_path / "db.db")
    source = world["base"] / f"{name}-attachments"
    if source.is_dir():
        shutil.copytree(source, tmp_path / "db-attachments")
    return tmp_path / "db.db"


def _state(db: Path, out: Path) -> tuple[str, str, str]:
    return database_digest(db), folder_digest(db.parent / "db-attachments"), folder_digest(out)


@pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])
def test_who_may_call(service: Service, world, tmp_path):
    checked = []
    for role in [r for r in ROLES if r not in service.allowed] + [r for r in ROLES if r in service.allowed]:
        case = tmp_path / role
        case.mkdir()
        db, out = _station_copy(world, case, service.fresh), case / "out"
        ctx = AppContext.open(db, create=False)
        try:
            ctx.user = world["people"][role]
            before = _state(db, out)
            if role in service.allowed:
                service.call(ctx, world, out)
                after = _state(db, out)
                if service.effect == "file":
                    assert after[2] != before[2], f"{service.name}: {role} wrote nothing"
                else:
                    assert after[0] != before[0], f"{service.name}: {role} was allowed but nothing changed"
            else:
                with pytest.raises(PermissionDenied) as refused:
                    service.call(ctx, world, out)
                assert "无权" in refused.value.message, refused.value.message
                assert _state(db, out) == before, f"{service.name}: refused {role} but something changed"
        finally:
            ctx.close()
        checked.append(role)
    assert sorted(checked) == sorted(ROLES)


@pytest.mark.parametrize("service", [s for s in SERVICES if s.name.startswith((
    "AppContext", "sync.devices", "sync.levels", "published", "backup", "demo", "leads.report"))],
                         ids=lambda s: s.name)
def test_the_system_may_call(service: Service, world, tmp_path):
    """With nobody logged in (the headless CLI) the core acts as the system — except for a lead,
    which needs a reporter."""
    db, out = _station_copy(world, tmp_path, service.fresh), tmp_path / "out"
    ctx = AppContext.open(db, create=False)
    try:
        before = _state(db, out)
        if service.system:
            service.call(ctx, world, out)
            assert _state(db, out)[0] != before[0]
        else:
            with pytest.raises(PermissionDenied):
                service.call(ctx, world, out)
            assert _state(db, out) == before
    finally:
        ctx.close()


def test_memory_settings_are_the_keys_the_gui_and_sync_panel_remember():
    from core.context import MEMORY_SETTINGS
    from core.sync.status import HUB_URL, LAST_RESULT
    from gui.new_inspection_dialog import LAST_OFFICERS_KEY

    assert MEMORY_SETTINGS == {HUB_URL, LAST_RESULT, LAST_OFFICERS_KEY}


def _writers() -> set[str]:
    """Public functions (and AppContext methods) in core/ whose body writes data or files."""
    markers = ("transaction()", "set_setting", "_write_settings", "_copy_database", "write_atomically",
               "export_packages(", "import_package(", "os.replace")
    found = set()
    for path in sorted((ROOT / "core").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        module = ".".join(path.relative_to(ROOT / "core").with_suffix("").parts)
        for node in ast.parse(source).body:
            functions = [(f"{module}.", node)] if isinstance(node, ast.FunctionDef) else []
            if isinstance(node, ast.ClassDef) and node.name == "AppContext":
                functions = [("AppContext.", n) for n in node.body if isinstance(n, ast.FunctionDef)]
            for prefix, fn in functions:
                if fn.name.startswith("__") or (fn.name.startswith("_") and prefix != "AppContext."):
                    continue
                args = [a.arg for a in fn.args.args]
                takes_context = args[:1] in (["ctx"], ["self"]) or fn.name == "restore_backup"
                body = ast.get_source_segment(source, fn) or ""
                if takes_context and any(m in body for m in markers):
                    found.add(prefix + fn.name)
    return found


def test_every_data_changing_service_is_listed():
    writers = _writers()
    assert len(writers) >= 40, sorted(writers)  # the scan finds them (it is not looking at nothing)
    listed = {s.name.split("[")[0] for s in SERVICES} | set(NOT_SERVICES)
    # push and pull (the hub client) change data only through export_packages and import_package;
    # _ensure_settings writes the default settings when a database is opened
    delegating = {"sync.client.push", "sync.client.pull", "AppContext._ensure_settings"}
    missing = writers - listed - delegating
    assert missing == set(), f"add these to SERVICES with the roles allowed: {sorted(missing)}"
