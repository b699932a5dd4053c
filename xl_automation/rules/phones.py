"""Phone numbers: Zibo landlines, mobiles, extensions, and masking one for reports (masking.py does text)."""
from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass

from xl_automation.rules.normalize import clean_text

ZIBO_AREA = "0533"
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x)\s*(\d{1,6})\s*$", re.I)
_SEPARATORS = re.compile(r"[\s\-()]")
VALID, SHORT, INVALID = "valid", "short", "invalid"
# The shapes nearly every ledger holds, accepted without phonenumbers (its import and parse cost more than
# the rest of a row's checks): mobiles, with +86/0086/86 or not, and Zibo landlines 0533-[02-8]xxxxxx or
# their 7-digit local form. The number ranges are phonenumbers' own CN metadata (9.0.43); the fast path
# only ever says valid, so a range phonenumbers adds later still reaches it, and every rejection is its.
# ASCII digits only: other scripts' digits go the long way. tests/rules/test_phones.py compares both paths.
_FAST_MOBILE = re.compile(r"(?:\+86|0086|86)?(1(?:610[0-9]|740[0-5])[0-9]{6}"
                          r"|1(?:[38][0-9]|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])[0-9]{8})")
_FAST_ZIBO = re.compile(r"(?:0533|\+86533|0086533)?([02-8][0-9]{6})")


@dataclass(frozen=True)
class PhoneCheck:
    verdict: str        # VALID | SHORT | INVALID
    digits: str = ""    # national significant form used for duplicate detection
    extension: str = ""


@lru_cache(maxsize=65536)
def check_phone(value: str) -> PhoneCheck:
    """Mobiles, landlines with area code, bare 7/8-digit Zibo numbers, extensions written 转/分机."""
    bare, ext = split_extension(value)
    if not bare:
        return PhoneCheck(INVALID)
    fast = _fast_valid(bare)
    if fast:
        return PhoneCheck(VALID, fast, ext)
    return check_with_phonenumbers(bare, ext)


def split_extension(value: str) -> tuple[str, str]:
    """(the number without separators, its extension) as typed: 0533-2123456 转 801 -> 05332123456, 801."""
    text = clean_text(value)
    ext = ""
    m = _EXTENSION.search(text)
    if m:
        ext, text = m.group(1), text[:m.start()]
    return _SEPARATORS.sub("", text), ext


def _fast_valid(bare: str) -> str:
    """The national number of a common, valid shape; "" when phonenumbers must decide."""
    m = _FAST_MOBILE.fullmatch(bare)
    if m:
        return m.group(1)
    m = _FAST_ZIBO.fullmatch(bare)
    if m and (m.group(1)[0] != "0" or len(bare) > 7):   # a bare 0xxxxxx is not a local number
        return ZIBO_AREA[1:] + m.group(1)
    return ""


def check_with_phonenumbers(bare: str, ext: str) -> PhoneCheck:
    """phonenumbers' verdict on a number split by split_extension."""
    import phonenumbers   # 10 ms to import: only for a number the fast path does not know
    from phonenumbers import NumberParseException
    if re.fullmatch(r"\d{7,8}", bare) and not bare.startswith(("0", "1")):
        bare = ZIBO_AREA + bare
    try:
        number = phonenumbers.parse(bare, "CN")
    except NumberParseException:
        return PhoneCheck(INVALID)
    if phonenumbers.is_valid_number(number):
        return PhoneCheck(VALID, str(number.national_number), ext)
    from phonenumbers import shortnumberinfo
    if shortnumberinfo.is_valid_short_number_for_region(number, "CN"):
        return PhoneCheck(SHORT, str(number.national_number), ext)
    return PhoneCheck(INVALID)


def mask_phone(value: str) -> str:
    """138****1234, 0533-****111; anything else keeps only its last three characters."""
    text = _EXTENSION.sub("", clean_text(value))
    digits = re.sub(r"\D", "", text)
    digits = re.sub(r"^(?:0086|\+?86)(?=1\d{10}$)", "", digits)
    if re.fullmatch(r"1\d{10}", digits):
        return f"{digits[:3]}****{digits[-4:]}"
    if digits.startswith("0") and len(digits) >= 10:
        area = digits[:4] if digits[:3] not in ("010", "020", "021", "022", "023", "024", "025", "027", "028", "029") else digits[:3]
        return f"{area}-****{digits[-3:]}"
    if len(digits) >= 7:
        return f"****{digits[-3:]}"
    return "****" if text else ""
