"""Print preview (QtPdf) of a form, printing through the system dialog, or saving as PDF."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout

from core.context import AppContext
from core.errors import DomainError
from core.files import write_atomically
from core.inspections import InspectionRecord
from core.printing import render_form
from core.forms.common import form_title
from core.verification import FORMS, form_number
from gui.i18n import tr_args
from gui.operations import run_op
from gui.windows import fit_to_screen


class PrintPreviewDialog(QDialog):
    def __init__(self, pdf: bytes, title: str, default_name: str, parent=None):
        super().__init__(parent)
        self.pdf_bytes = pdf
        self.default_name = default_name
        self.setWindowTitle(title)
        fit_to_screen(self, 860, 1000)
        self._data = QByteArray(pdf)
        self._buffer = QBuffer(self._data)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)
        self.view = QPdfView()
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)

        self.print_button = QPushButton(self.tr("打印(&P)…"))
        self.print_button.clicked.connect(self.print_document)
        self.save_button = QPushButton(self.tr("另存为 PDF(&S)…"))
        self.save_button.clicked.connect(self.save_pdf)
        close = QPushButton(self.tr("关闭"))
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel(tr_args(self.tr("共 %1 页"), self.document.pageCount())))
        self.saved_label = QLabel()  # 已保存到… once a PDF is written
        self.saved_label.setStyleSheet("color: #1b7f3b")
        self.saved_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons.addWidget(self.saved_label, 1)
        for button in (self.print_button, self.save_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    @classmethod
    def open_form(cls, ctx: AppContext, record: InspectionRecord, form: str, *, runner, parent) -> None:
        """Render in the background, then show the preview."""
        try:
            number = form_number(record, form)
        except DomainError as exc:
            QMessageBox.information(parent, parent.tr("无法预览"), exc.message)
            return

        def done(pdf: bytes) -> None:
            title = FORMS[form] if form == "checklist" else form_title(record, form)  # 巡查记录 for one officer
            dialog = cls(pdf, f"{title} {number}", f"{title}-{number}.pdf", parent=parent)
            dialog.exec()

        run_op(parent, parent.tr("正在生成文书…"), lambda _p, _c: render_form(ctx, record, form), on_done=done,
               failure_title=parent.tr("无法生成文书"), runner=runner)

    @classmethod
    def open_case_document(cls, ctx: AppContext, paper, *, runner, parent) -> None:
        """A case paper (``core.casework.store.CaseRecord``) rendered in the background, then previewed."""
        from core.printing import render_case_document

        def done(pdf: bytes) -> None:
            cls(pdf, f"{paper.title} {paper.number}", f"{paper.title}-{paper.number}.pdf", parent=parent).exec()

        run_op(parent, parent.tr("正在生成文书…"), lambda _p, _c: render_case_document(ctx, paper.id), on_done=done,
               failure_title=parent.tr("无法生成文书"), runner=runner)

    def save_pdf(self) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("另存为 PDF"), str(Path.home() / self.default_name), self.tr("PDF 文件 (*.pdf)")
        )
        if not path:
            return None
        try:
            write_atomically(Path(path), self.pdf_bytes)
        except DomainError as exc:
            QMessageBox.warning(self, self.tr("保存失败"), exc.message)
            return None
        self.saved_label.setText(tr_args(self.tr("✔ 已保存到 %1"), path))
        self.saved_label.setToolTip(path)
        return Path(path)

    def print_document(self) -> None:
        if not QPrinterInfo.availablePrinters():
            answer = QMessageBox.question(
                self, self.tr("没有打印机"),
                self.tr("本机没有可用的打印机。是否另存为 PDF，稍后再打印？"),
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.save_pdf()
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.windowTitle())
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.render_to(printer)

    def render_to(self, printer: QPrinter) -> None:
        """Draw each PDF page at the printer's resolution."""
        painter = QPainter()
        if not painter.begin(printer):
            QMessageBox.warning(self, self.tr("打印失败"), self.tr("无法开始打印，请检查打印机"))
            return
        try:
            for page in range(self.document.pageCount()):
                if page:
                    printer.newPage()
                target: QRect = painter.viewport()
                points = self.document.pagePointSize(page)
                scale = min(target.width() / points.width(), target.height() / points.height())
                size = QSize(int(points.width() * scale), int(points.height() * scale))
                image: QImage = self.document.render(page, size)
                painter.drawImage(QRect(target.topLeft(), size), image)
        finally:
            painter.end()
