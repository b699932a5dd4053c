"""Where an address is: towns from the town table, district names, and mismatches with 所属区县."""
from __future__ import annotations

import re
from dataclasses import dataclass

from xl_automation.model.config import Config


@dataclass(frozen=True)
class Placement:
    towns: tuple[tuple[str, frozenset[str]], ...]   # (town, areas it belongs to) found in the address
    areas_named: tuple[str, ...]                    # districts/zones named in the address
    areas_written: tuple[str, ...] = ()             # of those, the ones written in full (张店区, not 张店)


_CACHE: dict[int, tuple] = {}


def _patterns(config: Config):
    """Compiled once per configuration object (the town table does not change during a run)."""
    hit = _CACHE.get(id(config))
    if hit is not None and hit[0] is config:
        return hit[1]
    compiled = _compile(tuple(config.towns), config.areas)
    _CACHE[id(config)] = (config, compiled)
    return compiled


def _compile(town_names: tuple[str, ...], areas: tuple[str, ...]):
    towns = sorted(town_names, key=len, reverse=True)
    town_re = re.compile("|".join(map(re.escape, towns))) if towns else None
    # short forms (张店, 桓台) only tell that an area is named, never a mismatch: streets share them
    short = {a[:-1]: a for a in areas if a.endswith(("区", "县")) and len(a) >= 3 and a not in ("高新区",)}
    names = {**short, **{a: a for a in areas}}
    area_re = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True))))
    return town_re, area_re, names


def locate(address: str, config: Config) -> Placement:
    towns = config.towns
    town_re, area_re, names = _patterns(config)
    found = tuple(dict.fromkeys((m.group(0), towns[m.group(0)]) for m in town_re.finditer(address))) if town_re else ()
    hits = [m.group(0) for m in area_re.finditer(address)]
    named = tuple(dict.fromkeys(names[h] for h in hits))
    return Placement(found, named, tuple(dict.fromkeys(h for h in hits if h in config.areas)))


def mismatched_town(address: str, district: str, config: Config) -> tuple[str, str] | None:
    """(town, its county) when the address names a town outside the filed district, else None."""
    if not address or not district:
        return None
    return mismatch_in(locate(address, config), district, config)


def mismatch_in(place: Placement, district: str, config: Config) -> tuple[str, str] | None:
    """The first town of a located address that lies outside the filed district."""
    if district not in config.data.get("zone_towns", {}) or config.zone_is_mapped(district):
        for town, areas in place.towns:
            if district not in areas:
                return town, "、".join(sorted(areas))
    return None


def other_county_written(place: Placement, district: str, config: Config) -> str | None:
    """The district or county written in full in the address when it is not the filed one (淄川区 in an
    address filed under 张店区). Short forms (张店, 桓台) name streets too, and the functional zones lie
    inside counties, so neither is evidence of a mismatch; an address naming the filed area as well is
    taken as consistent."""
    zones = set(config.data.get("zone_towns", {}))
    if district in zones or district not in config.areas or district in place.areas_written:
        return None
    return next((a for a in place.areas_written if a != district and a not in zones), None)
