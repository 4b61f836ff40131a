"""Printer URIs → transports: the one address form used by the library, CLI, service and CUPS.

``tcp://host[:9100]``, ``serial:///dev/ttyUSB0?baudrate=115200&flow=rtscts``,
``usb://VID:PID[?serial=…]``, ``lp:///dev/usb/lp0``, ``memory://name`` and, from the
emulator, ``virtual://name``. Query options every scheme takes: ``timeout`` (write, s),
``read_timeout`` (s), ``chunk`` (bytes).

``virtual://`` is named here, not imported: :data:`LAZY_SCHEMES` maps it to the emulator's
factory, imported the first time such a URI is opened (the emulator imports this module, never
the other way round).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ..errors import InvalidURI
from ..plugins import resolve
from .base import Transport

# the CUPS backend opens its printer through here, a new process per job: typing only for the
# type checker
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any
    from urllib.parse import SplitResult

    #: a query option's converter from its text (ValueError: not valid)
    Converter = Callable[[str], Any]

#: scheme → factory(uri, parts, **kw), where ``parts`` is the ``urlsplit`` of ``uri``.
SCHEMES: dict[str, Callable[..., Transport]] = {}
#: scheme → ``"package.module:factory"``, imported when the scheme is first opened.
LAZY_SCHEMES: dict[str, str] = {"virtual": "escpos809.emulator:open_virtual"}
_COMMON: dict[str, tuple[str, Converter]] = {
    "timeout": ("write_timeout", float),
    "read_timeout": ("read_timeout", float),
    "chunk": ("chunk_bytes", int),
    "connect_timeout": ("connect_timeout", float),
}
#: the longest timeout a URI may ask for (a day): sockets refuse NaN and overflow on huge ones
MAX_TIMEOUT_S = 86_400.0


def register(scheme: str) -> Callable[[Callable[..., Transport]], Callable[..., Transport]]:
    """Decorator: ``factory(uri, parts, **kw)`` opens ``scheme://`` URIs."""

    def deco(factory: Callable[..., Transport]) -> Callable[..., Transport]:
        SCHEMES[scheme] = factory
        return factory

    return deco


def register_lazy(scheme: str, ref: str) -> None:
    """Name the factory of ``scheme://`` by reference (``"package.module:factory"``), to be
    imported when such a URI is first opened."""
    LAZY_SCHEMES[scheme] = ref


def _factory(uri: str, scheme: str) -> Callable[..., Transport]:
    factory = SCHEMES.get(scheme)
    if factory is None and scheme in LAZY_SCHEMES:
        try:
            factory = SCHEMES[scheme] = resolve(LAZY_SCHEMES[scheme])
        except (ImportError, AttributeError) as exc:
            raise InvalidURI(f"{uri}: the {scheme}:// printer is not available ({exc})") from exc
    if factory is None:
        known = ", ".join(sorted({*SCHEMES, *LAZY_SCHEMES}))
        raise InvalidURI(f"{uri}: unknown scheme {scheme!r}; known: {known}")
    return factory


def query_options(uri: str, query: str, allowed: dict[str, Converter]) -> dict[str, Any]:
    """The URI's query as transport keywords: the options every scheme takes plus ``allowed``
    (name → converter); an unknown or invalid option is an :class:`InvalidURI`."""
    out: dict[str, Any] = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key in _COMMON:
            name, conv = _COMMON[key]
        elif key in allowed:
            name, conv = key, allowed[key]
        else:
            known = ", ".join(sorted({*_COMMON, *allowed}))
            raise InvalidURI(f"{uri}: unknown option {key!r} (known: {known})")
        try:
            out[name] = conv(values[-1])
        except ValueError:
            raise InvalidURI(f"{uri}: option {key}={values[-1]!r} is not valid") from None
        if name in ("write_timeout", "read_timeout", "connect_timeout", "chunk_bytes") and not out[name] > 0:
            raise InvalidURI(f"{uri}: option {key} must be positive")  # NaN too
        if name.endswith("timeout") and not out[name] <= MAX_TIMEOUT_S:
            raise InvalidURI(f"{uri}: option {key} must be at most {MAX_TIMEOUT_S:,.0f} seconds")
    return out


@register("tcp")
def _tcp(uri: str, parts: SplitResult, **kw: Any) -> Transport:
    from .tcp import DEFAULT_PORT, TcpTransport

    try:
        port = DEFAULT_PORT if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 0 < port <= 0xFFFF:
        raise InvalidURI(f"{uri}: port must be a number 1-65535")
    if not parts.hostname:
        raise InvalidURI(f"{uri}: no host; expected tcp://host[:port]")
    return TcpTransport(parts.hostname, port, **{**kw, **query_options(uri, parts.query, {})})


@register("serial")
def _serial(uri: str, parts: SplitResult, **kw: Any) -> Transport:
    from .serial import SerialTransport

    port = parts.netloc + parts.path if parts.netloc else parts.path  # serial://COM3 or serial:///dev/tty…
    if not port:
        raise InvalidURI(f"{uri}: no device; expected serial:///dev/ttyUSB0?baudrate=115200")
    opts = query_options(uri, parts.query, {"baudrate": int, "flow": str})
    try:
        return SerialTransport(port, **{**kw, **opts})
    except ValueError as exc:
        raise InvalidURI(f"{uri}: {exc}") from None


def _hex16(uri: str, text: str, what: str) -> int:
    try:
        value = int(text, 16)
    except ValueError:
        value = -1
    if not 0 <= value <= 0xFFFF or len(text) > 4:
        raise InvalidURI(f"{uri}: {what} {text!r} is not a 4-digit hex number; expected usb://0483:5743")
    return value


@register("usb")
def _usb(uri: str, parts: SplitResult, **kw: Any) -> Transport:
    from .usb import UsbTransport

    ids = parts.netloc.split(":")
    if len(ids) != 2:
        raise InvalidURI(f"{uri}: expected usb://VID:PID (hex), e.g. usb://0483:5743")
    vid, pid = _hex16(uri, ids[0], "vendor id"), _hex16(uri, ids[1], "product id")
    opts = query_options(uri, parts.query, {"serial": str})
    return UsbTransport(vid, pid, **{**kw, **opts})


@register("lp")
def _lp(uri: str, parts: SplitResult, **kw: Any) -> Transport:
    from .lp import LpTransport

    if not parts.path or parts.netloc:
        raise InvalidURI(f"{uri}: expected lp:///dev/usb/lp0 (an absolute device path)")
    return LpTransport(parts.path, **{**kw, **query_options(uri, parts.query, {})})


@register("memory")
def _memory(uri: str, parts: SplitResult, **kw: Any) -> Transport:
    from .memory import MemoryTransport

    return MemoryTransport(parts.netloc, **{**kw, **query_options(uri, parts.query, {})})


def split_uri(uri: str) -> SplitResult:
    """``urlsplit(uri)``; what it cannot split (an unclosed IPv6 bracket) is an InvalidURI."""
    try:
        return urlsplit(uri)
    except ValueError as exc:
        raise InvalidURI(f"{uri}: {exc}") from None


def open_transport(uri: str, **kw) -> Transport:
    """Make (not yet open) the transport a printer URI names.

    Keywords are defaults for the transport (timeouts, ``chunk_bytes``, ``backend=`` for USB,
    ``responder=`` for memory); options in the URI's query win over them.
    """
    if not isinstance(uri, str) or "://" not in uri:
        raise InvalidURI(
            f"{uri!r} is not a printer URI; expected e.g. tcp://192.168.1.50:9100, "
            "usb://0483:5743, serial:///dev/ttyUSB0, lp:///dev/usb/lp0"
        )
    parts = split_uri(uri)
    return _factory(uri, parts.scheme.lower())(uri, parts, **kw)
