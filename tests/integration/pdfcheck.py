"""Reading printed PDFs back: text (pypdf), fonts, and the QR code (QtPdf render + zxing-cpp)."""
from __future__ import annotations

from pathlib import Path


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def pdf_fonts(path: Path) -> list[tuple[str, bool]]:
    """(font name, embedded?) for every font used."""
    from pypdf import PdfReader

    fonts = []
    for page in PdfReader(str(path)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts.append((str(font["/BaseFont"]), embedded))
    return fonts


def decode_qr(path: Path, page: int = 0, dpi: int = 150) -> list[str]:
    """Render a page as a viewer would (QtPdf) and decode every QR code on it."""
    import zxingcpp
    from PIL import Image
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QImage
    from PySide6.QtPdf import QPdfDocument

    document = QPdfDocument()
    document.load(str(path))
    points = document.pagePointSize(page)
    size = QSize(int(points.width() * dpi / 72), int(points.height() * dpi / 72))
    image = document.render(page, size).convertToFormat(QImage.Format.Format_RGBA8888)
    pil = Image.frombuffer("RGBA", (image.width(), image.height()), bytes(image.constBits()), "raw", "RGBA",
                           image.bytesPerLine(), 1).convert("L")
    document.close()
    return [barcode.text for barcode in zxingcpp.read_barcodes(pil) if barcode.format == zxingcpp.BarcodeFormat.QRCode]
