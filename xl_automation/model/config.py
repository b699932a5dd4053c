"""Configuration: shipped defaults, an optional user file, checked against its schema."""
from __future__ import annotations

import csv
import difflib
import io
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from xl_automation.model.schema import BY_KEY

ENV_VAR = "XL_AUTOMATION_CONFIG"
# settings an earlier version read under another name: a file that still says so is told, never ignored
RENAMED = {
    ("policy", "organisation_words"): "已改为 policy.organisation_suffixes，按名称的结尾判断是否为单位，见 config.schema.json "
                                      "的说明：请改名并核对其中的词",
}
COMMENT_PREFIXES = ("_", "$")      # "_说明": "…" and "$comment" are notes to the reader, not settings
_DATA = resources.files("xl_automation.model.data")


class ConfigError(Exception):
    """The configuration file cannot be used."""


@dataclass(frozen=True)
class Window:
    code: str
    name: str
    company: str
    company_name: str
    supervisor: str
    placeholder: bool = False


@dataclass
class Config:
    data: dict[str, Any]
    source: str = "默认配置"
    notes: list[str] = field(default_factory=list)

    @property
    def policy(self) -> dict[str, Any]:
        return self.data["policy"]

    @cached_property
    def windows(self) -> list[Window]:
        companies = {c["code"]: c for c in self.data["companies"]}
        return [Window(w["code"], w["name"], w["company"], companies[w["company"]]["name"],
                       companies[w["company"]]["supervisor"], bool(w.get("placeholder")))
                for w in self.data["windows"]]

    def window(self, code: str) -> Window | None:
        return next((w for w in self.windows if w.code == code), None)

    @cached_property
    def towns(self) -> dict[str, frozenset[str]]:
        """Town name (and every alias) -> the areas it may be filed under: its county, and a zone."""
        rows = self.data.get("towns")
        if rows is None:
            text = _DATA.joinpath(self.data.get("towns_file", "zibo_towns.csv")).read_text(encoding="utf-8")
            rows = list(csv.DictReader(io.StringIO(text)))
        table: dict[str, set[str]] = {r["town_name"]: {r["county_name"]} for r in rows}
        for zone, towns in self.data.get("zone_towns", {}).items():
            for town in towns:
                table.setdefault(town, set()).add(zone)
        for alias, name in self.data.get("town_aliases", {}).items():
            if name in table:
                table.setdefault(alias, table[name])
        return {town: frozenset(areas) for town, areas in table.items()}

    def zone_is_mapped(self, zone: str) -> bool:
        return bool(self.data.get("zone_towns", {}).get(zone))

    @property
    def areas(self) -> tuple[str, ...]:
        """Districts, counties and functional zones: the schema's 所属区县 enumeration."""
        return BY_KEY["district"].enum

    def enterprise_names(self) -> list[str]:
        return [e["name"] for e in self.data.get("enterprises", {}).get("items", [])
                if not e["name"].startswith(("(", "（"))]


def _schema() -> dict[str, Any]:
    return json.loads(_DATA.joinpath("config.schema.json").read_text(encoding="utf-8"))


def default_data() -> dict[str, Any]:
    return json.loads(_DATA.joinpath("default_config.json").read_text(encoding="utf-8"))


def check(data: dict[str, Any], source: str) -> None:
    import jsonschema   # 0.1 s to import: only when a user's file is checked (a button click pays for it)
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(data), key=lambda e: e.path)
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(根)"
        raise ConfigError(f"配置文件 {source} 中 {where} 有误：{e.message}；请按 config.schema.json 修改")
    codes = [c["code"] for c in data["companies"]]
    for w in data["windows"]:
        if w["company"] not in codes:
            raise ConfigError(f"配置文件 {source}：窗口 {w['code']} 的所属公司 {w['company']} 不在 companies 中")
    unknown = set(data.get("zone_towns", {})) - set(BY_KEY["district"].enum)
    if unknown:
        raise ConfigError(f"配置文件 {source}：zone_towns 中的 {', '.join(sorted(unknown))} 不是所属区县的可选值")
    dup = {w["code"] for w in data["windows"] if [x["code"] for x in data["windows"]].count(w["code"]) > 1}
    if dup:
        raise ConfigError(f"配置文件 {source}：窗口编码重复 {', '.join(sorted(dup))}")


def unknown_settings(data: Any, schema: dict[str, Any], where: tuple[str, ...] = ()) -> list[str]:
    """One Chinese line per key the schema does not know (a typo or an old name would otherwise be ignored
    without a word and the default used instead), with the likely intended name."""
    problems: list[str] = []
    if isinstance(data, dict) and "properties" in schema:
        known = schema["properties"]
        free = isinstance(schema.get("additionalProperties"), dict)     # e.g. zone_towns: any district name
        for key, value in data.items():
            if key in known:
                problems += unknown_settings(value, known[key], (*where, key))
            elif not free and not str(key).startswith(COMMENT_PREFIXES):
                place = f"{'.'.join(where)} 中" if where else "顶层"
                hint = RENAMED.get((".".join(where), key))
                if hint is None:
                    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
                    hint = f"是否应为“{close[0]}”" if close else f"可用的设置：{'、'.join(known)}"
                problems.append(f"{place}的“{key}”不是可用的设置（{hint}）")
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(data):
            problems += unknown_settings(item, schema["items"], (*where, str(i + 1)))
    return problems


def load(path: str | os.PathLike | None = None) -> Config:
    """Defaults, overlaid key by key (top level, policy and limits) by the user's file if one is given."""
    data = default_data()
    path = path or os.environ.get(ENV_VAR) or None
    source = "默认配置"
    if path:
        p = Path(path)
        try:
            user = json.loads(p.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ConfigError(f"找不到配置文件 {p}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"配置文件 {p} 不是有效的 JSON：{e}；请修正后再运行") from None
        if not isinstance(user, dict):
            raise ConfigError(f"配置文件 {p} 的顶层必须是对象 {{…}}")
        unknown = unknown_settings(user, _schema())
        if unknown:
            raise ConfigError(f"配置文件 {p}：{'；'.join(unknown)}。请改正或删除（以 _ 开头的键可用作备注）后再运行")
        sections = {k: {**data[k], **user.get(k, {})} for k in ("policy", "limits")}
        data.update(user)
        data.update(sections)
        source = str(p)
        check(data, source)   # the shipped defaults alone are checked by a test, not at every run
    return Config(data, source)
