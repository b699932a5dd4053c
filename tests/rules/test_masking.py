"""Masking personal information: no full phone number survives in free text, people's names are masked."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from xl_automation.model import config as cfg
from xl_automation.rules.masking import is_organisation, mask_name, mask_numbers_in_text
from xl_automation.model.text import halfwidth

CONFIG = cfg.load()
_FULL = str.maketrans("0123456789+-() ", "０１２３４５６７８９＋－（）\u3000")


@st.composite
def phones(draw):
    """(how it is written, the digits that must not survive)."""
    kind = draw(st.sampled_from(["mobile", "zibo", "other-area", "local"]))
    d = lambda n: "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=n, max_size=n)))
    if kind == "mobile":
        digits = "1" + draw(st.sampled_from("3456789")) + d(9)
        groups = [digits[:3], digits[3:7], digits[7:]]
        prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086-", "86 "]))
        secret = digits
    elif kind in ("zibo", "other-area"):
        area = "0533" if kind == "zibo" else draw(st.sampled_from(["010", "021", "0531", "0546"]))
        subscriber = draw(st.sampled_from("23456789")) + d(6 if kind == "zibo" else 7)
        groups = [area, subscriber] if draw(st.booleans()) else [area, subscriber[:3], subscriber[3:]]
        prefix, secret = "", subscriber
        if draw(st.booleans()):
            return f"({area}){subscriber}", subscriber
    else:
        subscriber = draw(st.sampled_from("23456789")) + d(6)
        return subscriber, subscriber
    sep = draw(st.sampled_from(["", " ", "-", " - ", "\u3000", "－", "—"]))
    text = prefix + sep.join(groups)
    if draw(st.booleans()):
        text = text.translate(_FULL)
    return text, secret


filler = st.text(st.sampled_from("联系人张先生电话手机号：，。；（）()、备注请回电地址人民路号楼 abcXYZ"), max_size=12)


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", halfwidth(text))


@given(st.lists(st.tuples(filler.filter(bool), phones()), min_size=1, max_size=3), filler)
@settings(max_examples=500)
def test_no_full_phone_survives_in_free_text(parts, tail):
    text = "".join(f + p for f, (p, _) in parts) + tail
    masked = mask_numbers_in_text(text)
    for _, (written, secret) in parts:
        assert secret not in digits_of(masked), (text, masked)
    # nothing but the numbers changed
    assert re.sub(r"[\d０-９*+＋\-－—\s\u3000()（）]", "", masked) == re.sub(r"[\d０-９*+＋\-－—\s\u3000()（）]", "", text)


@pytest.mark.parametrize("text, expected", [
    ("请回电 138 0533 1234", "请回电 138****1234"),
    ("电话138-0533-1234转2", "电话138****1234转2"),
    ("座机0533-1234567", "座机0533-****567"),
    ("１３８０５３３１２３４", "138****1234"),
    ("2026-11-03 现场查看，20261103 已复核", "2026-11-03 现场查看，20261103 已复核"),
    ("人民路88号3单元201", "人民路88号3单元201"),
])
def test_numbers_in_text_named(text, expected):
    assert mask_numbers_in_text(text) == expected


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰小店厂站所中心院局校园"


@given(st.sampled_from(list(SURNAMES) + ["欧阳", "司马", "诸葛"]), st.text(st.sampled_from(GIVEN), min_size=1, max_size=2))
@settings(max_examples=500)
def test_a_person_is_always_masked(surname, given_name):
    """Every two- to four-character person's name, even one ending like an organisation (王小店, 李中心,
    张厂), is masked: only its first (and last) character is shown."""
    name = surname + given_name
    assert not is_organisation(name, CONFIG)
    masked = mask_name(name, is_organisation(name, CONFIG))
    assert masked != name and masked[0] == name[0] and "*" in masked


@pytest.mark.parametrize("name", ["淄博鑫源化工有限公司", "张店区第一中学", "淄博市中心医院", "华为公司", "马尚镇人民路社区居委会",
                                  "桓台县金城镇刘家村村委会", "齐鲁石化第二化肥厂", "张店区税务局", "好又多便利店", "银座商城物业",
                                  "淄博康乐养老院", "淄博市自来水有限责任公司（张店分公司）", "淄川区农机合作社"])
def test_organisations_stay_readable(name):
    assert is_organisation(name, CONFIG) and mask_name(name, True) == halfwidth(name)


@pytest.mark.parametrize("name", ["王小店", "李中心", "张厂", "赵局", "周院", "宋站", "吴所", "王公司", "刘物业", "欧阳中心",
                                  "王小厂", "李大局"])
def test_people_whose_names_end_like_organisations_are_masked(name):
    assert not is_organisation(name, CONFIG)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789０１２３４５６７８９１３８ -－()（）+＋86号路淄博\u3000\xa0", max_size=40))
def test_text_with_fewer_than_seven_digits_is_left_as_the_pattern_leaves_it(text):
    """The digit count that spares most addresses the pattern search never changes what is masked."""
    from xl_automation.rules.masking import _mask_numbers
    assert mask_numbers_in_text(text) == _mask_numbers(text)


@st.composite
def id_numbers(draw):
    """A resident ID number (18 characters, the last may be X) or a bank card number (16 to 19 digits), as
    a clerk types it into a remark or a reason: half- or full-width. (how it is written, its middle)."""
    d = lambda n: "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=n, max_size=n)))
    if draw(st.booleans()):
        birth = f"{draw(st.integers(1930, 2025))}{draw(st.integers(1, 12)):02d}{draw(st.integers(1, 28)):02d}"
        number = draw(st.sampled_from("12345678")) + d(5) + birth + d(3) + draw(st.sampled_from("0123456789Xx"))
    else:
        number = draw(st.sampled_from("3456")) + d(draw(st.integers(15, 18)))
    middle = number[4:-4]
    return (number.translate(_FULL) if draw(st.booleans()) else number), middle


@given(filler, id_numbers(), filler)
@settings(max_examples=500)
def test_no_id_or_card_number_survives_in_free_text(before, number, after):
    """身份证号 and bank card numbers in free text keep their first and last four characters only: the
    birth date (and the card's account digits) are gone."""
    written, middle = number
    text = before + written + after
    masked = mask_numbers_in_text(text)
    assert middle not in digits_of(masked), (text, masked)
    assert masked.startswith(before) and masked.endswith(after) and len(masked) == len(text)
    assert halfwidth(masked[len(before):len(before) + 4]) == halfwidth(written[:4])


@pytest.mark.parametrize("text, expected", [
    ("身份证370302199001011234，已核实", "身份证3703**********1234，已核实"),
    ("身份证号37030219900101123X", "身份证号3703**********123X"),
    ("卡号6222021602001234567", "卡号6222***********4567"),
    ("受理编号ZLS01-20261103-001", "受理编号ZLS01-20261103-001"),
])
def test_id_and_card_numbers_named(text, expected):
    assert mask_numbers_in_text(text) == expected
