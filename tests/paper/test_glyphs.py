"""Fonts: the paper draws with fonts the project ships or depends on, CJK text is real glyphs
(not the font's .notdef box), and a character no font has is drawn as a visible replacement
mark and reported — in the virtual printer's job.json and in the preview's log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from escpos809 import document as d
from escpos809.emulator import VirtualPrinter
from escpos809.emulator.interpreter import read_bytes
from escpos809.paper import draw, glyphs
from escpos809.printer import Printer
from escpos809.receipt import preview
from tests.conftest import h

UNASSIGNED = "\u0378"  # no character there: no font has a glyph for it


def dots(img: Image.Image) -> np.ndarray:
    return np.array(img) < 128


def notdef(face: glyphs.FontFace, w: int, h: int, px: int) -> np.ndarray:
    """What the font itself draws for a character it lacks: its .notdef glyph (the tofu box)."""
    img = Image.new("L", (w, h), 255)
    font = ImageFont.truetype(face.path, px, index=face.index)
    ImageDraw.Draw(img).text((w / 2, h * 0.45), UNASSIGNED, font=font, fill=0, anchor="mm")
    return dots(img.point([0] * 128 + [255] * 128))


@pytest.fixture
def fresh_fonts():
    """Font look-ups and drawn cells forgotten before and after (a test changes the fonts)."""

    def forget():
        for cached in (glyphs.faces, glyphs.face_for, glyphs.glyph, glyphs._font, glyphs._charmap):
            cached.cache_clear()
        draw._ARRAYS.clear()
        glyphs.MISSING.clear()

    forget()
    yield
    forget()


def test_the_fonts_are_the_projects_own():
    latin, cjk = glyphs.faces()
    assert latin.name == "DejaVu Sans Mono" and Path(latin.path).is_file()
    assert Path(latin.path).parent == Path(glyphs.__file__).with_name("fonts")  # shipped in the package
    assert (Path(latin.path).parent / "LICENSE-DejaVu.txt").is_file()
    assert cjk.name == "Noto Sans CJK SC" and "noto_cjk_sans_otc" in cjk.path  # the dependency's file


@pytest.mark.parametrize("char", ["中", "充", "電", "￥", "あ"])
def test_cjk_is_drawn_from_the_cjk_font_and_is_not_tofu(char):
    face = glyphs.face_for(char, double_byte=True)
    assert face is not None and face.name == "Noto Sans CJK SC"
    cell = dots(glyphs.glyph(char, 24, 24, double_byte=True))
    box = notdef(face, 24, 24, round(24 * 0.9))
    assert box.any() and cell.any()  # the font's .notdef is a visible box; the glyph has ink
    assert (cell != box).sum() > 20  # and it is not that box
    assert char not in glyphs.MISSING


def test_gb2312_hanzi_all_have_a_glyph():
    """Every hanzi of GB 2312 (the 6,763 in everyday use; GB18030 two-byte area B0A1-F7FE)."""
    hanzi = []
    for first in range(0xB0, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                hanzi.append(bytes([first, second]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    assert len(hanzi) == 6763
    assert [c for c in hanzi if glyphs.face_for(c, double_byte=True) is None] == []


def test_latin_text_uses_the_shipped_font_and_blanks_print_no_ink():
    assert glyphs.face_for("é").name == "DejaVu Sans Mono" and glyphs.face_for("≈", True) is not None
    for blank in (" ", "\u3000", "\x0d", "\u00ad"):
        assert not dots(glyphs.glyph(blank, 12, 24)).any()


def test_a_character_no_font_has_is_a_replacement_mark_and_a_warning():
    assert glyphs.face_for(UNASSIGNED) is None
    drawn = dots(glyphs.glyph(UNASSIGNED, 12, 24))
    assert drawn.any() and (drawn == dots(glyphs.glyph(glyphs.REPLACEMENT, 12, 24))).all()
    assert UNASSIGNED in glyphs.MISSING
    ops, _ = read_bytes(h("1C 26 41 AA A1 42 0A"))  # "A", GB18030 user-defined area (U+E000), "B"
    warnings: list[dict] = []
    draw.render_pages(ops, warnings=warnings)
    assert [(w["op"], w["kind"], w["missing_glyphs"]) for w in warnings] == [(0, "text", ["U+E000"])]
    assert "U+E000" in warnings[0]["error"]


def test_the_preview_logs_the_characters_it_could_not_draw(caplog):
    with caplog.at_level(logging.WARNING, logger="escpos809.paper"):
        [page] = preview(d.Document((d.Text(f"price {UNASSIGNED} 5"),)))
    assert dots(page).any()
    assert any("U+0378" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_the_virtual_printer_names_them_in_job_json(tmp_path):
    with VirtualPrinter(tmp_path / "p") as vp:
        with Printer(vp.uri) as p:
            p.send(h("1B 40 1C 26") + "充电 ".encode("gb18030") + h("AA A1 0A 1D 56 00"))
            sock = p.transport._sock.getsockname()
        job = vp.wait_job(f"tcp {sock[0]}:{sock[1]}")
    log = json.loads(job.log_path.read_text())
    [warning] = log["draw_warnings"]
    assert warning["missing_glyphs"] == ["U+E000"] and warning["kind"] == "text" and warning["page"] == "page-1.png"
    assert log["ops"][warning["op"]]["text"] == "充电 \ue000"


def test_without_the_cjk_package_cjk_text_is_replaced_and_reported(monkeypatch, fresh_fonts, caplog):
    monkeypatch.setattr(glyphs, "CJK_PACKAGE", "no_such_font_package")
    with caplog.at_level(logging.WARNING, logger="escpos809.paper"):
        assert [f.name for f in glyphs.faces()] == ["DejaVu Sans Mono"]
        ops, _ = read_bytes("中文\n".encode("gb18030"))
        warnings: list[dict] = []
        draw.render_pages(ops, warnings=warnings)
    assert [w["missing_glyphs"] for w in warnings] == [["U+4E2D", "U+6587"]]
    assert any("no-such-font-package" in r.getMessage() for r in caplog.records)  # says what to install
