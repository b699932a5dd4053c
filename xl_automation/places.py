"""Where an address is: towns from the town table, district names, and mismatches with 所属区县."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .config import Config


@dataclass(frozen=True)
class Placement:
    towns: tuple[tuple[str, frozenset[str]], ...]   # (town, areas it belongs to) found in the address
    areas_named: tuple[str, ...]                    # districts/zones named in the address


@lru_cache(maxsize=8)
def _patterns(towns_key: tuple, areas: tuple[str, ...]):
    towns = sorted((t for t, _ in towns_key), key=len, reverse=True)
    town_re = re.compile("|".join(map(re.escape, towns))) if towns else None
    # short forms (张店, 桓台) only tell that an area is named, never a mismatch: streets share them
    short = {a[:-1]: a for a in areas if a.endswith(("区", "县")) and len(a) >= 3 and a not in ("高新区",)}
    names = {**short, **{a: a for a in areas}}
    area_re = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True))))
    return town_re, area_re, names


def locate(address: str, config: Config) -> Placement:
    towns = config.towns
    town_re, area_re, names = _patterns(tuple(sorted(towns.items())), config.areas)
    found = tuple(dict.fromkeys((m.group(0), towns[m.group(0)]) for m in town_re.finditer(address))) if town_re else ()
    named = tuple(dict.fromkeys(names[m.group(0)] for m in area_re.finditer(address)))
    return Placement(found, named)


def mismatched_town(address: str, district: str, config: Config) -> tuple[str, str] | None:
    """(town, its county) when the address names a town outside the filed district, else None."""
    if not address or not district:
        return None
    if district not in config.data.get("zone_towns", {}) or config.zone_is_mapped(district):
        for town, areas in locate(address, config).towns:
            if district not in areas:
                return town, "、".join(sorted(areas))
    return None
