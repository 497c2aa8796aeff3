"""One checklist item in the inspection editor (its answer, note, facts and photos), and the
debounced saver the editor's text fields share."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
)

from core import inspections as svc
from core.attachments import read_attachment
from core.checklists import ChecklistItem
from core.errors import DomainError
from gui.i18n import tr_args
from gui.legal_panel import ItemFacts

if TYPE_CHECKING:
    from gui.inspection_editor import InspectionEditor

AUTOSAVE_MS = 400
THUMB = QSize(72, 54)
RESULT_TEXT = (("pass", "符合"), ("fail", "不符合"), ("na", "不适用"))


class _Debounced:
    """Calls ``save(value)`` a short pause after the last edit, or at once on ``flush()``."""

    def __init__(self, parent, read, save):
        self.read, self.save = read, save
        self.timer = QTimer(parent, singleShot=True, interval=AUTOSAVE_MS)
        self.timer.timeout.connect(self.flush)
        self.dirty = False

    def touch(self, *_args) -> None:
        self.dirty = True
        self.timer.start()

    def flush(self) -> None:
        if self.dirty:
            self.dirty = False
            self.timer.stop()
            self.save(self.read())


class ItemRow(QFrame):
    """One checklist item: result buttons, note, photos."""

    def __init__(self, editor: InspectionEditor, item: ChecklistItem):
        super().__init__()
        self.editor, self.item = editor, item
        self.setFrameShape(QFrame.Shape.StyledPanel)
        text = QLabel(f"<b>{item.code}</b>　{item.text}")
        text.setWordWrap(True)
        text.setToolTip(tr_args(editor.tr("依据：%1"), item.basis))
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        buttons = QHBoxLayout()
        for code, label in RESULT_TEXT:
            button = QRadioButton(editor.tr(label))
            button.setObjectName(f"{item.code}-{code}")
            self.group.addButton(button)
            self.buttons[code] = button
            buttons.addWidget(button)
            button.toggled.connect(partial(self._toggled, code))
        buttons.addStretch(1)
        self.note = QLineEdit()
        self.note.setPlaceholderText(editor.tr("说明（不符合时必填）"))
        self._note_save = _Debounced(self, self.note.text, lambda text: editor.save(svc.set_note, item.code, text))
        self.note.textEdited.connect(self._note_save.touch)
        self.note.editingFinished.connect(self._note_save.flush)
        self.photo_button = QPushButton(editor.tr("添加照片…"))
        self.photo_button.clicked.connect(self.add_photo)
        self.thumbs = QHBoxLayout()
        self.thumbs.addStretch(1)
        self._photo_ids: list[str] = []
        self.facts = ItemFacts(editor, item)

        layout = QGridLayout(self)
        layout.addWidget(text, 0, 0, 1, 3)
        layout.addLayout(buttons, 1, 0)
        layout.addWidget(self.note, 1, 1)
        layout.addWidget(self.photo_button, 1, 2)
        layout.addWidget(self.facts, 2, 0, 1, 3)
        layout.addLayout(self.thumbs, 3, 0, 1, 3)
        layout.setColumnStretch(1, 1)

    def _toggled(self, code: str, checked: bool) -> None:
        if checked and not self.editor.loading:
            self.editor.save(svc.set_answer, self.item.code, code)
            self._mark(code)

    def _mark(self, result: str | None) -> None:
        self.setStyleSheet("ItemRow { background: #fdecec; }" if result == "fail" else "")

    def show_record(self, record: svc.InspectionRecord) -> None:
        answer = record.answer(self.item.code)
        self.group.setExclusive(False)
        for code, button in self.buttons.items():
            button.setChecked(code == answer.result)
        self.group.setExclusive(True)
        if not self.note.hasFocus() and not self._note_save.dirty:
            self.note.setText(answer.note)
        self._mark(answer.result)
        self.facts.show_record(record)
        photos = record.photos_of(self.item.code)
        if [p.id for p in photos] != self._photo_ids:  # decode thumbnails only when they changed
            self._photo_ids = [p.id for p in photos]
            while self.thumbs.count() > 1:
                widget = self.thumbs.takeAt(0).widget()
                if widget:
                    widget.deleteLater()
            for photo in photos:
                thumb = _thumbnail(self.editor.ctx, photo.path, photo.original_name)
                thumb.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
                remove = QAction(self.editor.tr("删除这张照片"), thumb)
                remove.triggered.connect(lambda _checked=False, pid=photo.id: self.editor.save(svc.remove_photo, pid))
                thumb.addAction(remove)
                self.thumbs.insertWidget(self.thumbs.count() - 1, thumb)
        locked = record.read_only
        for widget in (*self.buttons.values(), self.photo_button):
            widget.setEnabled(not locked)
        self.note.setReadOnly(locked)  # a signed record's note stays readable, not greyed

    def add_photo(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.editor.tr("选择照片"), str(Path.home()),
            self.editor.tr("图片 (*.jpg *.jpeg *.png *.bmp *.gif *.tif *.tiff *.webp);;所有文件 (*)"),
        )
        for path in paths:
            if not self.editor.save(svc.add_photo, self.item.code, Path(path)):
                break


def _thumbnail(ctx, path: Path, name: str) -> QLabel:
    """A small preview, decrypted in memory (core.attachments); big photos are decoded at
    thumbnail size, the file stays whole. A photo that cannot be read says so."""
    label = QLabel()
    label.setToolTip(name)
    label.setFrameShape(QFrame.Shape.Box)
    try:
        data = read_attachment(ctx, path)
    except DomainError as exc:
        label.setText(QCoreApplication.translate("ItemRow", "无法显示"))
        label.setToolTip(exc.message)
        return label
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio))
    label.setPixmap(QPixmap.fromImage(reader.read()))
    return label
