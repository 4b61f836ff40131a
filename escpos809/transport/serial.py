"""Serial transport (pyserial): RS-232, USB-serial adapters, CDC/VCOM printers."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from ..errors import PrinterNotFound, PrinterOffline, PrinterPermissionDenied, PrinterTimeout
from .base import Transport

if TYPE_CHECKING:
    import serial

FLOW_CONTROL = ("none", "rtscts", "xonxoff", "dsrdtr")
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


class SerialTransport(Transport):
    scheme = "serial"

    def __init__(self, port: str, baudrate: int = 115200, flow: str = "none", **kw):
        super().__init__(**kw)
        if int(baudrate) not in BAUDRATES:
            raise ValueError(f"baudrate must be one of {', '.join(map(str, BAUDRATES))}, got {baudrate}")
        if flow not in FLOW_CONTROL:
            raise ValueError(f"flow must be one of {', '.join(FLOW_CONTROL)}, got {flow!r}")
        self.port, self.baudrate, self.flow = port, int(baudrate), flow
        self._ser: serial.Serial | None = None

    @property
    def uri(self) -> str:
        return f"serial://{self.port}?baudrate={self.baudrate}&flow={self.flow}"

    def _open(self) -> None:
        import serial  # pyserial; imported here to keep `import escpos809` light

        try:
            self._ser = serial.Serial(
                self.port,
                self.baudrate,
                timeout=self.read_timeout,
                write_timeout=self.write_timeout,
                rtscts=self.flow == "rtscts",
                xonxoff=self.flow == "xonxoff",
                dsrdtr=self.flow == "dsrdtr",
            )
        except serial.SerialException as exc:
            code = exc.errno or (exc.args[0] if exc.args and isinstance(exc.args[0], int) else None)
            if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
                raise PrinterNotFound(f"{self.uri}: no serial port {self.port}") from None
            if code == errno.EACCES:
                raise PrinterPermissionDenied(
                    f"{self.uri}: permission denied on {self.port}; add yourself to the 'dialout' group"
                ) from None
            raise PrinterOffline(f"{self.uri}: cannot open {self.port} ({exc})") from None

    def _write(self, chunk: memoryview) -> None:
        import serial

        assert self._ser is not None  # write() opens first
        try:
            self._ser.write(chunk)
        except serial.SerialTimeoutException:
            self.close()
            raise PrinterTimeout(
                f"{self.uri}: printer did not take data for {self.write_timeout:g} s after "
                f"{self.bytes_written} bytes (flow control holding, printer off or busy?)"
            ) from None
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise PrinterOffline(f"{self.uri}: write failed after {self.bytes_written} bytes ({exc})") from None

    def _read(self, size: int, timeout: float) -> bytes:
        import serial

        assert self._ser is not None  # read() opens first
        self._ser.timeout = timeout
        try:
            return self._ser.read(size)
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise PrinterOffline(f"{self.uri}: read failed ({exc})") from None

    def drain(self, quiet: float = 0.05, limit: float = 1.0) -> bytes:
        if self.is_open:
            assert self._ser is not None
            self._ser.reset_input_buffer()
        return super().drain(quiet, limit)

    def _close(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            finally:
                self._ser = None
