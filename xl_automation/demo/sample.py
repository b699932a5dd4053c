"""A deterministic, realistic synthetic month of requests for a window (demo, tests, benchmark)."""
from __future__ import annotations

import random
from functools import lru_cache, partial
from datetime import datetime, timedelta
from typing import Any

from xl_automation.model.config import Config, Window
from xl_automation.rules.periods import Period
from xl_automation.rules.phones import VALID, check_phone
from xl_automation.model.schema import COLUMNS, SERVICE_COLUMNS

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰志强文静海燕晓东春生德福凤英"
ORG_STEMS = ["鑫源", "华泰", "齐鲁", "金晶", "鲁中", "博汇", "恒通", "瑞丰", "宏达", "新华", "淄博", "万杰", "东岳", "天齐"]
ORG_KINDS = ["化工有限公司", "陶瓷有限公司", "食品有限公司", "机械制造有限公司", "商贸有限公司", "大酒店",
             "物业管理有限公司", "实验学校", "社区卫生服务中心", "农业专业合作社", "超市", "建材城"]
ROADS = ["人民西路", "华光路", "共青团路", "柳泉路", "联通路", "西二路", "北京路", "中润大道", "金晶大道",
         "鲁泰大道", "张周路", "淄博路", "新村路", "昌国路", "般阳路", "峨眉山路", "太公路", "齐园路"]
CHANNELS = (["窗口现场"] * 5 + ["电话"] * 3 + ["线上平台"] * 3 + ["联络群转入"] * 2 + ["上门"])
REASONS_UNABLE = ["申请地址不具备接入条件，管网未覆盖", "用户暂缓报装，待房屋产权手续办理完毕",
                  "规划许可未取得，无法办理报装", "用户联系不上，多次电话未接通", "所在片区正在改造，暂停受理新装"]
REASONS_OPEN = ["等待联合踏勘", "待用户提供产权材料", "施工方案审核中"]
TRANSFER_TO = ["国网淄博供电公司", "淄博华润燃气有限公司", "中国电信淄博分公司", "中国广电山东网络有限公司淄博市分公司"]


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


MOBILE_PREFIXES = ("130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
                   "173 175 176 177 178 180 181 182 183 185 186 187 188 189 191 193 195 198 199").split()


def _phone(rng: random.Random) -> str:
    """A number phonenumbers accepts: a Zibo landline now and then, mostly mobiles."""
    while True:
        if rng.random() < 0.15:
            number = f"0533-{rng.choice('2345678')}{rng.randrange(100000, 999999)}"
        else:
            number = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10000000, 99999999)}"
        if check_phone(number).verdict == VALID:
            return number


def _towns_by_area(config: Config) -> dict[str, list[str]]:
    aliases = set(config.data.get("town_aliases", {}))
    out: dict[str, list[str]] = {}
    for town, areas in config.towns.items():
        if town in aliases:
            continue
        for area in areas:
            out.setdefault(area, []).append(town)
    return {a: sorted(t) for a, t in out.items()}


def sample_rows(window: Window, period: Period, config: Config, *, n: int = 40, seed: int = 1,
                now: datetime | None = None, mistakes: bool = True) -> list[dict[str, Any]]:
    """Rows keyed by schema key; a realistic mix: on time, late, open, unable, transferred, a few mistakes."""
    rng = random.Random(f"{window.code}-{period.label}-{seed}")
    towns = _towns_by_area(config)
    districts = [d for d in towns if d in config.areas]
    enterprises: dict[str, list[tuple[str, str]]] = {}
    for e in config.data.get("enterprises", {}).get("items", []):
        if e["name"] in config.enterprise_names():
            enterprises.setdefault(e["service"], []).append((e["name"], e.get("area", "")))
    end = min(period.end, now) if now else period.end
    span = (end - period.start).total_seconds()
    times = sorted(period.start + timedelta(seconds=rng.uniform(0, span * 0.97)) for _ in range(n))
    # the benchmark generates a million rows: each (service, district) looked up once
    enterprises = lru_cache(maxsize=None)(partial(_enterprise, enterprises))
    rows = []
    for i, received in enumerate(times, start=1):
        received = received.replace(second=0, microsecond=0, hour=rng.choice([8, 9, 9, 10, 10, 11, 13, 14, 15, 16]))
        rows.append(_row(rng, window, received, i, districts, towns, enterprises, now or period.end))
    if mistakes and len(rows) >= 10:
        inject_mistakes(rng, rows)
    return rows


_SERVICE_KEYS = [c.key for c in SERVICE_COLUMNS]
_BLANK_ROW: dict[str, Any] = {**{c.key: None if c.kind == "datetime" else "" for c in COLUMNS if not c.program_written},
                              **{key: False for key in _SERVICE_KEYS}}


def _row(rng, window, received, seq, districts, towns, enterprises, now) -> dict[str, Any]:
    v = dict(_BLANK_ROW)
    services = rng.sample(_SERVICE_KEYS, k=1 if rng.random() < 0.8 else 2)
    if rng.random() < 0.55:
        services[0] = "svc_water"
    for key in services:
        v[key] = True
    org = rng.random() < 0.25
    kind = rng.choice(["工业", "商业"]) if org else rng.choice(["民用"] * 8 + ["农业"])
    district = rng.choice(districts)
    town = rng.choice(towns[district])
    v.update(
        request_id=f"{window.code}-{received:%Y%m%d}-{seq:03d}", received_at=received,
        channel=rng.choice(CHANNELS), install_type=kind,
        applicant=(rng.choice(ORG_STEMS) + rng.choice(ORG_KINDS)) if org else _name(rng),
        phone=_phone(rng), district=district,
        address=f"{district}{town}{rng.choice(ROADS)}{rng.randrange(1, 300)}号",
        enterprise=enterprises(services[0], district),
        first_responder=_name(rng), posted_at=received + timedelta(minutes=rng.randrange(2, 15)),
        on_site="是" if org or rng.random() < 0.2 else "否")
    r = rng.random()
    delay = rng.randrange(10, 115) if r < 0.86 else rng.randrange(121, 400)
    replied = received + timedelta(minutes=delay)
    recent = now - received < timedelta(hours=6)
    if replied <= now and not (recent and rng.random() < 0.5):
        v["replied_at"] = replied
    outcome = rng.random()
    closed = replied + timedelta(hours=rng.randrange(4, 96))
    if v["replied_at"] is None or closed > now or outcome < 0.12:
        v["result"] = "办理中"
        if rng.random() < 0.5:
            v["unresolved_reason"] = rng.choice(REASONS_OPEN)
    elif outcome < 0.2:
        v.update(result="无法办理", unresolved_reason=rng.choice(REASONS_UNABLE))
    elif outcome < 0.28:
        v.update(result="已转办", transferred_to=rng.choice(TRANSFER_TO))
    else:
        v.update(result="已办结", closed_at=closed)
    return v


def _enterprise(enterprises, service_key: str, district: str) -> str:
    header = next(c.header for c in SERVICE_COLUMNS if c.key == service_key)
    candidates = enterprises.get(header, [])
    local = [name for name, area in candidates if district in area]
    return (local or [name for name, _ in candidates] or [""])[0]


def inject_mistakes(rng: random.Random, rows: list[dict[str, Any]]) -> None:
    """The slips clerks really make, a handful per ledger, so validation has something to show."""
    picks = rng.sample(range(len(rows)), k=6)
    rows[picks[0]]["channel"] = "微信"
    rows[picks[1]]["phone"] = rows[picks[1]]["phone"][:-2]
    row = rows[picks[2]]
    row.update(result="无法办理", closed_at=None, unresolved_reason="不属于本单位业务")
    rows[picks[3]]["request_id"] = ""
    rows[picks[4]]["address"] = "张店区南麻街道人民路18号"
    rows[picks[4]]["district"] = "张店区"
    row = rows[picks[5]]
    row.update(result="已办结", closed_at=None)
