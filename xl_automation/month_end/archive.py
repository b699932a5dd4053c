"""The group's archive: one SQLite file that remembers every consolidated period.

Schema versioned by PRAGMA user_version with numbered migrations; a newer or foreign database is
refused, never overwritten. WAL on a local disk; on a network share rollback journal with an exclusive
lock. A consolidation holds one BEGIN IMMEDIATE transaction from reading what is known to recording its
result, so two consolidations serialise and a crash leaves the file as it was.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

from xl_automation.model.text import id_key
from xl_automation.rules.cross_month import Known
from xl_automation.month_end.row_cache import decode, encode

DEFAULT_NAME = "综合受理归档.sqlite"
APPLICATION_ID = 0x5A425357          # "ZBSW": tells our archive from any other SQLite file
NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "ncpfs", "davfs", "fuse.davfs2"}

MIGRATIONS: list[str] = [
    # 1: runs, the requests each run reported, the open requests it found dropped, its figures
    """
    CREATE TABLE runs(
        id INTEGER PRIMARY KEY, period TEXT NOT NULL, run_at TEXT NOT NULL, recorded_at TEXT NOT NULL,
        current INTEGER NOT NULL DEFAULT 1, tool_version TEXT NOT NULL, inputs TEXT NOT NULL);
    CREATE INDEX runs_period ON runs(period, current);
    CREATE TABLE requests(
        id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), window TEXT NOT NULL,
        key TEXT NOT NULL, request_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('received', 'late_reported', 'carried')),
        first_period TEXT NOT NULL, is_open INTEGER NOT NULL, received_at TEXT, phone TEXT NOT NULL,
        values_json TEXT NOT NULL, source_file TEXT NOT NULL, sha256 TEXT NOT NULL, excel_row INTEGER NOT NULL);
    CREATE INDEX requests_run ON requests(run_id);
    CREATE INDEX requests_key ON requests(window, key);
    CREATE TABLE dropped_open(
        run_id INTEGER NOT NULL REFERENCES runs(id), window TEXT NOT NULL, key TEXT NOT NULL,
        request_id TEXT NOT NULL, last_period TEXT NOT NULL);
    CREATE TABLE figures(
        run_id INTEGER NOT NULL REFERENCES runs(id), scope TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
        received INTEGER NOT NULL, late_reported INTEGER NOT NULL, carried_over INTEGER NOT NULL,
        dropped_open INTEGER NOT NULL, handled INTEGER NOT NULL, on_time INTEGER NOT NULL, overdue INTEGER NOT NULL,
        on_time_rate REAL, closed INTEGER NOT NULL, closure_rate REAL, score REAL,
        PRIMARY KEY (run_id, scope, code));
    CREATE VIEW current_runs AS SELECT * FROM runs WHERE current = 1;
    """,
    # 2: parsed rows of input files by sha256, so a re-run reads only the files that changed; phones indexed
    """
    CREATE TABLE file_cache(sha256 TEXT PRIMARY KEY, rows_json TEXT NOT NULL, used_at TEXT NOT NULL);
    CREATE INDEX requests_phone ON requests(phone, run_id, role);
    """,
    # 3: whether a request's values are its source row's as read (0) or merged with a transfer's (1); NULL in
    # runs recorded before: a re-run copies values_json of unmerged rows of unchanged files instead of
    # encoding 30,000 rows again (Archive.add_requests)
    """
    ALTER TABLE requests ADD COLUMN merged INTEGER;
    """,
    # 4: keys of requests with a 受理编号 folded as model.text.id_key folds them ('zls01-…' is 'ZLS01-…'); the
    # ids themselves stay as typed. id_key() is the Python function, registered for the migration
    """
    UPDATE requests SET key = id_key(request_id) WHERE id_key(request_id) <> '' AND key <> id_key(request_id);
    UPDATE dropped_open SET key = id_key(request_id) WHERE id_key(request_id) <> '' AND key <> id_key(request_id);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class ArchiveError(Exception):
    """The archive cannot be used; the message names the file and says what to do."""


def default_path(folder: Path) -> Path:
    """报送/2026-11 → 报送/综合受理归档.sqlite (the folder that holds the period folders)."""
    return Path(folder).resolve().parent / DEFAULT_NAME


def resolve_path(folder: Path, option: str | None, config_value: str | None) -> Path:
    if option:
        return Path(option)
    if config_value:
        return Path(config_value)
    return default_path(folder)


def is_network_path(path: Path) -> bool:
    """A UNC path, a mapped network drive (Windows), or a network file system mount (Linux)."""
    text = str(path)
    if text.startswith(("\\\\", "//")):
        return True
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import ctypes
        drive = os.path.splitdrive(os.path.abspath(text))[0]
        return bool(drive) and ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == 4   # DRIVE_REMOTE
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    real = os.path.realpath(path.parent if not path.exists() else path)
    best, fstype = "", ""
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3:
            point = parts[1].replace("\\040", " ")
            if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
                best, fstype = point, parts[2]
    return fstype in NETWORK_FS


def dump_values(values) -> str:
    """A row's values as JSON (row_cache's encoding: datetimes, dates without time and unreadable cells kept)."""
    return json.dumps({k: encode(v) for k, v in values.items() if v is not None}, ensure_ascii=False)


def load_values(text: str) -> dict[str, Any]:
    return {k: decode(v) for k, v in json.loads(text).items()}


@dataclass
class Archive:
    path: Path
    conn: sqlite3.Connection
    notes: list[str] = field(default_factory=list)     # said to the user (journal mode on a share…)
    new: bool = False                                   # created by this run: nothing was known before

    # --- reading --------------------------------------------------------------
    def known_before(self, period_label: str, keys: Iterable[str] | None = None) -> dict[tuple[str, str], Known]:
        """Every request of earlier periods' current runs: first counted where, last seen where, open then.
        With `keys` (the request keys of this period's rows) only those and the ones still open at their
        last report: all that the cross-month rules look at (a year holds hundreds of thousands)."""
        having = ""
        if keys is not None:
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted(key TEXT PRIMARY KEY)")
            self.conn.execute("DELETE FROM wanted")
            self.conn.executemany("INSERT OR IGNORE INTO wanted(key) VALUES (?)", ((k,) for k in keys))
            having = " HAVING q.is_open = 1 OR q.key IN (SELECT key FROM wanted)"
        # one max() per query: SQLite then takes the bare columns (is_open, id) from that row, documented
        last_sql = """
            SELECT q.window, q.key, q.request_id, MAX(r.period), q.is_open, q.id
            FROM requests q JOIN runs r ON r.id = q.run_id
            WHERE r.current = 1 AND r.period < ? {where} GROUP BY q.window, q.key{having}"""
        last = self._q(last_sql.format(where="", having=having), (period_label,))
        if keys is not None:
            # every window's record of a key still open somewhere (a request first counted by the window it
            # was transferred to, later merged with its origin): looked up by the (window, key) index
            windows = sorted({w for w, *_ in last} | {w for (w,) in self._q(
                "SELECT DISTINCT code FROM figures WHERE scope = 'window'")})
            extra = {k for _, k, _, _, is_open, _ in last if is_open}
            self.conn.executemany("INSERT OR IGNORE INTO wanted(key) VALUES (?)", ((k,) for k in extra))
            if extra and len(windows) > 1:
                have = {(w, k) for w, k, *_ in last}
                marks = ",".join("?" * len(windows))
                last += [row for row in self._q(last_sql.format(
                    where=f"AND q.window IN ({marks}) AND q.key IN (SELECT key FROM wanted)", having=""),
                    (period_label, *windows)) if (row[0], row[1]) not in have]
        first = dict(((w, k), p) for w, k, p in self._q(f"""
            SELECT q.window, q.key, MIN(r.period) FROM requests q JOIN runs r ON r.id = q.run_id
            WHERE r.current = 1 AND r.period < ? AND q.role != 'carried'
            {"AND q.key IN (SELECT key FROM wanted)" if keys is not None else ""}
            GROUP BY q.window, q.key""", (period_label,)))
        return {(w, k): Known(w, k, rid, first.get((w, k), period), period, bool(is_open), ref)
                for w, k, rid, period, is_open, ref in last}

    def values_of(self, known: Known) -> dict[str, Any]:
        row = self._q("SELECT values_json FROM requests WHERE id = ?", (known.ref,))
        return load_values(row[0][0]) if row else {}

    def has_period(self, period_label: str) -> bool:
        return bool(self._q("SELECT 1 FROM runs WHERE period = ? AND current = 1", (period_label,)))

    def periods(self) -> list[str]:
        return [p for (p,) in self._q("SELECT DISTINCT period FROM runs WHERE current = 1 ORDER BY period")]

    def run_count(self, period_label: str) -> int:
        return self._q("SELECT count(*) FROM runs WHERE period = ?", (period_label,))[0][0]

    def figures_of(self, period_label: str) -> dict[str, dict[str, Any]]:
        """{code: figures} of a period's current run (windows, companies, and GROUP)."""
        cur = self.conn.execute(
            "SELECT f.* FROM figures f JOIN runs r ON r.id = f.run_id WHERE r.current = 1 AND r.period = ?",
            (period_label,))
        names = [c[0] for c in cur.description]
        return {row[names.index("code")]: dict(zip(names, row)) for row in cur.fetchall()}

    def received_in_year(self, period_label: str) -> dict[str, int]:
        """{code: received} summed over the current runs of the same year's periods before this one."""
        rows = self._q("SELECT f.code, SUM(f.received) FROM figures f JOIN runs r ON r.id = f.run_id"
                       " WHERE r.current = 1 AND r.period >= ? AND r.period < ? GROUP BY f.code",
                       (period_label[:4] + "-01", period_label))
        return {code: int(n) for code, n in rows}

    def cached_text(self, sha256: str) -> str | None:
        row = self._q("SELECT rows_json FROM file_cache WHERE sha256 = ?", (sha256,))
        return row[0][0] if row else None

    def _q(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as e:
            raise damaged(self.path, e) from e

    # --- writing (inside transaction()) ----------------------------------------
    @contextmanager
    def transaction(self) -> Iterator["Archive"]:
        """BEGIN IMMEDIATE … COMMIT; any exception rolls everything back. Waits for another writer."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise ArchiveError(f"归档数据库 {self.path} 正被另一次汇总使用，等待后仍未释放。"
                                   "请等另一次汇总结束后再运行") from e
            raise damaged(self.path, e) from e
        except sqlite3.DatabaseError as e:
            raise damaged(self.path, e) from e
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        try:
            self.conn.commit()
        except sqlite3.DatabaseError as e:
            self.conn.rollback()
            raise damaged(self.path, e) from e

    def begin_run(self, period_label: str, run_at: datetime, inputs: list[dict[str, Any]], tool_version: str) -> int:
        """A new current run for the period; earlier runs of it stay as history (current = 0)."""
        self.conn.execute("UPDATE runs SET current = 0 WHERE period = ?", (period_label,))
        cur = self.conn.execute(
            "INSERT INTO runs(period, run_at, recorded_at, current, tool_version, inputs) VALUES (?,?,?,1,?,?)",
            (period_label, run_at.isoformat(sep=" "), datetime.now().isoformat(sep=" ", timespec="seconds"),
             tool_version, json.dumps(inputs, ensure_ascii=False)))
        return int(cur.lastrowid)

    def current_run(self, period_label: str) -> int | None:
        row = self._q("SELECT id FROM runs WHERE period = ? AND current = 1", (period_label,))
        return int(row[0][0]) if row else None

    def raw_values_of(self, run_id: int) -> dict[tuple[str, int], int]:
        """(sha256, excel_row) → requests.id of a run's requests whose values are their source row's as read:
        the same row of the same file (an immutable copy, by its sha256) has the same values_json."""
        return {(sha, row): i for i, sha, row in self._q(
            "SELECT id, sha256, excel_row FROM requests WHERE run_id = ? AND merged = 0 AND sha256 != ''", (run_id,))}

    def add_requests(self, run_id: int, rows: Iterable[tuple]) -> None:
        """rows: (window, key, request_id, role, first_period, is_open, received_at, phone, values_json, same_as,
        source_file, sha256, excel_row, merged). same_as: None, or an earlier request of the same file and row
        with the values as read (Archive.raw_values_of); then key, request_id, is_open, received_at, phone and
        values_json, which follow from the values alone, are copied from it (pass None for them)."""
        from itertools import groupby
        columns = ("INSERT INTO requests(run_id, window, key, request_id, role, first_period, is_open, received_at,"
                   " phone, values_json, source_file, sha256, excel_row, merged)")
        fresh = columns + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        # a stretch of copies goes through a temporary table and one INSERT … SELECT (ordered as given): a
        # copying INSERT per row costs twice as much in SQLite as the rows themselves (28,000 rows of a re-run)
        copied = columns + (" SELECT ?, c.window, o.key, o.request_id, c.role, c.first_period, o.is_open, o.received_at,"
                            " o.phone, o.values_json, c.source_file, c.sha256, c.excel_row, c.merged"
                            " FROM temp.copies c JOIN requests o ON o.id = c.same_as ORDER BY c.seq")
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS copies(seq INTEGER PRIMARY KEY, window TEXT, role TEXT,"
                          " first_period TEXT, source_file TEXT, sha256 TEXT, excel_row INTEGER, merged INTEGER,"
                          " same_as INTEGER)")
        # in the order given (ids follow it, as in a first run), each stretch of one kind in one call
        for is_copy, stretch in groupby(rows, key=lambda r: r[9] is not None):
            if is_copy:
                self.conn.execute("DELETE FROM temp.copies")
                self.conn.executemany("INSERT INTO temp.copies(window, role, first_period, source_file, sha256,"
                                      " excel_row, merged, same_as) VALUES (?,?,?,?,?,?,?,?)",
                                      ((r[0], r[3], r[4], *r[10:14], r[9]) for r in stretch))
                self.conn.execute(copied, (run_id,))
            else:
                self.conn.executemany(fresh, ((run_id, *r[:9], *r[10:14]) for r in stretch))

    def add_dropped(self, run_id: int, rows: Iterable[tuple[str, str, str, str]]) -> None:
        self.conn.executemany("INSERT INTO dropped_open(run_id, window, key, request_id, last_period)"
                              " VALUES (?,?,?,?,?)", ((run_id, *r) for r in rows))

    def add_figures(self, run_id: int, rows: Iterable[dict[str, Any]]) -> None:
        self.conn.executemany(
            "INSERT INTO figures(run_id, scope, code, name, received, late_reported, carried_over, dropped_open,"
            " handled, on_time, overdue, on_time_rate, closed, closure_rate, score) VALUES (:run_id, :scope, :code,"
            " :name, :received, :late_reported, :carried_over, :dropped_open, :handled, :on_time, :overdue,"
            " :on_time_rate, :closed, :closure_rate, :score)", (dict(r, run_id=run_id) for r in rows))

    def cache_text(self, sha256: str, text: str, when: datetime) -> None:
        self.conn.execute("INSERT OR REPLACE INTO file_cache(sha256, rows_json, used_at) VALUES (?,?,?)",
                          (sha256, text, when.isoformat(sep=" ")))

    def touch_cache(self, used: list[str], when: datetime, older_than: datetime) -> None:
        stamp = when.isoformat(sep=" ")
        self.conn.executemany("UPDATE file_cache SET used_at = ? WHERE sha256 = ?", ((stamp, s) for s in used))
        self.conn.execute("DELETE FROM file_cache WHERE used_at < ?", (older_than.isoformat(sep=" "),))

    def close(self) -> None:
        self.conn.close()


def damaged(path: Path, e: Exception) -> ArchiveError:
    return ArchiveError(f"归档数据库 {path} 已损坏或不是本程序的归档（{e}）。程序不会覆盖它："
                        "请从备份恢复，或用 --archive 指定另一个文件，或加 --no-archive 只按本期数据汇总")


def open_archive(path: Path, *, busy_seconds: float = 60.0, create: bool = True) -> Archive:
    """Open (and create or migrate) the archive; refuses newer, foreign and damaged files."""
    path = Path(path)
    if path.is_dir():
        raise ArchiveError(f"归档数据库 {path} 是一个文件夹：请指定归档文件本身（--archive 或配置 archive.path），如 {path / DEFAULT_NAME}")
    existed = path.exists() and path.stat().st_size > 0
    if not existed and not create:
        if path.exists():
            raise ArchiveError(f"归档数据库 {path} 是空文件（0 字节），没有任何记录：请从备份恢复，"
                               "或用 --archive 指定另一个文件；运行 consolidate 会在其中建立归档")
        raise ArchiveError(f"找不到归档数据库 {path}：请先运行 consolidate 生成它，或用 --archive 指定它的位置")
    if not path.parent.is_dir():
        raise ArchiveError(f"归档数据库所在的文件夹 {path.parent} 不存在：请先建立它，或用 --archive 指定另一个位置")
    try:
        conn = sqlite3.connect(path, timeout=busy_seconds, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as e:
        raise ArchiveError(f"无法打开归档数据库 {path}：{e}") from e
    archive = Archive(path, conn, new=not existed)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
        app_id, version = (conn.execute("PRAGMA application_id").fetchone()[0],
                           conn.execute("PRAGMA user_version").fetchone()[0])
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != APPLICATION_ID and (tables or version):
            raise ArchiveError(f"{path} 是一个 SQLite 数据库，但不是综合受理归档（未知的结构）。程序不会改动它："
                               "请用 --archive 指定归档文件，或把它移走")
        if version > SCHEMA_VERSION:
            raise ArchiveError(f"归档数据库 {path} 的结构版本为 {version}，比本程序支持的 {SCHEMA_VERSION} 新："
                               "它由更新版本的程序建立。请升级 xl-automation 后再运行；程序不会改动它")
        _journal(archive)
        if version < SCHEMA_VERSION:
            _migrate(conn, version)
    except ArchiveError:
        conn.close()
        raise
    except sqlite3.DatabaseError as e:
        conn.close()
        raise unwritable(path, e) if _cannot_write(e) else damaged(path, e) from e
    return archive


def _cannot_write(e: Exception) -> bool:
    text = str(e).lower()
    return isinstance(e, sqlite3.OperationalError) and any(
        k in text for k in ("unable to open", "readonly", "read-only", "disk i/o", "permission"))


def unwritable(path: Path, e: Exception) -> ArchiveError:
    return ArchiveError(f"无法写入归档数据库 {path}（{e}）：请确认对它和所在文件夹有写权限、磁盘未满，"
                        "或用 --archive 指定另一个位置，或加 --no-archive 只按本期数据汇总")


def _journal(archive: Archive) -> None:
    conn = archive.conn
    if is_network_path(archive.path):
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        archive.notes.append(f"归档数据库 {archive.path} 在网络共享上：SQLite 的 WAL 模式在网络文件系统上不可靠，"
                             f"改用回滚日志（{mode}）并独占锁定，运行期间其他人无法读取它")
    else:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            archive.notes.append(f"归档数据库 {archive.path} 无法使用 WAL 模式，使用 {mode} 模式")
    conn.execute("PRAGMA synchronous = FULL" if str(mode).lower() != "wal" else "PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # an archive file can come from elsewhere (a backup, a copy handed over): its views and triggers may not
    # call functions with side effects or this program's own (SQLite ≥ 3.31; older ones ignore the pragma)
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA cache_size = -65536")


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Apply migrations version+1 … latest, each with its user_version bump, in one transaction."""
    conn.create_function("id_key", 1, id_key, deterministic=True)
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]   # another process may have migrated
        for number in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
