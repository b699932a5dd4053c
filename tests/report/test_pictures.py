"""The README's picture is what LibreOffice renders from the program's own output today (kept fresh)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from support.png import read_png
from xl_automation.excel.build import REPO
from xl_automation.report.pdf import export_pdf
from xl_automation.demo.pictures import (BULLETIN_PICTURE, LEDGER_PICTURE, build_pictures, bulletin_example,
                                    ledger_example, render_first_page)
from xl_automation.xlsx.template import default_config

pytestmark = pytest.mark.libreoffice
REBUILD = "python -m xl_automation build-pictures docs"


def differing_share(a: Path, b: Path) -> float:
    """Share of pixels whose grey level differs by more than 48 (antialiasing and font hinting may move)."""
    x, y = read_png(a).astype(np.int16), read_png(b).astype(np.int16)
    assert x.shape == y.shape, f"{a.name}: {x.shape} vs {y.shape}; run: {REBUILD}"
    return float((np.abs(x - y).max(axis=2) > 48).mean())


def test_committed_pictures_are_what_the_build_renders(tmp_path):
    fresh = build_pictures(tmp_path, default_config())
    assert [p.name for p in fresh] == [LEDGER_PICTURE, BULLETIN_PICTURE]
    for png in fresh:
        share = differing_share(REPO / "docs" / png.name, png)
        assert share < 0.005, f"docs/{png.name} is stale ({share:.1%} of pixels differ); run: {REBUILD}"
        assert f"docs/{png.name}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_the_bulletin_picture_is_an_a4_page_with_text_and_charts(tmp_path):
    png = render_first_page(bulletin_example(tmp_path / "m", default_config()), tmp_path / "通报.png")
    img = read_png(png).astype(np.int16)
    h, w, _ = img.shape
    assert (w, h) == (993, 1404)                                 # A4 portrait at 120 dpi
    blue = int(((img[..., 2] - img[..., 0] > 60) & (img[..., 2] > 100)).sum())
    ink = int((img.max(axis=2) < 100).sum())
    assert blue > 5000, "the charts' bars are drawn"
    assert ink > 0.01 * w * h, "the page has text"


def test_the_picture_shows_the_filled_ledger_and_its_marks(tmp_path):
    book = ledger_example(tmp_path / "台账.xlsx", default_config())
    png = render_first_page(book, tmp_path / "台账.png")
    img = read_png(png).astype(np.int16)
    h, w, _ = img.shape
    assert (w, h) == (1404, 993)                                 # A4 landscape at 120 dpi
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    marked = int(((r > 200) & (g > 150) & (g < 230) & (b < 200) & (r - b > 40)).sum())
    ink = int((img.max(axis=2) < 100).sum())
    assert marked > 2000, "the 校验 fills (red/yellow) are visible"
    assert ink > 0.01 * w * h, "the page has text, not an empty sheet"


def test_render_first_page_takes_a_pdf_and_leaves_the_source_alone(tmp_path):
    book = ledger_example(tmp_path / "台账.xlsx", default_config())
    before = book.read_bytes()
    a = render_first_page(book, tmp_path / "a.png", dpi=40)
    pdf = export_pdf(book)
    b = render_first_page(pdf, tmp_path / "b.png", dpi=40)
    assert book.read_bytes() == before and not (tmp_path / "page.xlsx").exists()
    assert read_png(a).shape == read_png(b).shape and differing_share(a, b) < 0.005
