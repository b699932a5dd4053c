"""A realistic month of five windows (on time, late, open, refused, transferred, merged, carried, excluded, injected) consolidated in memory: what the report and 通报 tests write."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from support.rows import good_row
from xl_automation.demo.sample import sample_rows
from xl_automation.model import config as cfg
from xl_automation.model import findings as F
from xl_automation.model.ledger import LedgerRow
from xl_automation.model.schema import BY_KEY
from xl_automation.month_end.collect import Collected
from xl_automation.report.workbook import ReportInfo, write_report
from xl_automation.rules.consolidate import Source, consolidate
from xl_automation.rules.periods import Period

CONFIG = cfg.load()
PERIOD = Period(2026, 11)
NOW = datetime(2026, 11, 26, 9, 0)
SHEETS = ["汇总", "明细", "超时清单", "未办结及原因", "跨辖区转办", "未计入本期", "疑似重复", "业务分类", "报送情况",
          "考核", "考核-自来水营销服务中心", "考核-津源供水营销管理处", "校验问题", "说明"]
NAME, PHONE, BAD_PHONE = "欧阳娜娜", "13953387654", "1395338765"
INJECTED_NAME, INJECTED_REMARK, RAW_XML = '=HYPERLINK("http://x","y")', "@SUM(1)", "<r><t>x</t></r></is><f>1+1</f>"
MERGED_ID = "ZLS01-20261109-008"


def req(rid, day, hour=9, minute=0, reply_after=55, **changes):
    """A closed, on-time request received on 2026-11-day; reply_after=None leaves it unanswered."""
    received = datetime(2026, 11, day, hour, minute) if isinstance(day, int) else day
    replied = None if reply_after is None else received + timedelta(minutes=reply_after)
    values = good_row(request_id=rid, received_at=received, posted_at=received + timedelta(minutes=5),
                      replied_at=replied, closed_at=received + timedelta(days=1))
    values.update(changes)
    return values


def source(window, rows, submitted_at, *, name=None, kind="submission", findings=()):
    return Source(window, Path(name or f"{window}_2026-11.xlsx"), window.encode().hex().ljust(64, "0")[:64],
                  [LedgerRow(4 + i, dict(r)) for i, r in enumerate(rows)], kind, submitted_at,
                  sum(f.severity == "error" for f in findings), sum(f.severity == "warning" for f in findings),
                  list(findings))


def month(conf=CONFIG):
    """A realistic month: on time, late, open, refused, transferred, merged, carried, excluded, injected."""
    zls01 = [
        req("ZLS01-20261103-001", 3, applicant=NAME, phone=PHONE),
        req("ZLS01-20261104-002", 4, reply_after=210, applicant="淄博鑫源化工有限公司", install_type="工业", on_site="是"),
        req("ZLS01-20261105-003", 5, 10, reply_after=30, applicant=INJECTED_NAME, remarks=INJECTED_REMARK, address=RAW_XML),
        req("ZLS01-20261120-004", 20, reply_after=None, result="办理中", closed_at=None, svc_gas=True),
        req("ZLS01-20261106-005", 6, reply_after=40, result="无法办理", closed_at=None, unresolved_reason="不属于本单位业务"),
        req("ZLS01-20261107-006", 7, reply_after=45, result="无法办理", closed_at=None, unresolved_reason="管网未覆盖"),
        req("ZLS01-20261108-007", 8, reply_after=20, result="已转办", closed_at=None, transferred_to="国网淄博供电公司"),
        req(MERGED_ID, 9, reply_after=None, result="已转办", closed_at=None, transferred_to="开发区分公司"),
        req("ZLS01-20261126-009", 26, reply_after=None, result="办理中", closed_at=None),            # next period
        req("ZLS01-20261020-010", datetime(2026, 10, 20, 9, 0), reply_after=30, result="办理中", closed_at=None),
    ]
    bad_phone = F.make("phone-invalid", sheet="受理台账", row=5, column=BY_KEY["phone"].header, cell="L5", value=BAD_PHONE)
    missing = F.make("required-missing", sheet="受理台账", row=6, column=BY_KEY["channel"].header, cell="C6", value="")
    zls02 = [req(f"ZLS02-202611{d:02d}-00{i}", d, reply_after=m) for i, (d, m) in enumerate([(3, 100), (12, 130)], 1)]
    zls03 = [req(MERGED_ID, 9, 9, 20, reply_after=40, channel="联络群转入"),
             req("ZLS03-20261111-001", 11, reply_after=None, result="办理中", closed_at=None, unresolved_reason=""),
             req("ZLS03-20261112-002", 12, reply_after=125, result="办理中", closed_at=None, unresolved_reason="等待联合踏勘")]
    jy01 = sample_rows(conf.window("JY01"), PERIOD, conf, n=40, seed=3, now=NOW)
    zls05 = sample_rows(conf.window("ZLS05"), PERIOD, conf, n=25, seed=4, now=NOW)
    sources = [
        source("ZLS01", zls01, datetime(2026, 11, 24, 10, 0), findings=[bad_phone, missing]),
        source("ZLS02", zls02, datetime(2026, 11, 25, 0, 0), name="ZLS02_2026-11_重报.xlsx"),
        source("ZLS03", zls03, datetime(2026, 11, 24, 23, 59)),
        source("ZLS05", zls05, datetime(2026, 11, 23, 16, 0), kind="ledger"),
        source("JY01", jy01, datetime(2026, 11, 20, 8, 0)),
    ]
    old = source("ZLS02", zls02[:1], datetime(2026, 11, 22, 9, 0), name="ZLS02_2026-11.xlsx")
    collected = Collected(sources, superseded=[old], rejected=[{"file": "坏文件.xlsx", "reason": "文件已损坏"}],
                          skipped=[{"file": "说明.docx", "reason": "不是台账文件（.xlsx/.xlsm/.xls）"}])
    return consolidate(sources, PERIOD, conf, NOW), collected


def write(path, conf=CONFIG, **kw) -> tuple[ReportInfo, object]:
    cons, collected = month(conf)
    return write_report(path, consolidation=cons, collected=collected, config=conf, now=NOW, **kw), cons
