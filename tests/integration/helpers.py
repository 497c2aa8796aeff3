"""Shared steps for integration tests: a finished, signed inspection."""
from __future__ import annotations

from io import BytesIO

from core import inspections as svc


def signature_png(text: str = "签") -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (120, 50), (255, 255, 255, 0))
    ImageDraw.Draw(image).line((5, 40, 60, 5, 115, 40), fill=(0, 0, 120, 255), width=3)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# the password of every officer the tests register: it opens their signing keys (core.officer_keys)
OFFICER_PASSWORD = "officer-pass-1"
# passwords other tests give their officers (tried, in order, by ``officer_passwords``)
KNOWN_PASSWORDS = ("correct horse", "station-pass-1", "secret123", "secret1", "inspector-1")


def register_officers(ctx, officers=None, *, password: str | None = OFFICER_PASSWORD) -> None:
    """Put the officers on the station's list (执法人员名录), once, with a password and so a
    signing key: a signed inspection from a laptop is accepted only when its officers are
    active inspectors there and their own keys signed it (core/sync/signed.py)."""
    from core.inspectors import add_inspector, list_inspectors
    from tests.conftest import OFFICERS_DATA

    known = {o.cert_no for o in list_inspectors(ctx, active_only=False)}
    user, ctx.user = ctx.user, None  # as the system (the station's admin)
    try:
        for name, cert_no in officers if officers is not None else OFFICERS_DATA:
            if cert_no not in known:
                add_inspector(ctx, name, cert_no, password=password)
    finally:
        ctx.user = user


def officer_passwords(ctx, inspection_id, *, password: str | None = None) -> dict[str, str]:
    """What each officer present types at signing: their password (执法证号 → password). Officers
    unknown here are put on this database's list first (a test that signs where it inspects)."""
    from sqlalchemy import select

    from core.demo import DEMO_PASSWORD
    from core.users import check_password
    from db.models import User

    signers = svc.officer_signers(ctx, inspection_id)
    if password is not None:  # the officers were made with this password
        return {s.cert_no: password for s in signers if s.cert_no}
    if not any(s.has_key for s in signers):
        register_officers(ctx, [(s.name, s.cert_no) for s in signers if s.cert_no])
    with ctx.sessions() as session:
        stored = dict(session.execute(select(User.cert_no, User.password_hash).where(
            User.cert_no.in_([s.cert_no for s in signers]))).all())
    # the tests' officers, the demo's (the same names and numbers) or a test's own: the password that opens
    candidates = (OFFICER_PASSWORD, DEMO_PASSWORD, *KNOWN_PASSWORDS)
    return {s.cert_no: next((p for p in candidates if stored.get(s.cert_no) and check_password(p, stored[s.cert_no])),
                            OFFICER_PASSWORD) for s in signers if s.cert_no}


PRODUCT = {"name": "某品牌保湿乳", "spec": "100 mL/瓶", "batch": "20260301", "quantity": "3瓶"}


def answer_all(ctx, inspection_id, failures: dict[str, str]) -> None:
    """Answer every item; a failed item gets its note, its first case and a product when it asks."""
    record = svc.load_inspection(ctx, inspection_id)
    for item in record.template.items:
        svc.set_answer(ctx, inspection_id, item.code, "fail" if item.code in failures else "pass")
        if item.code in failures:
            svc.set_note(ctx, inspection_id, item.code, failures[item.code])
            if item.cases or item.product:
                svc.set_item_detail(ctx, inspection_id, item.code, case=item.cases[0] if item.cases else None,
                                    product=PRODUCT if item.product else None)


WITNESS = dict(witness_id="西园社区居委会", witness_phone="13900000000")


def sign_all(ctx, inspection_id, *, refused: bool = False, password: str | None = None) -> str:
    ready_to_sign(ctx, inspection_id, refused=refused)
    return svc.sign_inspection(ctx, inspection_id, officer_passwords(ctx, inspection_id, password=password))


def ready_to_sign(ctx, inspection_id, *, refused: bool = False) -> None:
    """A completed inspection with its 告知/confirmation (or the refusal) and every signature drawn:
    what is left is 签名锁定, the officers typing their passwords."""
    record = svc.load_inspection(ctx, inspection_id)
    assert record.status == "completed", record.status  # callers complete the inspection first
    if refused:
        svc.update_details(ctx, inspection_id, party_refused=True, witness_name="孙丽")
        svc.set_legal(ctx, inspection_id, refusal_reason="称对检查结果有异议", order_refused=True,
                      order_refusal_reason="拒绝签收", **WITNESS)
    else:
        svc.set_legal(ctx, inspection_id, confirmation=svc.DEFAULT_CONFIRMATION)
    record = svc.load_inspection(ctx, inspection_id)
    roles = svc.signature_roles(record)
    # the party (or the witness), the party again for the order when there is one, each officer
    order = 1 if record.rectification is not None and not refused else 0
    assert len(roles) == 1 + order + len(record.officers)
    for role in roles:
        svc.add_signature(ctx, inspection_id, role, "签名人", signature_png())
    assert sorted(svc.load_inspection(ctx, inspection_id).signatures) == sorted(roles)


def signed_inspection(ctx, subject_id, officers, failures=None, *, refused=False) -> str:
    failures = {"B2": "1批次无备案信息", "G1": "无进货查验记录"} if failures is None else failures
    inspection_id = svc.start_inspection(ctx, subject_id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, failures)
    svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, inspection_id)
    sign_all(ctx, inspection_id, refused=refused)
    return inspection_id


def failed_reinspection(ctx) -> tuple[str, str]:
    """The demo's first open re-inspection task, done and signed with its first ordered item still
    failing (未整改到位, a 立案建议): (the re-inspection's id, the original order's number)."""
    from core import inspections as svc
    from core.tasks import list_tasks, start_task
    from db.models import Rectification

    task = next(t for t in list_tasks(ctx, status="open") if t.rectification_id)
    with ctx.transaction() as s:
        rect = s.get(Rectification, task.rectification_id)
        original, order = svc.load_inspection(ctx, rect.inspection_id), rect.number
    review = start_task(ctx, task.id, original.officers)
    codes = [f.item.code for f in original.order_items()]
    answer_all(ctx, review, {codes[0]: "复查时仍未改正"})
    svc.update_details(ctx, review, party_present_name="张三")
    svc.complete_inspection(ctx, review)
    sign_all(ctx, review)
    return review, order


def submitted_case_filing(ctx):
    """``failed_reinspection``, then its 立案审批表 drafted and submitted by the 承办人, with the demo's
    station admin (who decides it) logged in: (the re-inspection's id, the filing)."""
    from core.casework import cases
    from core.demo import DEMO_ADMIN
    from core.users import list_users

    review, order = failed_reinspection(ctx)
    filing = cases.draft_case(ctx, rectification_id=order)
    cases.edit_case(ctx, filing.id, handler_opinion="当事人逾期未改正，违法事实清楚，符合立案条件，建议立案调查。")
    cases.submit_case(ctx, filing.id)
    ctx.user = next(u for u in list_users(ctx) if u.name == DEMO_ADMIN)
    return review, filing
