"""统一社会信用代码 (GB 32100-2015) validation with its check character."""
from __future__ import annotations

import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def normalize(code: str) -> str:
    """Uppercase, full-width characters folded (NFKC), spaces removed: codes are often typed
    in lower case, with spaces, or with a Chinese input method's full-width digits."""
    return "".join(unicodedata.normalize("NFKC", code).split()).upper()


def check_character(first17: str) -> str:
    """The 18th character for the first 17."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS))
    value = 31 - total % 31
    return ALPHABET[0 if value == 31 else value]


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid credit code, or None when it is valid."""
    code = normalize(code)
    if len(code) != 18:
        return f"统一社会信用代码应为18位，当前为{len(code)}位"
    bad = [ch for ch in code if ch not in _VALUE]
    if bad:
        return f"统一社会信用代码含有不允许的字符“{bad[0]}”（不使用 I、O、S、V、Z）"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误：第18位应为“{expected}”，而不是“{code[17]}”"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None
