"""The demo station has a signed inspection with each shipped checklist, at its newest version,
each subject inspected with the checklist the rules give its category."""
from __future__ import annotations

from sqlalchemy import select

from core import inspections as svc
from core.checklist_fit import fit_warning, proposed_checklist
from core.checklists import load_templates
from core.demo import create_demo
from db.models import Inspection, Subject


def test_demo_has_a_signed_inspection_per_checklist_with_a_failed_item(ctx):
    create_demo(ctx)
    templates = load_templates()
    assert len(templates) == 7
    with ctx.sessions() as s:
        rows = s.execute(select(Inspection.id, Inspection.template_code, Inspection.template_version,
                                Inspection.status, Subject.category)
                         .join(Subject, Subject.id == Inspection.subject_id)).all()
    signed = [r for r in rows if r.status == "signed"]
    assert len(signed) == 9
    assert {r.template_code for r in signed} == set(templates)
    for row in signed:
        assert row.template_version == templates[row.template_code].version
        assert fit_warning(ctx, row.category, row.template_code) == ""
    devices = [r for r in signed if r.template_code.startswith("device-") and r.template_code != "device-user"]
    assert len(devices) == 4  # 批零兼营, 批发, 零售, 冷链: each with the checklist its category maps to
    for row in devices:
        assert proposed_checklist(ctx, row.category) == row.template_code, row.category
    for code in ("drug-retail", "device-user", "device-operator", "device-wholesale", "device-retail",
                 "device-cold-chain"):
        [row] = [r for r in signed if r.template_code == code]
        record = svc.load_inspection(ctx, row.id)
        failed = [a for a in record.answers.values() if a.result == "fail"]
        assert len(failed) >= 1, code
        assert record.rectification is not None, code
    # topping up adds nothing
    assert create_demo(ctx) == {"subjects": 0, "inspections": 0}
