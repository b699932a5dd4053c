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
# what `config --json` prints beside the settings, repeated from them (commands/ledger.show_config): a file saved
# from that output is a configuration too; a copy that no longer says what it repeats is named, never ignored
PRINTED_WINDOW = {"company_name": "name", "supervisor": "supervisor"}     # window field -> its company's field
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


def printed_copies(user: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The user's file without what `config --json` prints beside the settings, and one Chinese line per copy
    that differs from what it repeats (an edit there would change nothing)."""
    user, problems = dict(user), []
    user.pop("source", None)
    if "areas" in user and user.pop("areas") != list(BY_KEY["district"].enum):
        problems.append("顶层的“areas”是 config --json 列出的所属区县，由台账的定义决定，不能在配置中修改（请删除此项）")
    windows, companies = user.get("windows"), user.get("companies", defaults["companies"])
    if isinstance(windows, list) and isinstance(companies, list):
        by_code = {c["code"]: c for c in companies if isinstance(c, dict) and isinstance(c.get("code"), str)}
        kept = []
        for i, w in enumerate(windows, 1):
            if isinstance(w, dict) and any(k in w for k in PRINTED_WINDOW):
                w = dict(w)
                code = w.get("company")
                company = by_code.get(code) if isinstance(code, str) else None    # unknown: check() names it
                for key, field in PRINTED_WINDOW.items():
                    value = w.pop(key, None)
                    if company is not None and value is not None and value != company.get(field):
                        problems.append(f"windows.{i} 中的“{key}”与 companies 中 {code} 的 {field} 不一致"
                                        f"（它由 companies 决定：请在 companies 中修改，或删除此项）")
            kept.append(w)
        user["windows"] = kept
    return user, problems


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
        except UnicodeDecodeError:
            raise ConfigError(f"配置文件 {p} 不是 UTF-8 编码（可能以 GBK/ANSI 保存）：请用记事本打开，"
                              "“另存为”时编码选 UTF-8，再运行") from None
        except json.JSONDecodeError as e:
            raise ConfigError(f"配置文件 {p} 不是有效的 JSON：第 {e.lineno} 行第 {e.colno} 列（{e.msg}）；"
                              "请修正后再运行") from None
        if not isinstance(user, dict):
            raise ConfigError(f"配置文件 {p} 的顶层必须是对象 {{…}}")
        user, unknown = printed_copies(user, data)
        unknown += unknown_settings(user, _schema())
        if unknown:
            raise ConfigError(f"配置文件 {p}：{'；'.join(unknown)}。请改正或删除（以 _ 开头的键可用作备注）后再运行")
        for k in ("policy", "limits"):
            if not isinstance(user.get(k, {}), dict):
                raise ConfigError(f"配置文件 {p} 中 {k} 有误：应为对象 {{…}}；请按 config.schema.json 修改")
        sections = {k: {**data[k], **user.get(k, {})} for k in ("policy", "limits")}
        data.update(user)
        data.update(sections)
        source = str(p)
        check(data, source)   # the shipped defaults alone are checked by a test, not at every run
    return Config(data, source)
