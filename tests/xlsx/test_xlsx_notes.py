"""A sheet's notes in parts: the comments part (text, authors) and the VML boxes' styles, each alone.
Notes written into real workbooks and read back by openpyxl, Excel's rules and LibreOffice: test_annotate*.py."""
from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, strategies as st

from xl_automation.xlsx.xlsx_notes import Comments
from xl_automation.xlsx.xlsx_vml import _with_box


class _Package:
    """Just what Comments asks of a package for a sheet without notes yet."""

    def __init__(self):
        self.saved, self.rels, self.overrides = {}, [], []

    def target(self, part, kind):
        return None

    def new_name(self, pattern):
        return pattern % 1

    def add_rel(self, source, kind, target):
        self.rels.append((source, kind, target))

    def set_override(self, part, content_type):
        self.overrides.append(part)

    def save_xml(self, part, root):
        self.saved[part] = root


names = st.sampled_from(["张敏", "综合受理校验", "王强", ""])


@given(st.lists(st.tuples(st.integers(1, 9), st.integers(1, 5), names, st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cn")), min_size=1)),
                min_size=1))
def test_each_cell_keeps_its_last_note_and_author(notes):
    pkg = _Package()
    comments = Comments(pkg, SimpleNamespace(part="xl/worksheets/sheet1.xml"))
    last = {}
    for row, col, author, text in notes:
        comments.set_text(row, col, text, author)
        last[(row, col)] = (text, author)
    assert pkg.rels == [("xl/worksheets/sheet1.xml", "comments", "xl/comments1.xml")]    # the part made once
    for cell, (text, author) in last.items():
        el = comments.elements[cell]
        assert "".join(el.itertext()) == text and comments.author_of(el) == author
    authors = [a.text or "" for a in comments.root.find("{*}authors")]
    assert len(authors) == len(set(authors))                                 # each author listed once


def test_our_author_goes_when_none_of_our_notes_is_left():
    pkg = _Package()
    comments = Comments(pkg, SimpleNamespace(part="xl/worksheets/sheet1.xml"))
    comments.set_text(2, 2, "用户的批注", "张敏")
    comments.set_text(3, 2, "程序的批注", "综合受理校验")
    assert comments.remove(3, 2) and not comments.remove(3, 2)
    comments.save("综合受理校验")
    assert [a.text for a in pkg.saved["xl/comments1.xml"].find("{*}authors")] == ["张敏"]


declaration = st.tuples(st.sampled_from(["position", "margin-left", "width", "height", "z-index", "visibility"]),
                        st.from_regex(r"[a-z0-9.]{1,6}", fullmatch=True))


@given(st.lists(declaration, unique_by=lambda d: d[0]), st.integers(1, 999), st.integers(1, 999))
def test_a_box_gets_its_size_and_keeps_every_other_declaration_in_place(items, width, height):
    style = ";".join(f"{k}:{v}" for k, v in items)
    out = dict(kv.split(":", 1) for kv in _with_box(style, width, height).split(";"))
    assert out["width"] == f"{width}px" and out["height"] == f"{height}px"
    kept = [k for k, _ in items]
    assert [k for k in out if k in kept] == kept
    assert all(out[k] == v for k, v in items if k not in ("width", "height"))
