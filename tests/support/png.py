"""Reading the PNGs pdftoppm writes (8-bit RGB or grey, not interlaced) into numpy, for the picture tests.

Not Pillow: with Pillow installed openpyxl keeps pictures it otherwise drops, which changes what the
annotate tests prove; the tests must not depend on an extra library to look at a picture.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

CHANNELS = {0: 1, 2: 3}          # PNG colour type -> samples per pixel


def read_png(path: Path) -> np.ndarray:
    """Height × width × channels, uint8."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (n,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in CHANNELS and not interlace, f"{path}: unsupported PNG {header}"
    bpp = CHANNELS[colour]
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            cur = line.copy()
        elif kind == 1:                       # Sub: a running sum per channel
            cur = np.cumsum(line.reshape(-1, bpp).astype(np.int64), axis=0).astype(np.uint8).reshape(-1)
        elif kind == 2:                       # Up
            cur = (line.astype(np.int64) + prev).astype(np.uint8)
        else:                                 # Average, Paeth: each byte needs the one just decoded
            cur = _sequential(kind, line.tolist(), prev.tolist(), bpp)
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp)


def _sequential(kind: int, line: list[int], up: list[int], bpp: int) -> np.ndarray:
    cur = [0] * len(line)
    for i, x in enumerate(line):
        a = cur[i - bpp] if i >= bpp else 0
        b = up[i]
        if kind == 3:
            cur[i] = (x + (a + b) // 2) & 0xFF
            continue
        c = up[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        cur[i] = (x + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return np.array(cur, dtype=np.uint8)
