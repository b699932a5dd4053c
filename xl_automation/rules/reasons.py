"""Free-text reasons: a placeholder is no reason, and a refusal on the grounds of business or area
(无差别受理 forbids it) is recognised by its pattern, not only by the configured exact phrases."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, Iterable

from xl_automation.rules.normalize import clean_text

# what clerks type to fill a required cell without saying anything (after punctuation is removed)
PLACEHOLDER_WORDS = frozenset({
    "无", "暂无", "没有", "空", "略", "不详", "未知", "无原因", "原因不详", "其他", "其它", "待定", "待补充",
    "na", "n/a", "none", "null", "nil", "x", "xx", "xxx", "否",
})
_WHO = r"(?:本|我|咱)(?:们的|们|的)?"
_UNIT = r"(?:单位|公司|司|部门|窗口|辖区|企业|营业厅|中心|业务)"
# refusal on the grounds of business or area, as written in practice (text is half-width, spaces removed)
REFUSAL_PATTERNS = tuple(re.compile(p) for p in (
    rf"不属于?{_WHO}",                                   # 不属于本单位业务, 不属我司, 不属本辖区
    r"不属于?.{0,10}(?:业务|范围|管辖|职责)",              # 不属于供水业务
    rf"非{_WHO}{_UNIT}",                                 # 非本单位业务, 非我司, 非本辖区
    r"不归.{0,10}管",                                    # 不归我们管, 不归自来水公司管
    r"不在.{0,12}范围",                                  # 不在业务范围, 不在我们的受理范围内
    r"(?:超出|超过).{0,8}范围|范围(?:之)?外",
    r"(?:请|让|建议|告知|通知|由)(?:其|客户|群众|用户|申请人|办事群众|对方)?.{0,8}(?:自行|自己).{0,14}"
    r"(?:办理|联系|前往|咨询|申请|解决|处理)",                       # 请用户自行到燃气公司办理
    r"(?:请|让|建议|告知)(?:其|客户|群众|用户|申请人|办事群众|对方)?(?:去|到|前往|找).{0,14}(?:办理|咨询|申请)",
    rf"{_WHO}{_UNIT}?(?:不受理|不负责|不管|不办理|不予受理|不予办理)",   # 我司不受理
    rf"不是{_WHO}{_UNIT}?(?:的)?(?:业务|事|管)",
))
_DROP = re.compile(r"\s+")


def _bare(text: str) -> str:
    return _DROP.sub("", clean_text(text)).lower()


def is_placeholder(value: Any) -> bool:
    """True for a blank cell or one holding only punctuation or a stand-in word: 无 / — - 。 暂无 …"""
    if value is None:
        return True
    return _placeholder(value if type(value) is str else str(value))


@lru_cache(maxsize=4096)     # a month repeats its reasons: the lists and the figures ask about each row's again
def _placeholder(value: str) -> bool:
    text = "".join(ch for ch in _bare(value) if not unicodedata.category(ch).startswith(("P", "S", "Z", "C")))
    return not text or text in PLACEHOLDER_WORDS


@lru_cache(maxsize=4096)
def _refusal(text: str, phrases: tuple[str, ...]) -> bool:
    bare = _bare(text)
    return any(_bare(p) in bare for p in phrases if p) or any(p.search(bare) for p in REFUSAL_PATTERNS)


def is_refusal(reason: Any, phrases: Iterable[str] = ()) -> bool:
    """A reason that refuses on the grounds of business or area: a configured phrase or a pattern."""
    return isinstance(reason, str) and bool(reason) and _refusal(reason, tuple(phrases))


def explained(reason: Any, phrases: Iterable[str] = ()) -> bool:
    """A reason for 无法办理 that counts: written (not a placeholder) and not a refusal."""
    return isinstance(reason, str) and not is_placeholder(reason) and not is_refusal(reason, phrases)
