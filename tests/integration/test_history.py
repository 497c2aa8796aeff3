"""修改记录 for people: Chinese record kinds and field labels, old → new values, no empty rows."""
from __future__ import annotations

from core import inspections as svc
from core.history import readable_history
from core.subjects import SubjectData, update_subject


def test_an_answer_and_a_note_read_as_fields_of_their_item(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    svc.set_answer(ctx, inspection_id, "A1", "fail")
    svc.set_note(ctx, inspection_id, "A1", "营业执照过期")
    svc.set_answer(ctx, inspection_id, "A1", "pass")
    rows = readable_history(ctx, inspection_id)
    assert len(rows) >= 4
    texts = [(r.action, r.kind, r.field, r.before, r.after) for r in rows]
    a1 = [t for t in texts if t[1].startswith("检查项结果（A1 ")]
    assert ("新建", "结果", "", "不符合") in [(t[0], *t[2:]) for t in a1]  # the first answer makes the row
    assert ("修改", "结果", "不符合", "符合") in [(t[0], *t[2:]) for t in a1]
    assert ("修改", "说明", "（空）", "营业执照过期") in [(t[0], *t[2:]) for t in a1]
    assert ("新建", "检查记录", "状态", "", "草稿") in texts
    assert any(t[1] == "检查人员" and t[2] == "执法人员" and t[4] == officers[0].name for t in texts)
    # nothing of the developer's view
    for r in rows:
        assert r.field and not r.kind.isascii() and not r.field.isascii(), r
        assert "_" not in r.kind + r.field and "{" not in r.before + r.after
    # the touches of the inspection row itself (its version, updated_at) give no rows
    assert not [t for t in texts if t[0] == "修改" and t[1] == "检查记录"]


def test_a_subject_change_shows_the_old_and_new_value_per_field(ctx, subject):
    update_subject(ctx, subject.id, SubjectData(name=subject.name, category="device_operator",
                                                credit_code=subject.credit_code, address="新地址9号",
                                                legal_rep=subject.legal_rep, phone=subject.phone, grid=subject.grid))
    changes = [(r.field, r.before, r.after) for r in readable_history(ctx, subject.id) if r.action == "修改"]
    assert sorted(changes) == sorted([("类别", "化妆品经营者", "医疗器械经营者"), ("地址", subject.address, "新地址9号")])


def test_the_legal_elements_read_one_field_each(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    svc.set_legal(ctx, inspection_id, recorder="李秀英")
    svc.set_legal(ctx, inspection_id, recorder="王芳", party_absent=True)
    texts = [(r.action, r.kind, r.field, r.before, r.after) for r in readable_history(ctx, inspection_id)]
    legal = [t for t in texts if t[0] == "修改" and t[1] == "检查记录"]
    assert ("修改", "检查记录", "记录人", "（空）", "李秀英") in legal
    assert ("修改", "检查记录", "记录人", "李秀英", "王芳") in legal
    assert ("修改", "检查记录", "当事人不在场", "（空）", "是") in legal
    assert not [t for t in texts if "legal" in t[2] or "{" in t[3] + t[4]]
