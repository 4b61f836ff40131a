"""escpos809: driver for the OCOM OCPP-809 ESC/POS receipt printer.

Nothing heavy happens at import: transports, Pillow and pyusb load when first used.
"""

from __future__ import annotations

__all__ = ["Printer", "PrinterStatus", "load_profile", "open_transport", "__version__"]


_VERSION: list[str] = []  # looked up once (functools is not imported: the CUPS filter starts per job)


def _version() -> str:
    if not _VERSION:
        _VERSION.append(_read_version())
    return _VERSION[0]


def _read_version() -> str:
    """The version written once, in pyproject.toml: the installed distribution's metadata, or
    (a source checkout on the path, not installed) pyproject.toml itself. Looked up on first
    use of ``__version__``: importing importlib.metadata costs tens of milliseconds."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("escpos809")
    except PackageNotFoundError:
        pass
    from pathlib import Path

    from .profile import tomllib

    try:
        pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8"))
        return str(pyproject["project"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return "0+unknown"


def __getattr__(name: str):
    if name == "__version__":
        return _version()
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
