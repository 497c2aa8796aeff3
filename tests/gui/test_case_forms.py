"""The case papers' forms through the real widgets (gui/case_filing.py, gui/evidence_dialogs.py):
the 立案审批表 drafted, edited (opinion typed, evidence added and removed) and submitted by the
承办人, decided by the 所长 from the main window's 立案审批 (an inspector is offered no decision
and the core refuses one); the 先行登记保存证据通知书 with item rows added, typed and removed,
issued, previewed, then lifted (解除); the 送达地址确认书 typed and issued. Each PDF's text and QR."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QLineEdit, QPushButton, QToolBar

from core.casework import cases
from core.casework.store import list_case_documents, load_case_document
from core.users import PermissionDenied, UserRow
from core.verification import make_payload, verify_payload
from gui.case_filing import CaseFilingDialog, CaseFilingsDialog
from gui.case_papers import CasePapersDialog
from gui.evidence_dialogs import AddressDialog, EvidenceHoldDialog, EvidenceReleaseDialog
from gui.jobs import ImmediateRunner
from gui.print_preview import PrintPreviewDialog
from tests.gui.helpers import LEFT, open_main_window
from tests.integration.helpers import register_officers, signed_inspection
from tests.integration.pdfcheck import decode_qr, pdf_text
from tests.integration.test_review_form import FAILURES, reinspect

ADMIN = UserRow(id="a", name="所长王", role="admin", cert_no="", grid="", can_log_in=True)
INSPECTOR = UserRow(id="i", name="王建国", role="inspector", cert_no="41170021001", grid="", can_log_in=True)
OPINION = "当事人逾期未改正，违法事实清楚，建议立案调查。"


@pytest.fixture
def saved_pdfs(qtbot, monkeypatch, tmp_path):
    """Every print preview saves its PDF (through the 另存为 PDF button) to the next file here."""
    saved = []

    def save(preview: PrintPreviewDialog) -> int:
        out = tmp_path / f"form-{len(saved)}.pdf"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF 文件 (*.pdf)"))
        qtbot.mouseClick(preview.save_button, LEFT)
        saved.append(out)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PrintPreviewDialog, "exec", save)
    return saved


def flat(path) -> str:
    return "".join(pdf_text(path).split())


def papers_dialog(qtbot, ctx, inspection_id) -> CasePapersDialog:
    dialog = CasePapersDialog(ctx, inspection_id, runner=ImmediateRunner())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def shown(qtbot, dialog) -> None:
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()


def test_the_filing_is_submitted_by_the_handler_and_decided_by_the_director(
        ctx, subject, officers, qtbot, type_text, monkeypatch, saved_pdfs):
    from core import inspections as svc

    register_officers(ctx)
    original = svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers, FAILURES))
    review = reinspect(ctx, officers, {"G1": "仍无进货查验记录"})
    order = original.rectification.number
    steps, seen = [], {}

    def as_handler(dialog: CaseFilingDialog) -> int:
        shown(qtbot, dialog)
        assert dialog.approval.isHidden()  # no decision offered to an inspector
        assert order in dialog.state.text() and "草稿" in dialog.state.text()
        qtbot.mouseClick(dialog.submit_button, LEFT)  # no opinion yet: refused, one message
        seen["refused"] = dialog.message.text()
        type_text(dialog.new_evidence, "长" * 301)  # too long: closing is refused once, the reason shown
        qtbot.mouseClick(dialog.add_evidence_button, LEFT)
        qtbot.mouseClick(dialog.findChild(QPushButton, "filing-close"), LEFT)
        assert dialog.isVisible() and "证据名称" in dialog.message.text()
        last = dialog.evidence.item(dialog.evidence.count() - 1)
        qtbot.mouseClick(dialog.evidence.viewport(), LEFT, pos=dialog.evidence.visualItemRect(last).center())
        qtbot.mouseClick(dialog.remove_evidence_button, LEFT)
        type_text(dialog.handler_opinion, OPINION)
        type_text(dialog.new_evidence, "询问笔录（当事人店长李小梅）")
        qtbot.mouseClick(dialog.add_evidence_button, LEFT)
        type_text(dialog.new_evidence, "误加的一项")
        qtbot.mouseClick(dialog.add_evidence_button, LEFT)
        last = dialog.evidence.item(dialog.evidence.count() - 1)
        qtbot.mouseClick(dialog.evidence.viewport(), LEFT, pos=dialog.evidence.visualItemRect(last).center())
        qtbot.mouseClick(dialog.remove_evidence_button, LEFT)
        qtbot.mouseClick(dialog.findChild(QPushButton, "filing-close"), LEFT)  # closing keeps what was typed
        seen["closed"] = load_case_document(ctx, dialog.record.id).content
        shown(qtbot, dialog)
        qtbot.mouseClick(dialog.submit_button, LEFT)
        seen["state"] = dialog.state.text()
        seen["editable"] = dialog.save_button.isEnabled()
        return QDialog.DialogCode.Accepted

    def as_director(dialog: CaseFilingDialog) -> int:
        shown(qtbot, dialog)
        assert not dialog.approval.isHidden() and dialog.approve_button.isEnabled()
        qtbot.mouseClick(dialog.decline_button, LEFT)  # 不予立案 needs an opinion: refused
        seen["decline"] = dialog.message.text()
        type_text(dialog.decision_opinion, "同意立案，由王建国、李秀英承办。")
        qtbot.mouseClick(dialog.approve_button, LEFT)
        seen["decided"] = dialog.state.text()
        qtbot.mouseClick(dialog.print_button, LEFT)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(CaseFilingDialog, "exec", lambda d: steps.pop(0)(d))
    steps.append(as_handler)
    ctx.user = INSPECTOR
    papers = papers_dialog(qtbot, ctx, review)
    qtbot.mouseClick(papers.draft_button, LEFT)  # drafts both papers and opens the filing
    assert steps == [] and "未填写承办人意见" in seen["refused"]
    assert "待审批" in seen["state"] and not seen["editable"]
    assert seen["closed"]["handler_opinion"] == OPINION and "误加的一项" not in seen["closed"]["evidence"]
    [filing] = list_case_documents(ctx, kind="case_filing")
    assert filing.status == "submitted" and filing.content["handler_opinion"] == OPINION
    assert filing.content["evidence"][-1] == "询问笔录（当事人店长李小梅）"
    assert "误加的一项" not in filing.content["evidence"]
    with pytest.raises(PermissionDenied):
        cases.decide_case(ctx, filing.id, "approve")

    ctx.user = ADMIN
    window = open_main_window(qtbot, ctx)
    assert window.cases_action.isVisible()

    def filings(dialog: CaseFilingsDialog) -> int:
        shown(qtbot, dialog)
        assert dialog.table.item(0, 0).text() == filing.number and dialog.table.item(0, 1).text() == "待审批"
        steps.append(as_director)
        qtbot.mouseClick(dialog.open_button, LEFT)
        seen["listed"] = dialog.table.item(0, 1).text()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(CaseFilingsDialog, "exec", filings)
    [toolbar] = window.findChildren(QToolBar)
    qtbot.mouseClick(toolbar.widgetForAction(window.cases_action), LEFT)
    assert steps == [] and "审批意见" in seen["decline"]
    assert "同意立案" in seen["decided"] and seen["listed"] == "已签发"
    decided = load_case_document(ctx, filing.id)
    assert decided.locked and decided.content["approval"]["by"] == "所长王"
    assert load_case_document(ctx, filing.parent_id).locked  # the registration is decided with it
    [pdf] = saved_pdfs
    text = flat(pdf)
    for element in ("立案审批表", filing.number, order, "".join(OPINION.split()), "询问笔录（当事人店长李小梅）",
                    "同意立案，由王建国、李秀英承办。", "所长王"):
        assert element in text, element
    assert decode_qr(pdf) == [make_payload(decided, "case_filing")]


def type_cell(qtbot, type_text, table, row: int, column: int, text: str) -> None:
    """Double-click a cell, type into its editor, Enter — as a user fills a table row."""
    rect = table.visualItemRect(table.item(row, column))
    qtbot.mouseClick(table.viewport(), LEFT, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), LEFT, pos=rect.center())
    [editor] = [e for e in table.viewport().findChildren(QLineEdit) if e.isVisible()]  # the cell's editor
    type_text(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    QApplication.processEvents()  # the delegate commits Enter through a queued call
    assert table.item(row, column).text() == text


ROWS = [("某某保湿乳", "50ml/瓶", "20260301", "12瓶", "店内仓库东侧货架"),
        ("某某面膜", "25g×5片/盒", "B2026-02", "6盒", "店内仓库东侧货架")]


def test_hold_evidence_with_an_item_list_then_lift_it(ctx, subject, officers, qtbot, type_text, monkeypatch,
                                                      saved_pdfs):
    register_officers(ctx)
    inspection_id = signed_inspection(ctx, subject.id, officers, FAILURES)
    papers = papers_dialog(qtbot, ctx, inspection_id)
    assert not papers.release_button.isEnabled()
    seen = {}

    def fill(dialog: EvidenceHoldDialog) -> int:
        shown(qtbot, dialog)
        type_text(dialog.cause, "经营未备案的化妆品")
        type_text(dialog.place, "当事人经营场所仓库")
        type_text(dialog.approved_by, "所长王")
        qtbot.mouseClick(dialog.add_item_button, LEFT)
        qtbot.mouseClick(dialog.add_item_button, LEFT)
        assert dialog.items.rowCount() == 3
        for column, text in enumerate(ROWS[0]):
            type_cell(qtbot, type_text, dialog.items, 0, column, text)
        for column, text in enumerate(ROWS[1][:3]):  # the quantity and place are still missing
            type_cell(qtbot, type_text, dialog.items, 1, column, text)
        type_cell(qtbot, type_text, dialog.items, 2, 0, "多余的一行")
        save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
        qtbot.mouseClick(save, LEFT)
        seen["refused"] = dialog.message.text()
        seen["written"] = len(list_case_documents(ctx, kind="evidence_hold"))
        for column, text in enumerate(ROWS[1][3:], 3):
            type_cell(qtbot, type_text, dialog.items, 1, column, text)
        qtbot.mouseClick(dialog.items.viewport(), LEFT,
                         pos=dialog.items.visualItemRect(dialog.items.item(2, 0)).center())
        qtbot.mouseClick(dialog.remove_item_button, LEFT)
        assert dialog.items.rowCount() == 2
        qtbot.mouseClick(save, LEFT)
        return dialog.result()

    monkeypatch.setattr(EvidenceHoldDialog, "exec", fill)
    qtbot.mouseClick(papers.hold_button, LEFT)
    assert "第 2 项物品缺少数量、存放地点" in seen["refused"] and seen["written"] == 0
    [hold] = list_case_documents(ctx, kind="evidence_hold")
    assert hold.locked and [tuple(i.values()) for i in hold.content["items"]] == ROWS
    assert papers.table.item(papers.table.currentRow(), 0).text() == hold.number
    assert "保存中" in papers.table.item(papers.table.currentRow(), 2).text()
    [pdf] = saved_pdfs
    text = flat(pdf)
    for element in ("先行登记保存证据通知书", hold.number, "经营未备案的化妆品", "第五十六条", "某某保湿乳", "50ml/瓶",
                    "20260301", "12瓶", "某某面膜", "6盒", "店内仓库东侧货架", "所长王"):
        assert element in text, element
    assert decode_qr(pdf) == [make_payload(hold, "evidence_hold")]
    assert verify_payload(ctx, make_payload(hold, "evidence_hold")).ok

    def lift(dialog: EvidenceReleaseDialog) -> int:
        shown(qtbot, dialog)
        type_text(dialog.reason, "经核查，上述物品已补办备案")
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), LEFT)
        return dialog.result()

    monkeypatch.setattr(EvidenceReleaseDialog, "exec", lift)
    assert papers.release_button.isEnabled()
    qtbot.mouseClick(papers.release_button, LEFT)
    [release] = list_case_documents(ctx, kind="evidence_release")
    assert release.parent_id == hold.id and release.locked
    text = flat(saved_pdfs[1])
    for element in ("解除先行登记保存证据通知书", release.number, hold.number, "经核查，上述物品已补办备案", "某某面膜"):
        assert element in text, element
    row = next(r for r in range(papers.table.rowCount()) if papers.table.item(r, 0).text() == hold.number)
    assert papers.table.item(row, 2).text() == f"已解除（{release.number}）"
    qtbot.mouseClick(papers.table.viewport(), LEFT, pos=papers.table.visualItemRect(papers.table.item(row, 0)).center())
    assert not papers.release_button.isEnabled()  # lifted once


def test_the_address_confirmation_through_the_form(ctx, subject, officers, qtbot, type_text, monkeypatch,
                                                   saved_pdfs):
    register_officers(ctx)
    inspection_id = signed_inspection(ctx, subject.id, officers)
    papers = papers_dialog(qtbot, ctx, inspection_id)
    seen = {}

    def fill(dialog: AddressDialog) -> int:
        shown(qtbot, dialog)
        assert dialog.recipient.text() == subject.name and not dialog.electronic.isEnabled()
        dialog.address.clear()
        type_text(dialog.address, "驻马店市驿城区测试路1号")
        dialog.phone.clear()
        type_text(dialog.phone, "13800000000")
        type_text(dialog.postcode, "463000")
        type_text(dialog.addressee, "李小梅")
        qtbot.mouseClick(dialog.consent, LEFT, pos=QPoint(6, dialog.consent.height() // 2))  # the tick box
        save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
        qtbot.mouseClick(save, LEFT)  # consent without the way: refused
        seen["refused"] = dialog.message.text()
        assert dialog.electronic.isEnabled()
        type_text(dialog.electronic, "短信 13800000000")
        qtbot.mouseClick(save, LEFT)
        return dialog.result()

    monkeypatch.setattr(AddressDialog, "exec", fill)
    qtbot.mouseClick(papers.address_button, LEFT)
    assert "须写明电子送达方式" in seen["refused"]
    [confirm] = list_case_documents(ctx, kind="address_confirm")
    assert confirm.locked and confirm.content["postcode"] == "463000"
    [pdf] = saved_pdfs
    text = flat(pdf)
    for element in ("送达地址确认书", confirm.number, subject.name, "驻马店市驿城区测试路1号", "463000", "13800000000",
                    "李小梅", "同意，电子送达方式：短信13800000000", "受送达人签名"):
        assert element in text, element
    assert decode_qr(pdf) == [make_payload(confirm, "address_confirm")]
