"""2D symbols and the ``GS (`` family, read the way print801's ``gs.c`` / ``esc.c`` read them:
QR codes (``GS ( k`` cn 49, both forms), PDF417 (``GS ( k`` cn 48), the vendor 2D commands
(``ESC Z``, ``GS k`` 32-34 / 97-99 with ``GS Z``), and ``GS ( A / D / E / H``. A mixin of
:class:`~escpos809.emulator.interpreter.Interpreter`.

The firmware does not skip a ``GS (`` body by its pL/pH: it reads the bytes each function
takes and leaves the rest to print as characters. So does this. Which bytes each function reads
is data (:data:`PAREN_K_READS`), so a firmware variant can change it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..paper.codes import matrix, qr_modules
from .state import BarcodeSettings, QRSettings, Style

if TYPE_CHECKING:
    from ..paper.ops import Op
    from .firmware import Firmware

NEED_MORE = -1
_EC = {0x30: "L", 0x31: "M", 0x32: "Q", 0x33: "H"}
#: GS ( k (cn, fn) -> parameter bytes the firmware reads after fn (print801 ``Command_1D286B``);
#: fn 80 (store) reads m and, when m = 48, pL + 256·pH − 3 data bytes. Others read nothing.
PAREN_K_READS = {
    (49, 65): 2,  # QR model n1 n2
    (49, 67): 1,  # QR module size
    (49, 69): 1,  # QR error correction
    (49, 81): 1,  # QR print m
    (49, 82): 1,  # QR size query m (the firmware answers nothing)
    (48, 65): 1,  # PDF417 columns
    (48, 66): 1,  # PDF417 rows
    (48, 67): 1,  # PDF417 module width
    (48, 68): 1,  # PDF417 row height
    (48, 69): 2,  # PDF417 error correction m n
    (48, 70): 1,  # PDF417 options
    (48, 81): 1,  # PDF417 print m
    (48, 82): 1,  # PDF417 size query m (the firmware answers nothing)
}
#: what the firmware prints when a 2D symbol cannot be made or does not fit (``PrintString``)
ERROR_LINE = "BarCode2D Data/Parameter Error"
#: GS Z n / GS k m -> symbol (print801 ``ProcessBarCode_2D``: 0 PDF417, 1 Data Matrix, 2 QR)
TYPES_2D = {0: "pdf417", 1: "datamatrix", 2: "qr"}
GS_K_2D = {32: "qr", 97: "qr", 33: "datamatrix", 98: "datamatrix", 34: "pdf417", 99: "pdf417"}


class SymbolHandlers:
    """QR, PDF417, Data Matrix and the ``GS (`` classes."""

    width_dots: int
    style: Style
    reply: Callable[[bytes], None]
    firmware: Firmware
    _qr: QRSettings
    _pdf417: dict[str, int | bytes]
    _barcode: BarcodeSettings
    _type_2d: int
    _line: list[Any]

    if TYPE_CHECKING:

        def _op(self, kind: str, height: int = 0, **args: Any) -> Op: ...

        def _flush_line(self, advance: int | None = None) -> None: ...

        def _add_char(self, ch: str, double_byte: bool = False) -> None: ...

        def _bad(self, buf: bytearray, i: int, n: int, why: str) -> int: ...

    # --- GS ( ---------------------------------------------------------------------------------------
    def _gs_paren(self, buf: bytearray, i: int) -> int:
        if i + 3 > len(buf):
            return NEED_MORE
        fn_class = buf[i + 2]
        if fn_class == ord("k"):
            return self._paren_k(buf, i)
        if fn_class in (ord("A"), ord("D"), ord("H")):
            if i + 5 > len(buf):
                return NEED_MORE
            length = buf[i + 3] + 256 * buf[i + 4]
            reads = {ord("A"): 2, ord("D"): length, ord("H"): length}[fn_class]
            if i + 5 + reads > len(buf):
                return NEED_MORE
            body = bytes(buf[i + 5 : i + 5 + reads])
            if fn_class == ord("A"):
                self._op("self_test", n=body[0], m=body[1], reason="GS ( A: the printer prints its test page")
            elif (
                fn_class == ord("H") and len(body) >= 6 and body[:2] == b"00" and all(32 <= b <= 126 for b in body[2:6])
            ):
                self.reply(b"\x37\x22" + body[2:6] + b"\x00")  # print801 Command_1D2848
            return 5 + reads
        if fn_class == ord("E"):  # the firmware reads pL pH fn; its functions are empty
            if i + 6 > len(buf):
                return NEED_MORE
            return self._bad(buf, i, 6, "GS ( E: the firmware reads pL pH fn only; the parameters print")
        return self._bad(buf, i, 3, f"GS ( {chr(fn_class)!r}: not in the firmware; pL, pH and the body print")

    def _paren_k(self, buf: bytearray, i: int) -> int:
        # the legacy Xprinter QR form has no pL/pH: 30 then a function 67/69/80/81. The Epson
        # form can also start with 30 (pL = 48: 45 bytes of data) but then pH follows, and pH
        # 0x67 or more would mean a 26 KB body, beyond any QR code: the two never overlap
        if i + 5 > len(buf):
            return NEED_MORE
        if buf[i + 3] == 0x30 and buf[i + 4] in (0x67, 0x69, 0x80, 0x81):
            return self._legacy_qr(buf, i)
        if i + 6 > len(buf):
            return NEED_MORE
        length, cn = buf[i + 3] + 256 * buf[i + 4], buf[i + 5]
        if cn not in (48, 49):
            return self._bad(buf, i, 6, f"GS ( k cn={cn}: only 48 (PDF417) and 49 (QR) are in the firmware")
        if i + 7 > len(buf):
            return NEED_MORE
        fn = buf[i + 6]
        if fn == 80:
            if i + 8 > len(buf):
                return NEED_MORE
            reads = 1 + (max(length - 3, 0) if buf[i + 7] == 48 else 0)
        else:
            reads = PAREN_K_READS.get((cn, fn), 0)
        if i + 7 + reads > len(buf):
            return NEED_MORE
        args = bytes(buf[i + 7 : i + 7 + reads])
        if (cn, fn) not in PAREN_K_READS and fn != 80:
            return self._bad(buf, i, 7, f"GS ( k cn={cn} fn={fn}: not in the firmware; its parameters print")
        (self._qr_fn if cn == 49 else self._pdf417_fn)(fn, args)
        return 7 + reads

    def _qr_fn(self, fn: int, args: bytes) -> None:
        q = self._qr
        if fn == 65:
            # stored but never used: the firmware draws every QR code as model 2 (QR_Print
            # takes no model), and n1 other than 49/50 (micro QR, 51) leaves it as it was
            q.model = {49: 1, 50: 2}.get(args[0], q.model)
        elif fn == 67:
            q.size = args[0]
        elif fn == 69:
            q.ec = _EC.get(args[0], q.ec)
        elif fn == 80 and args[0] == 48:
            q.data = args[1:]
        elif fn == 81 and args[0] == 48:
            self._print_qr_form("epson")

    def _pdf417_fn(self, fn: int, args: bytes) -> None:
        p = self._pdf417
        if fn in (65, 66, 67, 68, 70):
            p[{65: "columns", 66: "rows", 67: "module", 68: "row_height", 70: "options"}[fn]] = args[0]
        elif fn == 69 and args[0] == 48 and 48 <= args[1] <= 56:
            p["ec"] = args[1] - 48
        elif fn == 80 and args[0] == 48:
            p["data"] = args[1:]
        elif fn == 81 and args[0] == 48:
            data = p.get("data", b"")
            assert isinstance(data, bytes)
            self._print_2d("pdf417", data, int(p.get("columns", 0)), int(p.get("ec", 1)), int(p.get("row_height", 3)))

    def _legacy_qr(self, buf: bytearray, i: int) -> int:
        sub = buf[i + 4]
        if sub in (0x67, 0x69):
            if i + 6 > len(buf):
                return NEED_MORE
            if sub == 0x67 and 1 <= buf[i + 5] <= 16:
                self._qr.size = buf[i + 5]
            if sub == 0x69:
                self._qr.ec = _EC.get(buf[i + 5], self._qr.ec)
            return 6
        if sub == 0x80:
            if i + 7 > len(buf):
                return NEED_MORE
            n = buf[i + 5] + 256 * buf[i + 6]
            if i + 7 + n > len(buf):
                return NEED_MORE
            self._qr.data = bytes(buf[i + 7 : i + 7 + n])
            return 7 + n
        self._print_qr_form("legacy")  # 0x81
        return 5

    def _print_qr_form(self, form: str) -> None:
        """Print the stored QR code if this firmware has the command ``form`` (a variant's)."""
        if form in self.firmware.qr_forms:
            self._print_qr()
        else:  # modelled as ignored; a real unit may take the bytes for something else
            self._op("warning", message=f"QR print ({form} form): not in this firmware, nothing printed")

    def _print_qr(self) -> None:
        q = self._qr
        if not q.data:
            self._op("warning", message="QR print without stored data")
            return
        size = min(max(q.size, 1), 8)  # print801 ProcessBarCode_2D_1D28: module size 1-8
        modules = qr_modules(q.data, q.ec)
        if modules is None or modules * size > self._room():
            self._error_line()
            return
        self._flush_line()
        # ``raw``: the bytes the symbol holds (``data`` is their text, for reading the log)
        self._op(
            "qr",
            height=modules * size,
            data=q.data.decode("utf-8", "replace"),
            raw=q.data,
            size=size,
            ec=q.ec,
            model=q.model,
            modules=modules,
            align=self.style.align,
            left=self.style.left_margin,
        )

    # --- vendor 2D commands ---------------------------------------------------------------------------
    def _esc_z(self, buf: bytearray, i: int) -> int:
        """``ESC Z v r k nL nH d…`` (print801 ``Command_1B5A``): the symbol chosen by ``GS Z``."""
        if i + 7 > len(buf):
            return NEED_MORE
        v, r, k = buf[i + 2], buf[i + 3], buf[i + 4]
        n = buf[i + 5] + 256 * buf[i + 6]
        if i + 7 + n > len(buf):
            return NEED_MORE
        kind = TYPES_2D.get(self._type_2d, "qr")
        if kind == "qr":  # r is the level's letter here
            r = "LMQH".index(chr(r)) + 1 if chr(r) in "LMQH" else 1
        self._print_2d(kind, bytes(buf[i + 7 : i + 7 + n]), v, r, k)
        return 7 + n

    def _gs_k_2d(self, buf: bytearray, i: int) -> int:
        """``GS k`` 32-34 (``v r d… NUL``) and 97-99 (``v r nL nH d…``): module = ``GS w``."""
        m = buf[i + 2]
        if i + 5 > len(buf):
            return NEED_MORE
        v, r = buf[i + 3], buf[i + 4]
        if m < 64:
            end = buf.find(b"\x00", i + 5)
            if end == -1:
                return NEED_MORE
            data, used = bytes(buf[i + 5 : end]), end + 1 - i
        else:
            if i + 7 > len(buf):
                return NEED_MORE
            n = buf[i + 5] + 256 * buf[i + 6]
            if i + 7 + n > len(buf):
                return NEED_MORE
            data, used = bytes(buf[i + 7 : i + 7 + n]), 7 + n
        self._print_2d(GS_K_2D[m], data, v, r, self._barcode.width)
        return used

    def _print_2d(self, kind: str, data: bytes, version: int, ec: int, rate: int) -> None:
        """A 2D symbol as print801 ``ProcessBarCode_2D`` draws it: ``rate`` (1-8) dots a module;
        PDF417 always 2 dots wide a module and ``rate`` x 2 dots a row (the firmware's own row
        height is not in the source we have: unsure), QR through the ``qr`` operation."""
        rate = min(max(rate, 1), 8)
        if kind == "qr":
            q = self._qr
            q.data, q.size, q.ec = data, rate, "LMQH"[min(max(ec, 1), 4) - 1]
            self._print_qr()
            return
        options = {"option_1": min(ec, 8), "option_2": version} if kind == "pdf417" else {}
        mw, mh = (2, 2 * rate) if kind == "pdf417" else (rate, rate)
        try:
            mods = matrix(kind, data, **options) if data else None
        except ValueError:
            mods = None
        if mods is None or mods.shape[1] * mw > self._room():
            self._error_line()
            return
        self._flush_line()
        self._op(
            "symbol",
            height=mods.shape[0] * mh,
            symbology=kind,
            data=data.decode("utf-8", "replace"),
            raw=data,
            options=options,
            module_w=mw,
            module_h=mh,
            align=self.style.align,
            left=self.style.left_margin,
        )

    def _room(self) -> int:
        s = self.style
        return min(s.print_width, self.width_dots - s.left_margin)

    def _error_line(self) -> None:
        """What the firmware prints for a 2D symbol it cannot make or fit."""
        self._flush_line()
        for ch in ERROR_LINE:
            self._add_char(ch)
        self._flush_line()
