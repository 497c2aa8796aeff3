"""Free text a user typed: trimmed, bounded, required where a form needs it."""
from __future__ import annotations

from core.errors import InvalidInput


def bounded_text(value, label: str, limit: int, *, required: bool = False) -> str:
    """``value`` trimmed; one clear message if it is missing (``required``) or longer than ``limit``."""
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput(f"请填写{label}")
    if len(text) > limit:
        raise InvalidInput(f"{label}过长（最多 {limit} 字）")
    return text
