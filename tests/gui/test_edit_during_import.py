"""A console edits a draft while a laptop's package that changes the same draft is imported.

The editor's save reads the draft, the import commits, then the save writes: the row's version is no
longer the one read (optimistic locking, ``db.models.SyncMixin``), so the write is refused and, made
once more on the record as it now is (``core.context.on_top_of_changes``), the user's field goes on top
of the import's — neither the laptop's findings nor what the user typed is lost, and the versions
stay honest. Fault before: the save's change went in at the version number the import had just
given the draft (both "version 2"), so the laptop, holding version 2, would never be sent the user's
change; and refused by the lock alone, without the second try, what the user typed was gone from
the form.
"""
from __future__ import annotations

from sqlalchemy import event, select

from core import sync
from core.context import AppContext
from db.models import Inspection
from gui.inspection_editor import InspectionEditor
from gui.jobs import ImmediateRunner
from tests.integration.test_sync_snapshot import _laptop_edits_a_station_draft


def test_a_field_typed_while_an_import_lands_keeps_both(qtbot, type_text, tmp_path):
    db = str(tmp_path / "station.db")
    station = AppContext.open(db, attachments_dir=tmp_path / "station-attachments")  # the office's sync
    draft, package = _laptop_edits_a_station_draft(station, tmp_path)
    console = AppContext.open(db, attachments_dir=tmp_path / "station-attachments")  # the window's
    imported = []

    def import_before_the_save_writes(_session, _context, _instances) -> None:
        if not imported:  # the save has read the draft; its UPDATE is next
            imported.append(sync.import_package(station, package))

    try:
        editor = InspectionEditor(console, draft, runner=ImmediateRunner())
        qtbot.addWidget(editor)
        editor.show()
        qtbot.waitExposed(editor)
        event.listen(console.sessions, "before_flush", import_before_the_save_writes)
        editor.place.setFocus()
        editor.place.selectAll()  # what was there (the shop's address) is typed over
        type_text(editor.place, "驿城区测试路1号店内")
        editor.place.editingFinished.emit()  # as leaving the field does: the save runs now
        qtbot.waitUntil(lambda: bool(imported), timeout=5000)
        assert imported[0].applied > 0 and imported[0].conflicts == 0
        with station.engine.connect() as conn:
            row = conn.execute(select(Inspection.place, Inspection.findings, Inspection.version)
                               .where(Inspection.id == draft)).one()
        assert tuple(row) == ("驿城区测试路1号店内", "笔记本：现场发现过期产品", 3)
        assert editor.message.text() == ""  # nothing to tell: both changes are in
        assert editor.findings.toPlainText() == "笔记本：现场发现过期产品"  # the form shows the import's too
    finally:
        event.remove(console.sessions, "before_flush", import_before_the_save_writes)
        console.close()
        station.close()
