"""The screens show encrypted photos (issue 16): decrypted in memory through core.attachments.

The lead inbox's photo viewer, opened by clicking, and the inspection editor's thumbnails, with
``ctx.file_key`` set; a photo that does not decrypt shows the core's one-line reason instead.
"""
from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from core import inspections as svc
from core import leads
from core.attachments import MAGIC
from core.users import add_user, log_in
from gui.inspection_editor import InspectionEditor
from gui.jobs import ImmediateRunner
from gui.main_window import MainWindow
from gui.photo_viewer import PhotoViewer

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def keyed(ctx):
    ctx.file_key = os.urandom(32)
    return ctx


@pytest.fixture
def lead_with_photo(keyed, subject, tmp_path):
    from PIL import Image

    path = tmp_path / "集市摊位.jpg"
    Image.new("RGB", (80, 60), (30, 120, 200)).save(path, format="JPEG")
    add_user(keyed, name="王所长", role="admin", password="admin123")
    add_user(keyed, name="马红", role="grid_worker", grid="西园社区", password="mahong1")
    log_in(keyed, "马红", "mahong1")
    leads.report_lead(keyed, subject_id=subject.id, category="unlicensed_selling", description="无标签面霜",
                      photos=[path])
    keyed.user = None
    log_in(keyed, "王所长", "admin123")
    [lead] = leads.list_leads(keyed)
    [stored] = lead.photos
    assert stored.read_bytes().startswith(MAGIC)  # on disk: encrypted
    return stored


def _open_viewer(qtbot, ctx) -> PhotoViewer:
    window = MainWindow(ctx, runner=ImmediateRunner())
    qtbot.addWidget(window)
    window.show()
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(window.tabs.indexOf(window.lead_inbox)).center())
    inbox = window.lead_inbox
    view = inbox.view
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(view.model().index(0, 0)).center())
    qtbot.mouseClick(inbox.photos_button, LEFT)
    viewer = inbox.findChild(PhotoViewer)
    assert viewer is not None and viewer.isVisible()
    return viewer


def test_photo_viewer_shows_an_encrypted_lead_photo(keyed, lead_with_photo, qtbot):
    viewer = _open_viewer(qtbot, keyed)
    [image] = viewer.images
    assert not image.pixmap().isNull()
    assert (image.pixmap().width(), image.pixmap().height()) == (80, 60)
    pixel = image.pixmap().toImage().pixelColor(40, 30)
    assert abs(pixel.red() - 30) < 12 and abs(pixel.green() - 120) < 12 and abs(pixel.blue() - 200) < 12


def test_photo_viewer_says_why_a_photo_does_not_open(keyed, lead_with_photo, qtbot):
    keyed.file_key = os.urandom(32)  # not the key the photo was written with
    viewer = _open_viewer(qtbot, keyed)
    [image] = viewer.images
    assert image.pixmap().isNull()
    assert image.text().startswith("第 1 张照片无法显示：") and "无法解密" in image.text()


def test_editor_thumbnail_of_an_encrypted_photo(keyed, subject, officers, qtbot, tmp_path):
    from PIL import Image

    photo = tmp_path / "现场.png"
    Image.new("RGB", (144, 108), (200, 0, 0)).save(photo)
    inspection_id = svc.start_inspection(keyed, subject.id, "cosmetics-531", officers)
    svc.add_photo(keyed, inspection_id, "A3", photo)
    [row] = svc.load_inspection(keyed, inspection_id).photos
    assert row.path.read_bytes().startswith(MAGIC)
    editor = InspectionEditor(keyed, inspection_id, runner=ImmediateRunner())
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    thumbs = [w for w in editor.rows["A3"].findChildren(QLabel) if w.actions()]
    assert len(thumbs) == 1
    pixmap = thumbs[0].pixmap()
    assert (pixmap.width(), pixmap.height()) == (72, 54)  # decoded at thumbnail size
    assert pixmap.toImage().pixelColor(36, 27).red() > 180
