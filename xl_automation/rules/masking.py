"""Personal information in reports: names unless clearly an organisation, phone numbers in free text."""
from __future__ import annotations

import re
from typing import Any

from xl_automation.rules.normalize import clean_text
from xl_automation.rules.phones import mask_phone

_D = "[0-9\uff10-\uff19]"                                      # a digit, half- or full-width
_SEP = "(?:[ \u3000\u00a0]?[-\uff0d\u2010-\u2015~]?[ \u3000\u00a0]?)"   # 138 0533 1234, 138-0533-1234, 0533 - 2165111
_MOBILE = rf"(?:(?:[+\uff0b]|00)?(?:86|\uff18\uff16){_SEP})?[1\uff11]{_SEP}[3-9\uff13-\uff19](?:{_SEP}{_D}){{9}}"
_LANDLINE = rf"[(\uff08]?[0\uff10]{_D}{{2,3}}[)\uff09]?{_SEP}[1-9\uff11-\uff19](?:{_SEP}{_D}){{6,7}}"
_LOCAL = rf"[2-9\uff12-\uff19]{_D}{{6,7}}"                      # 2165111 typed without the area code
# a resident ID number (18 characters, the last may be X; 15 digits before 1999) or a bank card (16–19 digits)
_LONG_NUMBER = rf"{_D}{{14,18}}[0-9\uff10-\uff19Xx\uff38\uff58]"
_NUMBER_IN_TEXT = re.compile(
    rf"(?<![0-9\uff10-\uff19])(?:(?P<long>{_LONG_NUMBER})|{_MOBILE}|{_LANDLINE}|{_LOCAL})(?![0-9\uff10-\uff19])")
_NO_DIGITS = dict.fromkeys([*range(0x30, 0x3a), *range(0xff10, 0xff1a)])    # str.translate: digits dropped
_DATE_LIKE = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_TRAILING_NOTE = re.compile(r"[(（][^()（）]*[)）]$")
# a four-character name starting with one of these is a person's (欧阳中心), whatever it ends with
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "夏侯", "令狐",
                     "宇文", "澹台", "端木", "司徒", "申屠", "钟离", "闻人", "呼延")


def mask_numbers_in_text(text: str) -> str:
    """Phone numbers typed into free text (remarks, addresses, reasons), with spaces, hyphens or full-width
    digits inside, masked like the 联系方式 column; an 8-digit date such as 20261103 stays. A resident ID
    or bank card number keeps its first and last four characters (3703**********1234)."""
    if len(text) - len(text.translate(_NO_DIGITS)) < 7:
        return text         # every number masked holds 7 digits or more (a local number): most text has none
    return _mask_numbers(text)


def _mask_numbers(text: str) -> str:
    def mask(m: re.Match) -> str:
        found = m.group(0)
        if m.group("long"):
            digits = clean_text(found)
            return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
        if _DATE_LIKE.fullmatch(clean_text(found)):
            return found
        return mask_phone(found)
    return _NUMBER_IN_TEXT.sub(mask, text)


def is_organisation(name: Any, config: Any) -> bool:
    """Clearly an organisation: the name (without a trailing bracketed note) ends with a configured
    suffix (policy organisation_suffixes) after at least two characters, and one-character suffixes
    (厂 局 院 校 …) need a name of four characters or more; a four-character name starting with a
    compound surname is a person's. So 王小店, 李中心, 张厂 and 欧阳中心 are people."""
    suffixes = tuple(config.policy.get("organisation_suffixes", ()))
    if type(name) is not str:
        return _organisation_of(clean_text(name) if name else "", suffixes)
    # a month repeats applicants: each decided once (per suffix list; a few MB at most)
    memo = _ORGANISATIONS.get(suffixes)
    if memo is None or len(memo) >= ORGANISATION_MEMO:
        memo = _ORGANISATIONS[suffixes] = {}
    hit = memo.get(name)
    if hit is None:
        hit = memo[name] = _organisation_of(clean_text(name) if name else "", suffixes)
    return hit


ORGANISATION_MEMO = 1 << 16
_ORGANISATIONS: dict[tuple[str, ...], dict[str, bool]] = {}


def _organisation_of(text: str, suffixes: tuple[str, ...]) -> bool:
    text = _TRAILING_NOTE.sub("", text).strip() or text
    if len(text) <= 4 and text.startswith(COMPOUND_SURNAMES):
        return False
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) - len(suffix) >= 2 and (len(suffix) > 1 or len(text) >= 4):
            return True
    return False


def mask_name(value: Any, organisation: bool) -> str:
    """张* / 王*明; organisation names are not personal information and stay as they are."""
    text = clean_text(value)
    if organisation or not text:
        return text
    if len(text) <= 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]
