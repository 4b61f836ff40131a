"""escpos809: driver for the OCOM OCPP-809 ESC/POS receipt printer.

Nothing heavy happens at import: transports, Pillow and pyusb load when first used.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Printer", "PrinterStatus", "load_profile", "open_transport", "__version__"]


def __getattr__(name: str):
    if name == "Printer":
        from .printer import Printer
        return Printer
    if name == "PrinterStatus":
        from .escpos.status import PrinterStatus
        return PrinterStatus
    if name == "load_profile":
        from .profile import load_profile
        return load_profile
    if name == "open_transport":
        from .transport import open_transport
        return open_transport
    raise AttributeError(f"module 'escpos809' has no attribute {name!r}")
