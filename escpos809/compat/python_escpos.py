"""python-escpos code on the OCPP-809: change the printer class, keep the rest.

>>> from escpos809.compat.python_escpos import Escpos809      # doctest: +SKIP
>>> p = Escpos809("tcp://192.168.1.50")                        # was: Network("192.168.1.50")
>>> p.textln("Grüße € ñ ç Ø"); p.qr("https://example.com", native=True, center=True); p.cut()

:class:`Escpos809` is a python-escpos ``Escpos`` whose bytes go through escpos809's transports
(any printer URI: ``tcp://``, ``serial://``, ``usb://``, ``lp://``, ``virtual://``, with their
timeouts) and whose capabilities profile is :mod:`.capabilities`. It mends what stock
python-escpos 3.1 gets wrong on this printer family (../shared/reference/ocpp809-commands.md):

- text: ``FS .`` after every ``ESC @`` (the printer starts in GB18030 mode: accents printed
  as hanzi), code pages numbered as the profile says, chosen by escpos809's encoder, and the
  page selected again after ``ESC @`` (python-escpos believes it still holds);
- ``cut(mode, feed=False)`` sends the mode asked for (stock: always a partial feed-cut);
- no commands the firmware lacks: ``GS b`` (smooth), ``GS |`` (density), ``GS ( L``
  (graphics: printed as ``GS v 0``), ``ESC +`` / ``ESC A`` (line spacing: sent as ``ESC 3``);
- ``ESC *`` images with the line height of their 24-dot bands (stock: 16, which leaves
  stripes on firmware that feeds exactly the line spacing; print801's feeds the band anyway);
  ``GS v 0`` images in the profile's band height;
- native QR codes can be centred (``ESC a 1``);
- ``paper_status()`` / ``is_online()`` from escpos809's status: a printer that does not
  answer is *not* "paper adequate" (stock returns 2 on a silent serial or USB link); see
  :meth:`Escpos809.status`.

Errors are escpos809's (:mod:`escpos809.errors`), e.g. :class:`~escpos809.errors.PrinterOffline`
when the printer cannot be reached.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from escpos.constants import HW_INIT, HW_RESET, QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q, QR_MODEL_2
from escpos.escpos import Escpos
from escpos.exceptions import ImageWidthError
from escpos.image import EscposImage

from ..errors import Escpos809Error, UnsupportedCommand
from ..escpos import codes, commands
from ..escpos.status import PrinterStatus
from ..printer import Printer
from ..profile import Profile
from ..raster import raster_bands
from ..transport import Transport
from .capabilities import Ocpp809Capabilities

log = logging.getLogger(__name__)

#: what text must not carry to the printer: control characters but LF and HT, and DEL
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_EC = {QR_ECLEVEL_L: "L", QR_ECLEVEL_M: "M", QR_ECLEVEL_Q: "Q", QR_ECLEVEL_H: "H"}
#: GS k types python-escpos knows but the firmware's table (§7: m = 65-73) does not
_NO_HW_BARCODE = {"GS1128", *(f"GS1DATABAR{kind}" for kind in ("OMNIDIRECTIONAL", "TRUNCATED", "LIMITED", "EXPANDED"))}
#: Every ESC * band is 24 dots high on paper (print801 FW Command_1B2A scales the 8-dot modes
#: x3), and that firmware's ESC 3 n sets the whole line height to n vertical units. The unit
#: is one dot unless GS P changed it (assumed: the reference does not give the OCOM default).
_COLUMN_BAND_DOTS = 24
#: ESC a n → its name (0-2 and 48-50, §2)
_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


class Escpos809(Escpos):
    """python-escpos ``Escpos`` writing to an OCPP-809 through escpos809.

    ``uri``: a printer URI (or an escpos809 ``Transport``). ``model``: escpos809 model profile
    (name, TOML file or :class:`~escpos809.profile.Profile`; default ``ocpp-809``); the
    python-escpos capabilities profile is made from it. ``timeout``: write and reply timeout
    in seconds (default: the model profile's). Other keywords go to python-escpos (``magic_encode_args``).
    """

    def __init__(
        self,
        uri: str | Transport,
        model: Profile | str | Path | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        kw = {"write_timeout": timeout, "read_timeout": timeout} if timeout else {}
        self.printer = Printer(uri, model, **kw)
        self._device: Any = False  # python-escpos: False unopened, None failed, else the link
        if kwargs.pop("profile", None) is not None:  # a python-escpos profile describes another printer
            log.warning("python-escpos profile ignored: the %s capabilities are used", self.printer.profile.name)
        super().__init__(profile=Ocpp809Capabilities(self.printer.profile), **kwargs)
        self._sw_impl: str | None = None
        self._single_byte = False  # FS . sent on this connection
        self._align = "left"  # the ESC a last sent (left after power-on and ESC @), restored after centring

    # --- connection ----------------------------------------------------------------------------
    def open(self, raise_not_found: bool = True) -> None:
        """Open the link (python-escpos opens on first use). ``raise_not_found=False``: log
        the failure and leave the printer unconnected, as python-escpos's printers do."""
        try:
            self.printer.open()
        except Escpos809Error as exc:
            self._device = None
            if raise_not_found:
                raise
            log.error("%s", exc)
            return
        self.device = self.printer.transport

    def close(self) -> None:
        if getattr(self, "_device", False):
            self.printer.close()
        self._device = False
        self._single_byte = False

    def _link(self) -> Printer:
        """The printer, its link open (python-escpos's ``device`` leaves it unopened after a failure)."""
        if not self.device:
            self.open()
        return self.printer

    def _for_print(self) -> Printer:
        """The printer, ready for print data: this family powers on in Chinese (GB18030) mode and
        python-escpos code rarely starts with ``hw("INIT")``, so each connection's first print
        data follows an ``FS .`` (status requests alone send none: they make no job)."""
        printer = self._link()
        if not self._single_byte:
            self._single_byte = True
            if printer.profile.commands.get("chinese_mode_at_power_on", True):
                printer.send(commands.cancel_chinese_mode())
        return printer

    def _raw(self, msg: bytes) -> None:
        if msg in (HW_INIT, HW_RESET):
            # HW_RESET (ESC ? LF NUL) is no reset on this firmware: initialise instead
            printer, self._single_byte, self._align = self._link(), True, "left"
            printer.initialize()  # ESC @ FS .; the text encoder forgets its page
            if self.magic.disabled and self.magic.encoding:  # a page forced with charcode()
                printer.send(commands.select_codepage(self.magic.encoder.get_sequence(self.magic.encoding)))
            return
        if len(msg) == 3 and msg[:2] == b"\x1ba":  # python-escpos sends ESC a n on its own
            self._align = _ALIGN.get(msg[2], self._align)
        self._for_print().send(bytes(msg))

    def _centred(self, data: bytes) -> bytes:
        """``data`` centred with ``ESC a 1`` (not padded to the paper's width: fewer bytes),
        the alignment in force before restored after it."""
        return commands.align("center") + data + commands.align(self._align)

    def _read(self) -> bytes:
        """Whatever the printer answered within the reply timeout (b"" when nothing)."""
        return self._link().transport.read(16)

    # --- text ----------------------------------------------------------------------------------
    def text(self, txt: str) -> None:
        """Print text; code pages (and Chinese mode for CJK) are chosen by escpos809's encoder
        unless ``charcode()`` fixed one."""
        if self.magic.disabled:
            # python-escpos sends a forced page's text as it is: ESC, GS, DLE … in it would be
            # commands (a cut, a drawer pulse, ESC = 2 turning the printer off); printed as '?'
            super().text(_CONTROLS.sub("?", str(txt)))
            return
        self._for_print().text(str(txt))

    def set(self, *args: Any, smooth: bool | None = None, density: int | None = None, **kwargs: Any) -> None:
        """python-escpos ``set()`` without ``GS b`` (smooth) and ``GS |`` (density), which this
        firmware lacks (print801 has no handler for either)."""
        if smooth or (density is not None and density != 9):
            log.warning("the OCPP-809 has no smoothing or density command; ignored")
        super().set(*args, **kwargs)

    def line_spacing(self, spacing: int | None = None, divisor: int = 180) -> None:
        """``spacing``/``divisor`` inch, sent as ``ESC 3`` in dots: the firmware has neither
        ``ESC +`` nor ``ESC A``, and its ``ESC 3 n`` counts dots (203 dpi), not 1/180 inch."""
        if spacing is None or divisor not in (60, 180, 360):
            super().line_spacing(spacing, divisor)  # ESC 2, or python-escpos's own ValueError
            return
        limit = 85 if divisor == 60 else 255
        if not 0 <= spacing <= limit:
            raise ValueError(f"spacing must be an int between 0 and {limit} when divisor is {divisor}")
        self._raw(commands.line_spacing(min(255, round(spacing * self.printer.profile.dpi / divisor))))

    # --- cut, status ---------------------------------------------------------------------------
    def cut(self, mode: str = "FULL", feed: bool = True) -> None:
        """Cut with the mode asked for; ``feed`` feeds 6 lines first, as python-escpos does."""
        kind = {"FULL": "full", "PART": "partial"}.get(mode.upper())
        if kind is None:
            raise ValueError("Mode must be one of ('FULL', 'PART')")
        if feed:
            self.print_and_feed(6)
        self._raw(commands.cut(kind))

    def status(self, timeout: float | None = None) -> PrinterStatus:
        """escpos809's full status (``DLE EOT 1-4``): check ``known`` first."""
        return self._link().status(timeout)

    def is_online(self) -> bool:
        """True only when the printer says it is online; silence is False."""
        st = self.status()
        if not st.known:
            log.warning("%s: status unknown: %s", self.printer.uri, st.reason)
        return st.known and bool(st.online)

    def paper_status(self) -> int:
        """python-escpos's values: 2 paper adequate, 1 near end, 0 no paper. A printer that
        does not answer gives 0 (unknown is never "adequate"; :meth:`status` tells why)."""
        st = self.status()
        if not st.known:
            log.warning("%s: paper status unknown: %s", self.printer.uri, st.reason)
            return 0
        if st.paper_end or st.paper_end_stop:
            return 0
        return 1 if st.paper_near_end else 2

    # --- images and codes ----------------------------------------------------------------------
    def image(
        self,
        img_source: Any,
        high_density_vertical: bool = True,
        high_density_horizontal: bool = True,
        impl: str = "bitImageRaster",
        fragment_height: int = 960,
        center: bool = False,
    ) -> None:
        """python-escpos ``image()``: ``graphics`` is printed as ``GS v 0`` (the firmware's
        ``GS ( L`` does nothing), ``GS v 0`` goes in the profile's band height, ``ESC *``
        bands with a line height of 24 dots; ``center`` centres with ``ESC a 1``."""
        im = EscposImage(img_source)
        width = self.printer.profile.width_dots
        if im.width > width:
            raise ImageWidthError(f"{im.width} > {width}")
        if impl == "bitImageColumn":
            data = self._column_image(im, high_density_vertical, high_density_horizontal)
        else:
            data = self._raster_image(im, high_density_vertical, high_density_horizontal, fragment_height)
        self._for_print().send(self._centred(data) if center else data)

    def _raster_image(self, im: EscposImage, hdv: bool, hdh: bool, fragment_height: int) -> bytes:
        # python-escpos splits tall images by cropping the image *before* centring (black
        # margins on every fragment after the first): the bands are cut here, from the whole
        band = max(1, min(fragment_height, self.printer.profile.band_rows))
        mode = (0 if hdh else 1) + (0 if hdv else 2)
        return raster_bands(im.width_bytes, im.height, im.to_raster_format(), band, mode)

    @staticmethod
    def _column_image(im: EscposImage, hdv: bool, hdh: bool) -> bytes:
        header = b"\x1b*" + bytes([(1 if hdh else 0) + (32 if hdv else 0), im.width & 0xFF, im.width >> 8])
        bands = b"".join(header + blob + commands.LF for blob in im.to_column_format(hdv))
        return commands.line_spacing(_COLUMN_BAND_DOTS) + bands + commands.line_spacing(None)

    def qr(
        self,
        content: str,
        ec: int = QR_ECLEVEL_L,
        size: int = 3,
        model: int = QR_MODEL_2,
        native: bool = False,
        center: bool = False,
        impl: str | None = None,
        image_arguments: dict | None = None,
    ) -> None:
        """python-escpos ``qr()``; a native code is sent in the profile's ``GS ( k`` form and
        can be centred (``ESC a 1`` before it, ``ESC a 0`` after)."""
        if not native:
            super().qr(content, ec, size, model, native, center, impl, image_arguments)
            return
        if ec not in _EC:
            raise ValueError("Invalid error correction level")
        if not 1 <= size <= 16:
            raise ValueError("Invalid block size (must be 1-16)")
        if model != QR_MODEL_2:
            # the firmware's QR (print801 Command_1D286B) is model 2; model 1 and micro QR unknown
            raise UnsupportedCommand(f"QR model {model} is not supported by this printer (model 2 only)")
        if content == "":
            return
        data = codes.qr_code(content, size=size, ec=_EC[ec], form=self.printer.profile.qr_form) + commands.LF
        self._for_print().send(self._centred(data) if center else data)

    def barcode(self, code: str, bc: str, *args: Any, force_software: bool | str = False, **kwargs: Any) -> None:
        """python-escpos ``barcode()``. Types the firmware's ``GS k`` lacks (GS1-128, GS1
        DataBar) are drawn in software; software barcodes go as ``GS v 0`` unless another
        image mode is named."""
        if "".join(ch for ch in bc.upper() if ch.isalnum()) in _NO_HW_BARCODE and not force_software:
            force_software = True
        self._sw_impl = force_software if isinstance(force_software, str) else None
        try:
            super().barcode(code, bc, *args, force_software=force_software, **kwargs)
        finally:
            self._sw_impl = None

    def _sw_barcode(self, barcode_type: str, data: str, impl: str = "bitImageRaster", **kwargs: Any) -> None:
        super()._sw_barcode(barcode_type, data, impl=self._sw_impl or "bitImageRaster", **kwargs)
