"""The paper: what a receipt printer puts on paper, as data, and how it is drawn.

Shared by the two views that show paper — the PNG preview (:mod:`escpos809.render.image`) and
the virtual printer (:mod:`escpos809.emulator`) — so that both draw the same dots. It imports
neither of them.

* :mod:`.ops` — operations (one per printed line, image, code, cut or signal) and their cells;
* :mod:`.draw` — operations → pages of dots (1-bit PNG);
* :mod:`.glyphs` — the fonts it ships or depends on, and character cells drawn from them;
* :mod:`.codes` — QR symbols (qrcode), barcodes and PDF417 / Data Matrix (zint) at the printer's sizes.
"""
