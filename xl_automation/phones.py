"""Phone numbers: Zibo landlines, mobiles, extensions, and masking one for reports (masking.py does text)."""
from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException

from .normalize import clean_text

ZIBO_AREA = "0533"
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x)\s*(\d{1,6})\s*$", re.I)
VALID, SHORT, INVALID = "valid", "short", "invalid"


@dataclass(frozen=True)
class PhoneCheck:
    verdict: str        # VALID | SHORT | INVALID
    digits: str = ""    # national significant form used for duplicate detection
    extension: str = ""


@lru_cache(maxsize=65536)
def check_phone(value: str) -> PhoneCheck:
    """Mobiles, landlines with area code, bare 7/8-digit Zibo numbers, extensions written 转/分机."""
    text = clean_text(value)
    ext = ""
    m = _EXTENSION.search(text)
    if m:
        ext, text = m.group(1), text[:m.start()]
    bare = re.sub(r"[\s\-()]", "", text)
    if not bare:
        return PhoneCheck(INVALID)
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
