"""Render the new-inspection dialog of a laptop that received a checklist revision from above to
docs/screenshots/down-new-inspection-published.png (``widget.grab()``).

    .venv/bin/python tests/make_down_screenshots.py

A county publishes a provincial revision of the cosmetics checklist (第4版); it goes down to its
station and on to the station's laptop, where the dialog offers it in place of the shipped 第3版.
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
    from core import published, sync
    from core.context import AppContext
    from core.subjects import SubjectData, add_subject
    from tests.integration.test_published import TITLE, revision

    work = Path(tempfile.mkdtemp(prefix="down-shots-"))
    county = AppContext.open(work / "county.db")
    station = AppContext.open(work / "station.db")
    sync.join(station, sync.add_device(county, "城关所", kind="station"))
    laptop = AppContext.open(work / "laptop.db")
    sync.join(laptop, sync.add_device(station, "笔记本1"))
    published.publish(county, revision(work, title=TITLE))
    for source, target, peer in ((county, station, station.setting("sync.up.device_id")),
                                 (station, laptop, laptop.device_id)):
        sync.import_packages(target, sync.export_packages(source, work / f"to-{target.device_id[:8]}", peer=peer))
    shop = add_subject(laptop, SubjectData(name="驿城区美丽佳化妆品店", category="cosmetics_operator",
                                           address="驻马店市驿城区解放路18号", legal_rep="张三"))

    from gui.app import setup_application
    from gui.new_inspection_dialog import NewInspectionDialog

    app = setup_application([])
    dialog = NewInspectionDialog(laptop, shop)
    dialog.show()
    app.processEvents()
    OUT.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(OUT / "down-new-inspection-published.png"))
    print(OUT / "down-new-inspection-published.png")
    for ctx in (laptop, station, county):
        ctx.close()


if __name__ == "__main__":
    main()
