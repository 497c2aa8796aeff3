"""The lists scale: rows beyond the first page as the view scrolls, a true count, search and filters."""
from __future__ import annotations

import csv

from PySide6.QtCore import QDate, Qt

from core.register_import import import_subjects
from core.subjects import SubjectData, add_subject, count_subjects, search_subjects
from tests.gui.helpers import LEFT, click_tab, open_main_window

MANY = 450  # more than two pages of 200


def _many_subjects(ctx, tmp_path) -> None:
    path = tmp_path / "many.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["名称", "类别", "地址", "网格"])
        for n in range(MANY):
            writer.writerow([f"测试店{n:04d}", "药店" if n % 3 else "化妆品店", f"测试路{n}号",
                             "东区" if n % 2 else "西区"])
    assert import_subjects(ctx, path).imported == MANY


def test_the_subject_list_fetches_more_as_it_scrolls(ctx, qtbot, tmp_path, qtmodeltester):
    _many_subjects(ctx, tmp_path)
    window = open_main_window(qtbot, ctx)
    model, view = window.subject_model, window.subject_view
    assert window.subject_count.text() == f"共 {MANY} 个监管对象"
    assert model.rowCount() == model.page_size < MANY
    assert model.canFetchMore()
    for _ in range(10):  # scrolling to the end fetches the next page, as a person scrolling does
        qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        qtbot.wait(10)
        if model.rowCount() == MANY:
            break
    assert model.rowCount() == MANY and not model.canFetchMore()
    assert model.row_at(MANY - 1).name == f"测试店{MANY - 1:04d}"
    qtmodeltester.check(model)


def test_search_finds_the_category_and_filters_narrow(ctx, qtbot, tmp_path, type_text):
    _many_subjects(ctx, tmp_path)
    cosmetics = len(range(0, MANY, 3))
    assert count_subjects(ctx, "化妆品") == cosmetics  # no name says 化妆品: the category does
    window = open_main_window(qtbot, ctx)
    type_text(window.search, "化妆品")
    qtbot.waitUntil(lambda: window.subject_count.text() == f"找到 {cosmetics} 个（共 {MANY} 个）")
    assert {window.subject_model.row_at(r).category for r in range(window.subject_model.rowCount())} == {
        "cosmetics_operator"}
    window.search.clear()
    lists = window.subject_list
    lists.grid.setCurrentIndex(lists.grid.findData("东区"))
    lists.category.setCurrentIndex(lists.category.findData("drug_retailer"))
    expected = len([n for n in range(MANY) if n % 3 and n % 2])
    qtbot.waitUntil(lambda: window.subject_count.text() == f"找到 {expected} 个（共 {MANY} 个）")
    assert count_subjects(ctx, grid="东区", category="drug_retailer") == expected
    assert len(search_subjects(ctx, grid="东区", category="drug_retailer", limit=1000)) == expected


def test_the_inspection_tab_searches_and_filters(demo_ctx, qtbot, type_text):
    from core import inspections as svc

    window = open_main_window(qtbot, demo_ctx)
    page = click_tab(qtbot, window, window.inspection_list)
    model = window.inspection_model
    total = model.rowCount()
    summaries = svc.list_inspections(demo_ctx)
    assert total == len(summaries) >= 4
    drafts = [s for s in summaries if s.status == "draft"]
    assert 0 < len(drafts) < total
    page.status.setCurrentIndex(page.status.findData("draft"))
    assert model.rowCount() == len(drafts)
    assert page.count.text() == f"找到 {len(drafts)} 个（共 {total} 个）"
    page.status.setCurrentIndex(0)
    assert model.rowCount() == total

    one = summaries[0]
    type_text(page.search, one.number)
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert model.row_at(0).id == one.id
    page.search.clear()
    qtbot.waitUntil(lambda: model.rowCount() == total)

    # a day with no inspection: nothing; the days of all of them: all
    qtbot.mouseClick(page.by_date, LEFT)
    day = min(s.started_at for s in summaries).date()
    page.date_from.setDate(QDate(day.year, day.month, day.day).addDays(-400))
    page.date_to.setDate(QDate(day.year, day.month, day.day).addDays(-1))
    assert model.rowCount() == 0 and page.count.text() == f"找到 0 个（共 {total} 个）"
    last = max(s.started_at for s in summaries).date()
    page.date_to.setDate(QDate(last.year, last.month, last.day))
    assert model.rowCount() == total


def test_tab_labels_carry_no_digit_and_alt_digits_switch(ctx, qtbot):
    window = open_main_window(qtbot, ctx)
    labels = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert len(labels) >= 4
    for label in labels:
        assert "&" not in label and not any(ch.isdigit() for ch in label), label
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window.search, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentWidget() is window.inspection_list
