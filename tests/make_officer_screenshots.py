"""Render docs/screenshots/officer-*.png: the signing step's password dialog (a joint
inspection: one officer with a key here, one from elsewhere) and the printed record's footer.

    .venv/bin/python tests/make_officer_screenshots.py
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    from core import inspections as svc
    from core.context import AppContext
    from core.demo import DEMO_PASSWORD, OFFICERS, create_demo
    from core.printing import print_form
    from core.subjects import search_subjects
    from gui.app import setup_application
    from gui.jobs import ImmediateRunner
    from gui.officer_sign_dialog import OfficerSignDialog
    from tests.integration.helpers import answer_all, signature_png
    from tests.support.screens import pdf_page_png

    app = setup_application([])
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ctx = AppContext.open(tmp / "station.db")
        create_demo(ctx)
        subject = search_subjects(ctx, "芳华")[0]
        joint = svc.OfficerData("张卫东", "41170021003")  # on the list without a password: no key
        inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", [OFFICERS[0], joint])
        answer_all(ctx, inspection_id, {})
        svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="刘芳")
        svc.complete_inspection(ctx, inspection_id)
        svc.set_legal(ctx, inspection_id, confirmation=svc.DEFAULT_CONFIRMATION)
        for role in svc.signature_roles(svc.load_inspection(ctx, inspection_id)):
            svc.add_signature(ctx, inspection_id, role, "签名人", signature_png())
        dialog = OfficerSignDialog(svc.officer_signers(ctx, inspection_id),
                                   lambda passwords: svc.sign_inspection(ctx, inspection_id, passwords),
                                   title="签名锁定",
                                   question="签名锁定后，本检查记录将不能再修改。请在场的每位执法人员输入本人密码签名。",
                                   runner=ImmediateRunner())
        [field] = dialog.passwords.values()
        field.setText("wrong-1")
        dialog.show()
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        for _ in range(3):
            app.processEvents()
        dialog.grab().save(str(OUT / "officer-sign-dialog.png"))
        field.setText(DEMO_PASSWORD)
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        assert svc.load_inspection(ctx, inspection_id).status == "signed"
        pdf = print_form(ctx, inspection_id, "record", tmp / "record.pdf")
        pdf_page_png(pdf, OUT / "officer-record.png", page=1)
        ctx.close()


if __name__ == "__main__":
    main()
