"""A seeded mutation fuzzer for workbook files: byte flips, truncation, inflated sizes in zip local and
central headers and in OLE headers and directory entries, looping OLE sector chains, swapped XML parts.

    cases(seeds, count, seed) -> [(name, bytes)]   the same list for the same arguments
"""
from __future__ import annotations

import io
import random
import struct
import zipfile
from pathlib import Path
from typing import Callable

ZIP_LOCAL, ZIP_CENTRAL = b"PK\x03\x04", b"PK\x01\x02"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HUGE = (0xFFFFFF00, 0x7FFFFFFF, 0x40000000, 0x10000000)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice((1, 4, 32))):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(1, len(data))]


def _patch_all(data: bytes, magic: bytes, offset: int, rng: random.Random) -> bytes:
    out = bytearray(data)
    spots = [i for i in range(len(out)) if out.startswith(magic, i)]
    for i in rng.sample(spots, k=max(1, len(spots) // 3)) if spots else []:
        struct.pack_into("<I", out, i + offset, rng.choice(HUGE))
    return bytes(out)


def zip_local_sizes(data: bytes, rng: random.Random) -> bytes:
    """Uncompressed size in local file headers (offset 22)."""
    return _patch_all(data, ZIP_LOCAL, 22, rng)


def zip_central_sizes(data: bytes, rng: random.Random) -> bytes:
    """Uncompressed size in central directory entries (offset 24): what unzip tools trust."""
    return _patch_all(data, ZIP_CENTRAL, 24, rng)


def swap_parts(data: bytes, rng: random.Random) -> bytes:
    """Two XML parts exchange their contents (a sheet where the workbook should be, and so on)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = [n for n in parts if n.endswith((".xml", ".rels"))]
    a, b = rng.sample(xml, 2)
    parts[a], parts[b] = parts[b], parts[a]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return buf.getvalue()


def ole_header(data: bytes, rng: random.Random) -> bytes:
    """FAT / mini FAT / DIFAT sector counts or the directory start in the compound file header."""
    out = bytearray(data)
    offset = rng.choice((0x2C, 0x30, 0x3C, 0x40, 0x44, 0x48, 0x4C))
    struct.pack_into("<I", out, offset, rng.choice(HUGE + (0, 1, 0xFFFFFFFE)))
    return bytes(out)


def ole_stream_size(data: bytes, rng: random.Random) -> bytes:
    """The size of the Workbook stream in its directory entry."""
    out = bytearray(data)
    name = "Workbook".encode("utf-16-le")
    i = out.find(name)
    if i >= 0 and i % 128 == 0:
        struct.pack_into("<I", out, i + 120, rng.choice(HUGE))
    return bytes(out)


def ole_chain_loop(data: bytes, rng: random.Random) -> bytes:
    """A FAT entry pointing back into its own chain: the loop that made a parser allocate forever."""
    out = bytearray(data)
    shift = struct.unpack_from("<H", out, 0x1E)[0]
    size = 1 << shift if shift in (9, 12) else 512
    fat_sector = struct.unpack_from("<I", out, 0x4C)[0]
    base = size + fat_sector * size
    if base + size <= len(out):
        entry = rng.randrange(size // 4)
        struct.pack_into("<I", out, base + entry * 4, max(0, entry - rng.choice((0, 1, 3))))
    return bytes(out)


ZIP_MUTATORS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip": flip_bytes, "truncate": truncate, "zip-local-size": zip_local_sizes,
    "zip-central-size": zip_central_sizes, "swap-parts": swap_parts}
OLE_MUTATORS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip": flip_bytes, "truncate": truncate, "ole-header": ole_header, "ole-stream-size": ole_stream_size,
    "ole-chain-loop": ole_chain_loop}


def cases(seeds: list[Path], count: int, seed: int = 8) -> list[tuple[str, bytes]]:
    """count mutants, cycling through the seeds and through every mutator that fits each seed."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        path = seeds[i % len(seeds)]
        data = path.read_bytes()
        table = OLE_MUTATORS if data.startswith(OLE_MAGIC) else ZIP_MUTATORS
        kind = list(table)[(i // len(seeds)) % len(table)]
        out.append((f"{i:03d}-{kind}-{path.stem}{path.suffix}", table[kind](data, rng)))
    return out
