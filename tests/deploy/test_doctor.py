"""环境检查 against a fake Windows PC, one case per cause of a dead button; install-excel for real files;
the doctor CLI as users run it; the real Windows checks only on Windows (marked excel)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.cli import run
from support.fake_machine import VENV, VPY, FakeMachine
from xl_automation.deploy import doctor as D
from xl_automation.deploy import xlwings_conf as XC
from xl_automation.excel.build import REPO
from xl_automation.excel.build_vba import XLWINGS_VERSION
from xl_automation.deploy.install_excel import InstallError, install
from xl_automation.deploy.winenv import Office, TrustedLocation

NAMES = {"python": "Python", "xlwings": "xlwings", "dll": "xlwings DLL", "interpreter": "按钮使用的 Python",
         "motw": "“来自互联网”标记", "trusted": "受信任位置", "runpython": "按钮调用 Python",
         "config": "配置文件", "libreoffice": "LibreOffice（导出 PDF）", "font": "中文字体（PDF）"}
LEDGER = "综合受理台账.xlsm"


@pytest.fixture
def pc(tmp_path):
    """A PC after 安装.cmd: workbooks copied into a folder with Chinese and a space, settings written."""
    home = tmp_path / "综合 受理"
    machine = FakeMachine(userprofile=str(tmp_path / "用户 张三"),
                          trusted=[TrustedLocation(str(home), True)])
    install(REPO / "workbook", home, machine, VPY)
    return machine, home


def failed(checks: list[D.Check]) -> set[str]:
    return {c.name for c in checks if c.ok is False}


def test_a_healthy_pc_passes_every_check(pc):
    machine, home = pc
    checks = D.run_checks(machine, [home])
    assert [c.name for c in checks] == list(NAMES.values())
    assert all(c.ok for c in checks), [c.line() for c in checks]
    assert machine.round_trips == [home / LEDGER]
    by = {c.name: c for c in checks}
    assert VPY in by[NAMES["interpreter"]].detail and str(home / XC.CONF_NAME) in by[NAMES["interpreter"]].detail
    assert by[NAMES["dll"]].detail == VENV + rf"\xlwings64-{XLWINGS_VERSION}.dll"


def _without(machine: FakeMachine, name: str) -> None:
    machine.files = {f for f in machine.files if not f.endswith(name)}


CAUSES = {
    # cause: (how the PC differs, the checks that must fail)
    "old Python": (lambda m, h: setattr(m, "python_version", (3, 10)), {"python"}),
    "32-bit Python": (lambda m, h: setattr(m, "python_bits", 32), {"python"}),
    "xlwings missing": (lambda m, h: setattr(m, "xlwings", None), {"xlwings"}),
    "xlwings upgraded": (lambda m, h: setattr(m, "xlwings", "0.38.0"), {"xlwings"}),
    "DLL removed by antivirus": (lambda m, h: _without(m, "xlwings64-0.37.8.dll"), {"dll"}),
    "32-bit Office, its DLL removed": (lambda m, h: (setattr(m, "office_info", Office("16.0", 32)),
                                                    _without(m, "xlwings32-0.37.8.dll")), {"dll"}),
    "interpreter deleted": (lambda m, h: _without(m, "Scripts\\python.exe"), {"interpreter"}),
    "interpreter cannot import": (lambda m, h: setattr(m, "import_problem", "No module named 'xl_automation'"),
                                  {"interpreter"}),
    "no xlwings settings": (lambda m, h: ((h / XC.CONF_NAME).unlink(), XC.user_conf(m.userprofile).unlink()),
                            {"interpreter"}),
    "Mark-of-the-Web outside a trusted location": (
        lambda m, h: (m.zones.update({str(h / LEDGER): 3}), m.trusted.clear()), {"motw", "trusted"}),
    "outside a trusted location": (lambda m, h: m.trusted.clear(), {"trusted"}),
    "trusted location without subfolders": (
        lambda m, h: setattr(m, "trusted", [TrustedLocation(str(h.parent), False)]), {"trusted"}),
    "RunPython blocked (ASR rule)": (lambda m, h: setattr(m, "run_python_problem", "没有回应"), {"runpython"}),
    "no LibreOffice": (lambda m, h: setattr(m, "soffice_path", None), {"libreoffice"}),
    "no CJK font": (lambda m, h: setattr(m, "fonts", []), {"font"}),
}


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_each_cause_fails_its_own_check_with_a_fix(pc, cause):
    machine, home = pc
    change, expected = CAUSES[cause]
    change(machine, home)
    checks = D.run_checks(machine, [home])
    assert failed(checks) == {NAMES[k] for k in expected}, [c.line() for c in checks]
    for c in checks:
        if c.ok is False:
            line = c.line()
            assert line.startswith("✗ ") and "。处理：" in line and len(c.fix) > 10, line


def test_mark_of_the_web_inside_a_trusted_location_still_runs(pc):
    machine, home = pc
    machine.zones[str(home / LEDGER)] = 3
    by = {c.name: c for c in D.run_checks(machine, [home / LEDGER])}
    assert by[NAMES["motw"]].ok and "受信任位置" in by[NAMES["motw"]].detail


def test_trusted_location_matches_windows_paths_case_blind(tmp_path):
    book = Path(r"D:\综合受理\2026\台账.xlsm")
    assert D._inside(book, TrustedLocation(r"d:\综合受理", True))
    assert not D._inside(book, TrustedLocation(r"D:\综合受理", False))
    assert D._inside(book, TrustedLocation("D:\\综合受理\\2026\\", False))
    assert not D._inside(book, TrustedLocation(r"D:\综合", True))


def test_from_the_button_the_round_trip_is_the_call_itself(pc):
    machine, home = pc
    machine.run_python_problem = "would fail"
    by = {c.name: c for c in D.run_checks(machine, [home / LEDGER], from_button=True)}
    assert by[NAMES["runpython"]].ok and machine.round_trips == []


def test_on_linux_the_excel_checks_do_not_apply(tmp_path):
    machine = FakeMachine(userprofile=str(tmp_path), is_windows=False, xlwings=None, office_info=None)
    checks = D.run_checks(machine, [tmp_path])
    assert {c.name for c in checks if c.ok is None} == {NAMES[k] for k in
                                                          ("xlwings", "dll", "interpreter", "motw", "trusted", "runpython")}
    assert all(c.line().startswith("– ") for c in checks if c.ok is None)
    assert not failed(checks)


def test_marks_fall_back_to_gbk_symbols():
    assert D.marks_for("utf-8") == ("✓", "✗", "–")
    assert D.marks_for("gbk") == ("√", "×", "-") and D.marks_for("cp936") == ("√", "×", "-")
    for mark in D.marks_for("gbk"):
        mark.encode("gbk")


# ---- install-excel -------------------------------------------------------------------------------

def test_install_copies_unblocks_and_points_xlwings_at_the_venv(tmp_path):
    home = tmp_path / "综合 受理"
    machine = FakeMachine(userprofile=str(tmp_path / "用户"))
    user = XC.user_conf(machine.userprofile)
    user.parent.mkdir(parents=True)
    user.write_bytes('"INTERPRETER_WIN","C:\\旧的\\python.exe"\r\n"SHOW CONSOLE","False"\r\n'.encode("gbk"))
    for p in (REPO / "workbook").iterdir():
        machine.zones[str(home / p.name)] = 3
    done = install(REPO / "workbook", home, machine, VPY)
    assert sorted(p.name for p in done.copied) == sorted(p.name for p in (REPO / "workbook").iterdir())
    for p in done.copied:
        assert p.read_bytes() == (REPO / "workbook" / p.name).read_bytes()
    assert sorted(done.unblocked) == sorted(done.copied) and not machine.zones
    raw = user.read_bytes()
    assert raw.endswith(b"\r\n") and VPY.encode("gbk") in raw and b"\xe5" not in raw      # GBK, not UTF-8
    assert XC.read_conf(user, "gbk") == {"SHOW CONSOLE": "False", "INTERPRETER_WIN": VPY}
    assert XC.interpreter_for(home, machine.userprofile, "gbk") == (VPY, str(home / XC.CONF_NAME))
    assert XC.interpreter_for(tmp_path / "别处", machine.userprofile, "gbk") == (VPY, str(user))


def test_install_refuses_while_a_workbook_is_open_and_changes_nothing(tmp_path):
    home = tmp_path / "综合受理"
    home.mkdir()
    (home / f"~${LEDGER}").write_bytes(b"lock")
    machine = FakeMachine(userprofile=str(tmp_path / "用户"))
    with pytest.raises(InstallError, match="正在 Excel 中打开"):
        install(REPO / "workbook", home, machine, VPY)
    assert sorted(p.name for p in home.iterdir()) == [f"~${LEDGER}"]
    assert not XC.user_conf(machine.userprofile).exists()
    with pytest.raises(InstallError, match="没有工作簿"):
        install(tmp_path / "空", home, machine, VPY)


keys = st.text(st.characters(codec="gbk", exclude_characters='"\r\n\x00'), min_size=1, max_size=12).filter(str.strip)
values = st.text(st.characters(codec="gbk", exclude_characters='"\r\n\x00'), max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(keys, values, max_size=6), keys, values)
def test_setting_one_key_keeps_every_other_key(tmp_path_factory, others, key, value):
    path = tmp_path_factory.mktemp("conf") / "xlwings.conf"
    others = {k.strip(): v for k, v in others.items() if k.strip().upper() != key.strip().upper()}
    path.write_bytes("".join(f'"{k}","{v}"\r\n' for k, v in others.items()).encode("gbk"))
    before = XC.read_conf(path, "gbk")
    XC.write_setting(path, key.strip(), value, "gbk")
    after = XC.read_conf(path, "gbk")
    assert after.pop(key.strip().upper()) == value
    assert after == before


# ---- the CLI -----------------------------------------------------------------------------------

def doctor_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xl_automation", "doctor", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_doctor_cli_passes_here_and_says_so_line_by_line(tmp_path):
    if not (shutil.which("soffice") and shutil.which("fc-list")):
        pytest.skip("tests/run.sh installs LibreOffice and fonts; without them doctor rightly fails here")
    done = doctor_cli(str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == len(NAMES) + 1 and lines[-1] == "全部通过。"
    data = json.loads(doctor_cli(str(tmp_path), "--json").stdout)
    assert data["ok"] is True and [c["name"] for c in data["checks"]] == list(NAMES.values())


def test_doctor_cli_exits_1_with_the_fix_when_pdf_export_cannot_work(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))          # neither soffice nor fc-list reachable
    done = doctor_cli(str(tmp_path), env=env)
    assert done.returncode == 1
    bad = [ln for ln in done.stdout.splitlines() if ln.startswith("✗")]
    assert len(bad) == 2 and all("处理：" in ln for ln in bad)
    assert "LibreOffice" in bad[0] and "中文字体" in bad[1] and "2 项未通过" in done.stdout


def test_doctor_button_shows_the_checks_in_one_message_box(pc, monkeypatch):
    from support import xlwings_fake as F
    from xl_automation.excel import app as X
    from xl_automation.deploy import winenv
    machine, home = pc
    monkeypatch.setattr(winenv, "SystemMachine", lambda: machine)
    machine.trusted.clear()
    book = F.FakeBook(REPO / "workbook" / "集团汇总.xlsm")
    monkeypatch.setattr(X, "xw", F.FakeXlwings(book))
    X.doctor()
    (title, text, mode), = book.app_.alerts
    assert title == "环境检查" and mode == "critical"
    assert "√ 按钮调用 Python：本次检查就是由按钮启动的" in text and "× 受信任位置" in text
    assert text.endswith("1 项未通过，请按提示处理。") and machine.round_trips == []


def test_ping_writes_the_token(tmp_path, monkeypatch):
    from support import xlwings_fake as F
    from xl_automation.excel import app as X
    monkeypatch.setattr(X, "xw", F.FakeXlwings(None))
    X.xw.__version__ = XLWINGS_VERSION
    token = tmp_path / "令牌.txt"
    X.ping(str(token))
    assert token.read_text(encoding="utf-8").startswith(XLWINGS_VERSION)


@pytest.mark.excel
@pytest.mark.skipif(sys.platform != "win32", reason="the registry, alternate data streams and Excel exist only on Windows")
def test_real_windows_machine_answers(tmp_path):
    from xl_automation.deploy.winenv import SystemMachine
    m = SystemMachine()
    assert m.office() is not None, "Excel is installed on the acceptance PC"
    book = tmp_path / "标记.xlsm"
    shutil.copyfile(REPO / "workbook" / LEDGER, book)
    Path(f"{book}:Zone.Identifier").write_text("[ZoneTransfer]\r\nZoneId=3\r\n", encoding="ascii")
    assert m.zone_id(book) == 3 and m.remove_zone(book) and m.zone_id(book) is None
    checks = D.run_checks(m, [book])
    assert {c.name for c in checks if c.ok is None} == set()


def test_a_configuration_the_buttons_would_refuse_is_a_failed_line_not_a_pass(pc, tmp_path, monkeypatch):
    """The 环境检查 button reads the same XL_AUTOMATION_CONFIG as every other button: a file they stop on
    (here an earlier version's setting name) must not leave it saying 全部通过."""
    machine, home = pc
    old = tmp_path / "旧配置.json"
    old.write_text(json.dumps({"policy": {"organisation_words": ["公司"]}}), encoding="utf-8")
    monkeypatch.setenv("XL_AUTOMATION_CONFIG", str(old))
    by = {c.name: c for c in D.run_checks(machine, [home / LEDGER], from_button=True)}
    assert by[NAMES["config"]].ok is False
    assert "organisation_words" in by[NAMES["config"]].detail and "XL_AUTOMATION_CONFIG" in by[NAMES["config"]].fix
    monkeypatch.delenv("XL_AUTOMATION_CONFIG")
    assert {c.name: c for c in D.run_checks(machine, [home / LEDGER])}[NAMES["config"]].ok is True


def test_doctor_on_the_command_line_lists_a_bad_configuration_instead_of_stopping(tmp_path):
    bad = tmp_path / "配置.json"
    bad.write_text(json.dumps({"policy": {"submision_due_day": 20}}), encoding="utf-8")
    done = run("--config", bad, "doctor", tmp_path, "--json")
    assert done.returncode == 1, done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks[NAMES["config"]]["ok"] is False and "submision_due_day" in checks[NAMES["config"]]["detail"]


def test_a_workbook_or_folder_that_does_not_exist_is_a_failed_line_not_a_pass(pc, tmp_path):
    """doctor 综合受理台帐.xlsm (帐 for 账) checked nothing and said 全部通过: every named path that does
    not exist, or is not a workbook, is its own ✗ line naming it."""
    machine, home = pc
    typo, other = home / "综合受理台帐.xlsm", tmp_path / "说明.txt"
    other.write_text("x", encoding="utf-8")
    checks = D.run_checks(machine, [typo, other, home])
    bad = [c for c in checks if c.ok is False]
    assert [c.name for c in bad] == ["工作簿", "工作簿"], [c.line() for c in checks]
    assert str(typo) in bad[0].line() and "不存在" in bad[0].line() and "。处理：" in bad[0].line()
    assert str(other) in bad[1].line() and "不是工作簿" in bad[1].line()
    assert all(c.ok for c in D.run_checks(machine, [home]))            # a healthy list is unchanged


def test_doctor_cli_exits_1_naming_a_path_that_does_not_exist(tmp_path):
    done = doctor_cli(str(tmp_path / "综合受理台帐.xlsm"))
    assert done.returncode == 1 and "内部错误" not in done.stderr
    bad = [ln for ln in done.stdout.splitlines() if ln.startswith("✗") and "综合受理台帐.xlsm" in ln]
    assert len(bad) == 1 and "不存在" in bad[0], done.stdout
