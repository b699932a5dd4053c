"""A user's configuration file: every setting it names is one the program reads, or the run stops and says so."""
import json

import pytest
from hypothesis import given, settings, strategies as st

from support.cli import run
from xl_automation.model import config as cfg


def write(tmp_path, data) -> str:
    path = tmp_path / "配置.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("data, says", [
    ({"policy": {"submision_due_day": 20}}, ["policy 中的“submision_due_day”", "是否应为“submission_due_day”"]),
    ({"policy": {"organisation_words": ["公司"]}}, ["organisation_words", "policy.organisation_suffixes"]),
    ({"windowz": []}, ["顶层的“windowz”", "是否应为“windows”"]),
    ({"limits": {"memory": 512}}, ["limits 中的“memory”"]),
    ({"windows": [{"code": "ZLS01", "name": "营销服务中心", "company": "ZLS", "nmae": "x"}]}, ["windows.1 中的“nmae”"]),
])
def test_an_unknown_or_renamed_setting_stops_the_run_and_names_it(tmp_path, data, says):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load(write(tmp_path, data))
    assert all(s in str(err.value) for s in says), str(err.value)


def test_notes_and_free_form_keys_are_settings_too(tmp_path):
    conf = cfg.load(write(tmp_path, {"_说明": "2026 年版", "$comment": "x", "policy": {"_备注": "集团定",
                                     "submission_due_day": 20}, "town_aliases": {"新区": "张店区"}}))
    assert conf.policy["submission_due_day"] == 20


def test_the_shipped_defaults_name_no_unknown_setting():
    assert cfg.unknown_settings(cfg.default_data(), cfg._schema()) == []


@given(st.sampled_from(sorted(cfg.default_data()["policy"])), st.integers(0, 40), st.characters(min_codepoint=97,
                                                                                                  max_codepoint=122))
def test_any_misspelt_policy_key_is_caught(key, at, letter):
    typo = key[:at] + letter + key[at + 1:] if at < len(key) else key + letter
    policy = cfg._schema()["properties"]["policy"]["properties"]
    found = cfg.unknown_settings({"policy": {typo: 1}}, cfg._schema())
    assert (typo in policy) == (found == []), (typo, found)


def test_the_cli_says_it_in_one_line_with_exit_2(tmp_path):
    done = run("--config", write(tmp_path, {"policy": {"mask_personal_infos": False}}), "config")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "mask_personal_infos" in done.stderr + done.stdout and "mask_personal_info”" in done.stderr + done.stdout


def test_what_config_json_prints_is_a_configuration_the_program_reads_back(tmp_path):
    """`config --json` prints the settings in force with what follows from them (each window's company name and
    supervising unit, the districts, the source): saved to a file as the starting point of a user's own
    configuration (docs/安装说明.md), it must load, and give the same configuration."""
    printed = run("config", "--json")
    assert printed.returncode == 0, printed.stderr
    saved = tmp_path / "配置.json"
    saved.write_text(printed.stdout, encoding="utf-8")
    again = run("--config", saved, "config", "--json")
    assert again.returncode == 0, again.stderr
    first, second = json.loads(printed.stdout), json.loads(again.stdout)
    assert second.pop("source") == str(saved) and first.pop("source") == "默认配置"
    assert second == first


@pytest.mark.parametrize("edit, says", [
    (lambda d: d["windows"][1].update(supervisor="别的单位"), ["windows.2 中的“supervisor”", "companies"]),
    (lambda d: d["windows"][0].update(company_name="别的公司"), ["windows.1 中的“company_name”", "companies"]),
    (lambda d: d["areas"].append("新城区"), ["顶层的“areas”"]),
])
def test_a_printed_field_edited_in_place_is_named_not_ignored(tmp_path, edit, says):
    """What config --json repeats from other settings changes only where it comes from: an edited copy would
    otherwise be ignored without a word, the mistake the check of unknown settings exists for."""
    data = json.loads(run("config", "--json").stdout)
    edit(data)
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load(write(tmp_path, data))
    assert all(s in str(err.value) for s in says), str(err.value)


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(names, names), min_size=2, max_size=2), st.integers(1, 8), st.booleans())
def test_any_configuration_printed_by_config_json_loads_back_the_same(tmp_path_factory, companies, windows, placeholder):
    """Whatever the companies are called and whoever supervises them, however many windows: the printed
    configuration, saved, is the same configuration."""
    import contextlib
    import io
    from xl_automation.commands.ledger import show_config
    folder = tmp_path_factory.mktemp("conf")
    data = cfg.default_data()
    for company, (name, supervisor) in zip(data["companies"], companies):
        company.update(name=name, supervisor=supervisor)
    data["windows"] = data["windows"][:windows]
    data["windows"][0]["placeholder"] = placeholder
    first = cfg.load(write(folder, data))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        show_config(first, json=True)
    (folder / "saved.json").write_text(printed.getvalue(), encoding="utf-8")
    again = cfg.load(folder / "saved.json")
    assert again.windows == first.windows     # printed windows say placeholder: false where the file said nothing
    assert {k: v for k, v in again.data.items() if k != "windows"} == {k: v for k, v in first.data.items() if k != "windows"}


@pytest.mark.parametrize("section", ["policy", "limits"])
@pytest.mark.parametrize("value", [[], "x", 3, None])
def test_a_section_that_is_not_an_object_is_named_not_an_internal_error(tmp_path, section, value):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load(write(tmp_path, {section: value}))
    assert section in str(err.value), str(err.value)


def test_a_configuration_saved_in_gbk_or_broken_says_what_to_do_in_chinese(tmp_path):
    gbk = tmp_path / "gbk.json"
    gbk.write_bytes('{"_备注": "淄博"}'.encode("gbk"))
    with pytest.raises(cfg.ConfigError) as e:
        cfg.load(gbk)
    assert "不是 UTF-8 编码" in str(e.value) and "另存为" in str(e.value) and "codec" not in str(e.value)
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "windows": [,]\n}', encoding="utf-8")
    with pytest.raises(cfg.ConfigError) as e:
        cfg.load(broken)
    assert "第 2 行第" in str(e.value)
