"""Draw the app icon (a clipboard with a check mark on the supervision blue) with Pillow.

    python tools/make_icon.py

writes resources/icons/yaoxiehua-inspect.png (256 px: the .desktop entry, the window) and
resources/icons/yaoxiehua-inspect.ico (16…256 px: the Windows executables and installer).
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZE = 1024  # drawn large, scaled down smooth


def draw() -> Image.Image:
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((40, 40, SIZE - 40, SIZE - 40), radius=200, fill=(22, 93, 168, 255))
    # the clipboard and its clip
    d.rounded_rectangle((250, 200, 774, 860), radius=60, fill=(255, 255, 255, 255))
    d.rounded_rectangle((390, 140, 634, 270), radius=40, fill=(236, 178, 46, 255))
    # the checklist's lines, and the check mark
    for y in (380, 500, 620):
        d.rounded_rectangle((330, y, 430, y + 50), radius=20, fill=(22, 93, 168, 255))
        d.rounded_rectangle((470, y, 690, y + 50), radius=20, fill=(190, 205, 225, 255))
    d.line((560, 720, 640, 800, 800, 600), fill=(46, 160, 67, 255), width=70, joint="curve")
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw()
    big.resize((256, 256), Image.LANCZOS).save(OUT / "yaoxiehua-inspect.png", optimize=True)
    big.resize((256, 256), Image.LANCZOS).save(OUT / "yaoxiehua-inspect.ico",
                                                sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128),
                                                       (256, 256)])


if __name__ == "__main__":
    main()
