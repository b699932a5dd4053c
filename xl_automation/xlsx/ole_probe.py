"""Cheap refusals for legacy .xls (OLE compound files), from the container's own directory and the
BIFF globals' claims, before any parser sees the file.

A 25 KB .xls whose sector chains loop made the native parser allocate until the machine ran out of
memory; claimed sizes, string counts and sheet counts are checked against what the file can hold.
Nothing here allocates more than the file's size.
"""
from __future__ import annotations

import struct
from pathlib import Path

from xl_automation.model.ledger import LedgerError

MAX_SHEETS = 256                 # a ledger has 2-5 sheets; Excel files in the wild rarely pass 100
MAX_GRID_CELLS = 10_000_000      # a 100,000-row ledger is 2.7 million cells; 65,536 x 256 is 16.8 million
FAR_FACTOR, FAR_BYTES = 4, 32 << 20   # a claim past 4x the file and 32 MB is refused unparsed
_END, _FREE = 0xFFFFFFFE, 0xFFFFFFFF
_SPECIAL = 0xFFFFFFFA             # sector numbers from here up are markers, not sectors
_HEADER = 512


def check_container(path: Path, data: bytes) -> None:
    """LedgerError when the compound file's header, FAT chains or directory claim more than the file has."""
    try:
        _check_container(path, data)
    except struct.error:
        raise LedgerError("file-corrupt", path, detail="OLE 结构不完整（文件被截断）") from None


def _check_container(path: Path, data: bytes) -> None:
    if len(data) < _HEADER:
        raise LedgerError("file-corrupt", path, detail="OLE 文件头不完整")
    major, shift = struct.unpack_from("<H", data, 0x1A)[0], struct.unpack_from("<H", data, 0x1E)[0]
    if (major, shift) not in ((3, 9), (4, 12)):
        raise LedgerError("file-corrupt", path, detail=f"OLE 文件头的扇区大小无效（版本 {major}，2^{shift}）")
    size = 1 << shift
    sectors = max(0, (len(data) - size + size - 1) // size)   # the header takes the first sector
    n_fat, first_dir, _, _, first_mini, n_mini, first_difat, n_difat = struct.unpack_from("<8I", data, 0x2C)
    if _far_beyond(max(n_fat, n_mini, n_difat) * size, len(data)):
        raise _too_large(path, data, max(n_fat, n_mini, n_difat) * size)
    fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _SPECIAL]
    entries = size // 4
    s, seen = first_difat, set()
    for _ in range(n_difat):            # each DIFAT sector: FAT sector numbers, then the next DIFAT sector
        if s >= sectors or s in seen:
            raise LedgerError("file-corrupt", path, detail="OLE 扇区分配表链成环或指向文件之外")
        seen.add(s)
        *more, s = struct.unpack_from(f"<{entries}I", data, _offset(s, size))
        fat_sectors += [x for x in more if x < _SPECIAL]
    fat: list[int] = []
    for s in fat_sectors[:n_fat]:
        # a FAT sector past the end (a truncated file) frees its sectors: chains through them fail below
        fat += struct.unpack_from(f"<{entries}I", data, _offset(s, size)) if s < sectors else (_FREE,) * entries
    directory = _chain(path, first_dir, fat, sectors)
    if n_mini:
        _chain(path, first_mini, fat, sectors)
    for s in directory:
        base = _offset(s, size)
        for e in range(size // 128):
            entry = data[base + e * 128: base + (e + 1) * 128]
            if len(entry) < 128:                # a truncated file ends inside its directory: no more entries
                break
            kind, start, low, high = entry[66], *struct.unpack_from("<III", entry, 116)
            if kind not in (1, 2, 5):
                continue
            claimed = low if major == 3 else low | high << 32     # MS-CFB: v3 readers ignore the high half
            if _far_beyond(claimed, len(data)):
                raise _too_large(path, data, claimed)
            if start < _SPECIAL and (kind == 5 or (kind == 2 and claimed >= 4096)):
                _chain(path, start, fat, sectors)


def check_biff(path: Path, biff: bytes, sheet_offsets: dict[str, int], sst_unique: int | None,
               dimensions: dict[str, tuple[int, int]]) -> None:
    """LedgerError when the BIFF globals claim more sheets, strings or cells than a ledger could have."""
    if len(sheet_offsets) > MAX_SHEETS:
        raise LedgerError("file-too-large", path, detail=f"工作簿声明了 {len(sheet_offsets):,} 个工作表")
    if sst_unique is not None and _far_beyond(sst_unique * 3, len(biff)):
        # every string takes at least three bytes of the stream
        raise _too_large(path, biff, sst_unique * 3, what=f"{sst_unique:,} 个字符串")
    for name, (rows, cols) in dimensions.items():
        if rows * cols > MAX_GRID_CELLS:
            raise LedgerError("file-too-large", path, detail=f"工作表“{name}”声明了 {rows:,} 行 × {cols:,} 列"
                                                           f"（{rows * cols / 1e4:,.0f} 万个单元格）")


def _offset(sector: int, size: int) -> int:
    return size + sector * size


def _chain(path: Path, start: int, fat: list[int], sectors: int) -> list[int]:
    """The sectors of a chain; LedgerError when it loops, leaves the file or ends in a free sector
    (a looping chain is what made the native parser allocate without end)."""
    out, seen, s = [], set(), start
    while s != _END:
        if s >= sectors or s >= len(fat) or s in seen:
            raise LedgerError("file-corrupt", path, detail="OLE 扇区链成环或指向文件之外")
        seen.add(s)
        out.append(s)
        s = fat[s]
        if s == _FREE or _SPECIAL <= s < _END:
            raise LedgerError("file-corrupt", path, detail="OLE 扇区链中断")
    return out


def _far_beyond(claimed: int, actual: int) -> bool:
    """A claim no parser should be allowed to allocate for: well past the file and past a few MB."""
    return claimed > max(FAR_FACTOR * actual, FAR_BYTES)


def _too_large(path: Path, data: bytes, claimed: int, what: str = "") -> LedgerError:
    return LedgerError("file-too-large", path, detail=f"文件结构声明的内容{what and '（' + what + '）'}约 "
                                                      f"{claimed / (1 << 20):,.0f} MB，而文件只有 {len(data) / 1024:,.0f} KB")
