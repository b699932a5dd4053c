"""The phone fast path gives exactly phonenumbers' verdicts, national numbers and extensions."""
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from xl_automation.rules import phones
from xl_automation.rules.phones import (INVALID, SHORT, VALID, PhoneCheck, check_phone, check_with_phonenumbers,
                                  split_extension)
from xl_automation.demo.sample import MOBILE_PREFIXES

N_GENERATED = 100_000


def through_phonenumbers(value: str) -> PhoneCheck:
    """check_phone as it was before the fast path: every number judged by phonenumbers."""
    bare, ext = split_extension(value)
    return check_with_phonenumbers(bare, ext) if bare else PhoneCheck(INVALID)


FULL_WIDTH = str.maketrans("0123456789-+() ", "０１２３４５６７８９－＋（）\u3000")
AREA_CODES = ["0533", "0533", "0533", "0531", "0532", "0536", "0543", "010", "021", "0311", "0898", "0999"]
SHORT_NUMBERS = ["110", "119", "120", "122", "12345", "12315", "95598", "96166", "10086", "114", "999", "1"]
COUNTRY = ["", "", "", "", "+86", "+86 ", "0086", "0086 ", "86", "86-", "+86-", "086", "+086", "(86)", "+1 "]
EXTENSIONS = ["转{}", " 转 {}", "分机{}", "分机 {}", "ext{}", "ext.{}", " EXT. {}", "x{}", "X{}", "-{}", "转"]
JUNK = ["", " ", "无", "未留", "-", "()", "+", "电话", "138****5678", "١٣٨١٢٣٤٥٦٧٨", "１３８ａ", "0533-", "转123",
        "13812345678/13912345678", "13812345678、0533-2123456", "TEL:13812345678", "13812345678。"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _spaced(rng: random.Random, number: str) -> str:
    """The groupings people type: 138 1234 5678, 138-1234-5678, 0533-212 3456, (0533)2123456."""
    style = rng.randrange(6)
    if style == 0 or len(number) < 8:
        return number
    if style == 1:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style == 2:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 3 and number.startswith("0"):
        return f"({number[:4]}){number[4:]}"
    if style == 4:
        return f" {number}  "
    return f"{number[:4]}-{number[4:]}"


def generated(n: int, seed: int = 20261125) -> list[str]:
    """Mobiles with every prefix, landlines, local numbers, short numbers, country codes, extensions,
    full-width forms, lengths off by one, and junk."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.25:
            number = rng.choice(MOBILE_PREFIXES) + _digits(rng, 8)
        elif kind < 0.40:
            number = "1" + _digits(rng, rng.choice([10, 10, 10, 10, 9, 11]))
        elif kind < 0.62:
            number = rng.choice(AREA_CODES) + _digits(rng, rng.choice([7, 7, 7, 8, 6, 9]))
        elif kind < 0.74:
            number = _digits(rng, rng.choice([7, 7, 8, 6]))
        elif kind < 0.80:
            number = rng.choice(SHORT_NUMBERS)
        elif kind < 0.85:
            out.append(rng.choice(JUNK))
            continue
        else:
            number = _digits(rng, rng.randrange(1, 16))
        text = rng.choice(COUNTRY) + _spaced(rng, number) if rng.random() < 0.3 else _spaced(rng, number)
        if rng.random() < 0.12:
            text += rng.choice(EXTENSIONS).format(_digits(rng, rng.randrange(1, 8)))
        if rng.random() < 0.15:
            text = text.translate(FULL_WIDTH)
        out.append(text)
    return out


def test_fast_path_agrees_with_phonenumbers_on_100000_strings():
    strings = generated(N_GENERATED)
    check_phone.cache_clear()
    differ = [(s, check_phone(s), through_phonenumbers(s)) for s in strings]
    differ = [d for d in differ if d[1] != d[2]]
    assert not differ, f"{len(differ)} strings differ, e.g. {differ[:5]}"
    # the set exercises both paths and every verdict, or agreeing would prove little
    fast = sum(1 for s in set(strings) if _takes_fast_path(s))
    verdicts = {through_phonenumbers(s).verdict for s in strings[:5000]}
    assert fast > 0.25 * len(set(strings)) and len(set(strings)) - fast > 0.25 * len(set(strings))
    assert verdicts == {VALID, SHORT, INVALID}
    assert any(through_phonenumbers(s).extension for s in strings[:5000])
    assert any("０" in s and check_phone(s).verdict == VALID for s in strings)


def _takes_fast_path(value: str) -> bool:
    bare, _ = split_extension(value)
    return bool(bare) and bool(phones._fast_valid(bare))


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789０１２３４５６７８９ -+()转分机ext.x", max_size=20))
def test_any_string_of_phone_characters_agrees(value):
    assert check_phone.__wrapped__(value) == through_phonenumbers(value)


def test_common_shapes_never_reach_phonenumbers():
    for value in ["13812345678", "138 1234 5678", "+86 138-1234-5678", "008613812345678", "0533-2123456",
                  "（０５３３）２１２３４５６", "2123456", "0533 212 3456 转 801", "13812345678分机12", "0086533-2123456"]:
        assert _takes_fast_path(value), value
    for value in ["110", "95598", "21234567", "1381234567", "010-12345678", "0123456", "٠٥٣٣٢١٢٣٤٥٦"]:
        assert not _takes_fast_path(value), value
