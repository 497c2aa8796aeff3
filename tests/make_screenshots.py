"""Render the screenshots in docs/screenshots/ from a fresh demo station.

    .venv/bin/python tests/make_screenshots.py

Windows are grabbed offscreen; page 1 of each printed form is rendered with pdftoppm
(Debian's poppler-utils) when it is installed, else with QtPdf.
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

from tests.support.screens import pdf_page_png  # noqa: E402


def sync_panel_screenshot(app, ctx, tmp: Path, draft_id: str) -> None:
    """The sync panel at the station: two laptops edited the same draft, one conflict kept."""
    import json
    import zipfile

    from core import inspections as svc
    from core import sync
    from core.context import AppContext
    from core.sync import describe_import, record_result
    from core.tasks import record_event
    from gui.jobs import ImmediateRunner
    from gui.sync_panel import SyncPanel

    laptops = []
    for name in ("执法笔记本1", "执法笔记本2"):
        laptop = AppContext.open(tmp / f"{name}.db")
        sync.enrol_device(laptop, sync.add_device(ctx, name))
        laptops.append(laptop)
    down = tmp / "sync-down"
    down.mkdir()
    for path in sync.export_packages(ctx, down):
        to = json.loads(zipfile.ZipFile(path).read("manifest.json"))["to_device_id"]
        sync.import_package(next(lap for lap in laptops if lap.device_id == to), path)
    svc.update_details(laptops[0], draft_id, findings="货架上1批次普通化妆品查询不到备案信息，已拍照取证")
    svc.update_details(laptops[1], draft_id, findings="现场未发现问题", place="驿城区解放路美丽佳人门店")
    packages = []
    for index, laptop in enumerate(laptops):
        folder = tmp / f"sync-up-{index}"
        folder.mkdir()
        packages.extend(sync.export_packages(laptop, folder))
        laptop.close()
    summary = sync.import_packages(ctx, packages)
    record_result(ctx, describe_import(summary, len(packages)))
    from core.subjects import search_subjects

    record_event(ctx, search_subjects(ctx, "美丽佳人")[0].id, "complaint", ctx.clock().date(),
                 source_ref="TS-2026-1102", details="消费者投诉：所购面霜无中文标签")
    panel = SyncPanel(ctx, runner=ImmediateRunner())
    panel.resize(1000, 780)
    panel.show()
    app.processEvents()
    panel.refresh()
    app.processEvents()
    panel.grab().save(str(OUT / "sync-panel.png"))
    panel.close()


def main() -> None:
    from core import inspections as svc
    from core.context import AppContext
    from core.demo import OFFICERS, create_demo
    from core.printing import print_form
    from core.subjects import search_subjects
    from gui.app import setup_application
    from gui.inspection_editor import InspectionEditor
    from gui.jobs import ImmediateRunner
    from gui.main_window import MainWindow

    app = setup_application([])
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = AppContext.open(Path(tmp) / "demo.db")
        create_demo(ctx)
        from core.plan import make_plan

        make_plan(ctx, ctx.clock().year, seed=20260101)
        window = MainWindow(ctx, runner=ImmediateRunner())
        window.show()
        app.processEvents()
        window.grab().save(str(OUT / "main-window.png"))

        # a draft being filled in: some answers, one failed item with its note
        shop = search_subjects(ctx, "美丽佳人")[0]
        inspection_id = svc.start_inspection(ctx, shop.id, "cosmetics-531", OFFICERS)
        record = svc.load_inspection(ctx, inspection_id)
        for item in record.template.items[:9]:
            svc.set_answer(ctx, inspection_id, item.code, "pass")
        svc.set_answer(ctx, inspection_id, "B2", "fail")
        svc.set_note(ctx, inspection_id, "B2", "货架上1批次普通化妆品查询不到备案信息")
        editor = InspectionEditor(ctx, inspection_id, runner=ImmediateRunner())
        editor.show()
        app.processEvents()
        editor.grab().save(str(OUT / "inspection-editor.png"))
        editor.close()

        signed = [r for r in svc.list_inspections(ctx) if r.status == "signed" and r.failed][-1]
        editor = InspectionEditor(ctx, signed.id, runner=ImmediateRunner())
        editor.tabs.setCurrentIndex(1)
        editor.resize(1000, 1080)
        editor.show()
        app.processEvents()
        editor.grab().save(str(OUT / "inspection-editor-signatures.png"))
        editor.close()

        window.tabs.setCurrentIndex(2)
        app.processEvents()
        window.grab().save(str(OUT / "task-queue.png"))
        device = search_subjects(ctx, "安泰医疗器械")[0]
        from core.grades import set_grade
        from core.tasks import record_event

        set_grade(ctx, device.id, 3, reason="为其他企业提供医疗器械贮存、配送服务", changed_by="李秀英")
        record_event(ctx, device.id, "sampling_failed", ctx.clock().date(), source_ref="CJ-2026-0318",
                     details="抽检医用口罩细菌过滤效率不合格")
        window.open_subject(device)
        page = window._open_windows[-1]
        page.resize(1000, 820)
        app.processEvents()
        page.grab().save(str(OUT / "subject-page.png"))

        from core.users import log_in
        from gui.leads_view import GridWorkerWindow
        from gui.login_dialog import LoginDialog

        login = LoginDialog(ctx)
        login.show()
        app.processEvents()
        login.grab().save(str(OUT / "login.png"))
        log_in(ctx, "马红", "demo123")
        grid = GridWorkerWindow(ctx)
        grid.resize(1366, 768)
        grid.show()
        app.processEvents()
        grid.grab().save(str(OUT / "grid-worker.png"))
        ctx.user = None
        log_in(ctx, "张所长", "demo123")
        station = MainWindow(ctx, runner=ImmediateRunner())
        station.show()
        station.tabs.setCurrentIndex(3)
        station.lead_inbox.view.selectRow(0)
        app.processEvents()
        station.grab().save(str(OUT / "lead-inbox.png"))
        ctx.user = None

        for form in ("record", "checklist", "rectification"):
            pdf = print_form(ctx, signed.id, form, Path(tmp) / f"{form}.pdf")
            pdf_page_png(pdf, OUT / f"form-{form}.png")

        sync_panel_screenshot(app, ctx, Path(tmp), inspection_id)
        ctx.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
