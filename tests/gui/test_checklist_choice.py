"""The new-inspection dialog preselects the checklist the rules map a subject's category to,
and warns, in a visible line, when the inspector picks one that does not fit."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from core import inspections as svc
from core.subjects import SubjectData, add_subject
from gui.new_inspection_dialog import NewInspectionDialog

LEFT = Qt.MouseButton.LeftButton


def _subject(ctx, category, name):
    return add_subject(ctx, SubjectData(name=name, category=category, address="驻马店市驿城区测试路9号"))


def _opened(qtbot, ctx, subject) -> NewInspectionDialog:
    """The new-inspection dialog for ``subject``, shown."""
    dialog = NewInspectionDialog(ctx, subject)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _type_officers_and_start(qtbot, type_text, dialog, officers) -> None:
    """Type each officer's name and 执法证号 into the new-inspection dialog, then 开始检查."""
    for (name, cert), name_edit, cert_edit in zip([(o.name, o.cert_no) for o in officers],
                                                  dialog.officer_names, dialog.officer_certs):
        name_edit.clear()
        type_text(name_edit, name)
        cert_edit.clear()
        qtbot.keyClicks(cert_edit, cert)
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok), LEFT)


@pytest.mark.parametrize("category, expected", [
    ("drug_retailer", "drug-retail"), ("medical_beauty", "device-user"), ("elderly_care", "device-user"),
    ("device_operator", "device-operator"), ("cosmetics_operator", "cosmetics-531"),
    ("device_wholesaler", "device-wholesale"), ("device_retailer", "device-retail"),
    ("device_cold_chain", "device-cold-chain"),
])
def test_dialog_preselects_the_mapped_checklist_without_a_warning(qtbot, ctx, category, expected):
    dialog = _opened(qtbot, ctx, _subject(ctx, category, f"测试{category}"))
    assert dialog.template.currentData() == expected
    assert dialog.fit_warning.isHidden() and dialog.fit_warning.text() == ""


def test_picking_a_checklist_that_does_not_fit_warns_and_still_starts(qtbot, ctx, officers, type_text):
    pharmacy = _subject(ctx, "drug_retailer", "仁和大药房测试店")
    dialog = _opened(qtbot, ctx, pharmacy)
    assert dialog.template.currentData() == "drug-retail"
    codes = [dialog.template.itemData(i) for i in range(dialog.template.count())]
    assert len(codes) == 7 and codes[0] == "drug-retail"

    dialog.template.setFocus()
    steps = codes.index("cosmetics-531")
    for _ in range(steps):
        qtbot.keyClick(dialog.template, Qt.Key.Key_Down)
    assert dialog.template.currentData() == "cosmetics-531"
    assert dialog.fit_warning.isVisible()
    text = dialog.fit_warning.text()
    assert "不适用于药品零售企业" in text and "《药品零售企业监督检查记录表》" in text

    # back to the right one: the warning goes away
    for _ in range(steps):
        qtbot.keyClick(dialog.template, Qt.Key.Key_Up)
    assert dialog.template.currentData() == "drug-retail" and dialog.fit_warning.isHidden()

    # a warning, not a refusal: with the unfitting checklist picked, the inspection starts
    for _ in range(steps):
        qtbot.keyClick(dialog.template, Qt.Key.Key_Down)
    _type_officers_and_start(qtbot, type_text, dialog, officers)
    assert dialog.message.text() == "" and dialog.inspection_id
    assert svc.load_inspection(ctx, dialog.inspection_id).template.code == "cosmetics-531"


def test_a_cold_chain_firm_offered_the_retail_list_is_warned(qtbot, ctx):
    firm = _subject(ctx, "device_cold_chain", "瑞康体外诊断试剂测试公司")
    dialog = _opened(qtbot, ctx, firm)
    assert dialog.template.currentData() == "device-cold-chain" and dialog.fit_warning.isHidden()
    codes = [dialog.template.itemData(i) for i in range(dialog.template.count())]
    assert len(codes) == 7
    dialog.template.setFocus()
    for _ in range(codes.index("device-retail")):
        qtbot.keyClick(dialog.template, Qt.Key.Key_Down)
    assert dialog.template.currentData() == "device-retail" and dialog.fit_warning.isVisible()
    text = dialog.fit_warning.text()
    assert "不适用于医疗器械冷链经营企业" in text and "《医疗器械冷链经营企业监督检查记录表》" in text


def test_a_checklist_published_from_above_is_offered_and_used(qtbot, ctx, officers, type_text, tmp_path):
    """A provincial revision the county published (here: published at this database) replaces the
    shipped version in the dialog, and the inspection started from it records that version."""
    from core import published
    from tests.integration.test_published import TITLE, revision

    published.publish(ctx, revision(tmp_path, title=TITLE))
    shop = _subject(ctx, "cosmetics_operator", "驿城区测试化妆品店二")
    dialog = _opened(qtbot, ctx, shop)
    assert dialog.template.currentData() == "cosmetics-531"
    assert dialog.template.currentText() == f"{TITLE}（第4版）"
    _type_officers_and_start(qtbot, type_text, dialog, officers)
    assert dialog.message.text() == "" and dialog.inspection_id
    template = svc.load_inspection(ctx, dialog.inspection_id).template
    assert (template.code, template.version, template.title) == ("cosmetics-531", 4, TITLE)
