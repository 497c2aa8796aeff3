"""案件文书 through the real widgets: a re-inspection that still fails offers 拟立案审批表; clicking it
makes the 案件来源登记表 and the 立案审批表 (listed with their numbers) and opens the filing; the preview of the
filing cites the original order's number."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFileDialog

from core.casework.store import list_case_documents
from gui.case_filing import CaseFilingDialog
from gui.case_papers import CasePapersDialog
from gui.print_preview import PrintPreviewDialog
from tests.gui.helpers import LEFT, open_editor
from tests.integration.helpers import register_officers, signed_inspection
from tests.integration.pdfcheck import pdf_text
from tests.integration.test_review_form import FAILURES, reinspect


def test_draft_and_preview_a_filing_from_a_failed_reinspection(ctx, subject, officers, qtbot, monkeypatch, tmp_path):
    from core import inspections as svc

    register_officers(ctx)
    original = svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers, FAILURES))
    review = reinspect(ctx, officers, {"G1": "仍无进货查验记录"})
    editor = open_editor(qtbot, ctx, review)
    assert editor.actions.cases_button.isVisible()
    out = tmp_path / "立案审批表.pdf"
    seen = {}

    def save_from_preview(preview: PrintPreviewDialog) -> int:
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF 文件 (*.pdf)"))
        qtbot.mouseClick(preview.save_button, LEFT)
        return QDialog.DialogCode.Accepted

    def use(dialog: CasePapersDialog) -> int:
        dialog.show()
        qtbot.waitExposed(dialog)
        assert original.rectification.number in dialog.hint.text() and dialog.draft_button.isEnabled()
        assert dialog.table.rowCount() == 0 and not dialog.print_button.isEnabled()
        qtbot.mouseClick(dialog.draft_button, LEFT)
        seen["rows"] = [dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())]
        qtbot.mouseClick(dialog.draft_button, LEFT)  # a second filing for the same order: refused, one message
        seen["message"] = dialog.message.text()
        qtbot.mouseClick(dialog.print_button, LEFT)  # the new filing is selected
        return QDialog.DialogCode.Accepted

    opened = []
    monkeypatch.setattr(CaseFilingDialog, "exec", lambda d: opened.append(d.record.number) or 0)
    monkeypatch.setattr(CasePapersDialog, "exec", use)
    monkeypatch.setattr(PrintPreviewDialog, "exec", save_from_preview)
    qtbot.mouseClick(editor.actions.cases_button, LEFT)
    assert seen["rows"] == ["案件来源登记表", "立案审批表"]
    assert len(opened) == 1  # the new filing opens for the 承办人 (tests/gui/test_case_forms.py drives it)
    assert "已拟立案审批表" in seen["message"]
    [filing] = list_case_documents(ctx, kind="case_filing")
    text = "".join(pdf_text(out).split())
    assert "立案审批表" in text and filing.number in text and original.rectification.number in text


def test_a_record_without_a_recommendation_offers_no_filing(ctx, subject, officers, qtbot):
    register_officers(ctx)
    inspection_id = signed_inspection(ctx, subject.id, officers, FAILURES)
    dialog = CasePapersDialog(ctx, inspection_id)
    qtbot.addWidget(dialog)
    assert not dialog.draft_button.isEnabled() and "没有立案建议" in dialog.hint.text()
