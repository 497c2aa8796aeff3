"""GB 32100-2015 check character: valid codes pass, every single-character change fails."""
from __future__ import annotations

import pytest

from core import creditcode
from core.demo import demo_code

VALID = ["91350100M000100Y43", demo_code(101), demo_code(201, individual=True)]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes(code):
    assert creditcode.problem(code) is None


def test_domain_example_check_character():
    assert creditcode.check_character("91350100M000100Y4") == "3"


def test_lower_case_and_spaces_are_normalised():
    assert creditcode.is_valid(" 91350100m000100y43 ")


@pytest.mark.parametrize("code", VALID)
def test_every_single_character_mutation_is_refused(code):
    refused = 0
    for position in range(18):
        for ch in creditcode.ALPHABET:
            if ch == code[position]:
                continue
            mutated = code[:position] + ch + code[position + 1:]
            assert creditcode.problem(mutated) is not None, mutated
            refused += 1
    assert refused == 18 * 30


def test_messages_say_what_is_wrong():
    assert "18位" in creditcode.problem("91350100M000100Y4")
    assert "不允许的字符" in creditcode.problem("91350100M000100Y4I")
    assert "第18位应为“3”" in creditcode.problem("91350100M000100Y44")
