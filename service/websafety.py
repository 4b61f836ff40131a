"""What keeps other web sites and other host names away from the printers.

A WSGI middleware in front of the Flask app (so every route, known or not, is covered and a
refusal costs no routing, no database and no printer):

* ``Host`` must name this service: its bind address, the localhost names, the names in
  ``server_names``, and for a service reachable from the network this machine's own names
  (and any IP literal when bound to every address). Anything else is 421 Misdirected Request —
  for GET too, so a DNS-rebinding page (``evil.example`` resolving to 127.0.0.1) reads nothing.
* A state-changing request (anything but GET / HEAD / OPTIONS) sent by a browser for another
  site is 403: its ``Origin`` (``null`` included) is neither this service's own origin nor one
  of ``allowed_origins``; without ``Origin``, ``Sec-Fetch-Site: cross-site / same-site`` says the
  same. Requests with neither header (curl, scripts, other servers) are not browsers' and pass.
  This closes the "simple request" hole: a cross-site ``text/plain`` or form POST needs no
  CORS preflight, so CORS alone never stopped it from printing.
* CORS is opt-in per origin: only an origin in ``allowed_origins`` gets
  ``Access-Control-Allow-Origin`` (its own value, never ``*``) and an answered preflight.

Plus :func:`visible_health`: what ``/healthz`` may tell a caller without the token.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from werkzeug.datastructures import Headers

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CORS_METHODS = "GET, POST, DELETE"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key"
CORS_EXPOSE = "Location"
CORS_MAX_AGE = "600"
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BadSetting(ValueError):
    """A configured origin or server name that cannot be used."""


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def normalize_origin(text: str) -> str:
    """``scheme://host[:port]`` in the form browsers send (lower case, default port left out);
    BadSetting for anything else (a path, ``*``, ``null``, user info, another scheme)."""
    raw = text.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise BadSetting(f"origin {text!r}: not scheme://host[:port]") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if (
        scheme not in _DEFAULT_PORTS
        or not host
        or parts.username
        or parts.password
        or parts.query
        or parts.fragment
        or parts.path not in ("", "/")
        or "*" in raw
    ):
        raise BadSetting(f"origin {text!r}: use scheme://host[:port] with http or https, no path, no wildcard")
    host = host.lower()
    shown = f"[{host}]" if ":" in host else host
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{shown}"
    return f"{scheme}://{shown}:{port}"


def split_host(value: str) -> tuple[str, str] | None:
    """A Host header → (name, port text); None when it is not a host at all."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1 :]
        if _ip(name) is None or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    else:
        name, _, port = value.partition(":")
    if port and (not port.isdigit() or len(port) > 5):
        return None
    if name.endswith("."):  # the absolute form of a DNS name: the same host
        name = name[:-1]
    if not name or any(c in name for c in "/\\@ ?#%,;") or name.endswith("."):
        return None
    return name, port


def check_server_name(name: str) -> str:
    """A configured server name (DNS name or IP literal, no port) in lower case."""
    text = name.strip().lower().rstrip(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if _ip(text) is not None:
        return str(_ip(text))
    labels = text.split(".")
    if (
        not text
        or len(text) > 253
        or not all(
            lab and len(lab) <= 63 and lab.replace("-", "").replace("_", "").isalnum() and lab.isascii()
            for lab in labels
        )
    ):
        raise BadSetting(f"server name {name!r}: use a host name or an IP address, without scheme or port")
    return text


def _wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    ip = _ip(host)
    return bool(ip and ip.is_loopback)


def machine_names() -> set[str]:
    """This machine's own names: what a LAN client types, and the ``<host>.local`` name the
    zeroconf advertisement points at."""
    names: set[str] = set()
    try:
        host = socket.gethostname().lower()
        names |= {host, host.split(".")[0], host.split(".")[0] + ".local"}
        names.add(socket.getfqdn().lower())
    except OSError:  # pragma: no cover - no name at all
        pass
    return {n.rstrip(".") for n in names if n}


class HostPolicy:
    """Which ``Host`` headers this service answers to.

    Decision for a wildcard bind (0.0.0.0 / ::): its own names (hostname, ``<host>.local``,
    FQDN) and any IP literal are accepted; other names must be configured in ``server_names``.
    An IP literal cannot be rebound (DNS rebinding needs a name the attacker's DNS answers), and
    the machine's addresses change with DHCP, so listing them at start would refuse the real
    clients later; a name is exactly what a rebinding attack forges, so names are listed."""

    def __init__(self, bind_host: str, server_names: Iterable[str] = (), network_names: set[str] | None = None):
        self.names = {n.lower() for n in LOCAL_NAMES}
        self.any_ip = _wildcard(bind_host)
        if not _wildcard(bind_host):
            ip = _ip(bind_host)
            self.names.add(str(ip) if ip else bind_host.lower())
        if not _loopback(bind_host):
            self.names |= machine_names() if network_names is None else network_names
        self.names |= {check_server_name(n) for n in server_names}

    def allows(self, host_header: str | None) -> bool:
        if host_header is None:  # HTTP/1.0 without Host: no name to forge, nothing to judge
            return True
        parsed = split_host(host_header)
        if parsed is None:
            return False
        name = parsed[0]
        if name in self.names:
            return True
        ip = _ip(name)
        return ip is not None and (self.any_ip or str(ip) in self.names)


class WebSafety:
    """The WSGI middleware (see the module's docstring)."""

    def __init__(self, app: WSGIApplication, hosts: HostPolicy, allowed_origins: Iterable[str] = ()):
        self.app = app
        self.hosts = hosts
        self.origins = frozenset(normalize_origin(o) for o in allowed_origins)

    # -- the answers --------------------------------------------------------------------------------
    @staticmethod
    def _problem(
        environ: WSGIEnvironment,
        start_response: StartResponse,
        status: int,
        title: str,
        detail: str,
        headers: Iterable[tuple[str, str]] = (),
    ) -> Iterable[bytes]:
        from .api import problem

        return problem(status, title, detail)(environ, _adding(start_response, list(headers)))

    def _preflight(self, environ: WSGIEnvironment, start_response: StartResponse, origin: str) -> Iterable[bytes]:
        headers = [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", CORS_METHODS),
            ("Access-Control-Allow-Headers", CORS_HEADERS),
            ("Access-Control-Max-Age", CORS_MAX_AGE),
            ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
            ("Content-Length", "0"),
        ]
        start_response("204 No Content", headers)
        return [b""]

    # -- the checks ---------------------------------------------------------------------------------
    def own_origin(self, environ: WSGIEnvironment) -> str | None:
        """The origin this request was sent to: scheme and Host (already checked)."""
        host = environ.get("HTTP_HOST")
        if not host:
            return None
        try:
            return normalize_origin(f"{environ.get('wsgi.url_scheme', 'http')}://{host.strip()}")
        except BadSetting:
            return None

    def foreign(self, environ: WSGIEnvironment) -> str | None:
        """Why this browser request comes from another site, or None when it does not."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None:
            if origin.strip().lower() == "null":
                return "Origin null (a sandboxed or opaque page)"
            try:
                given = normalize_origin(origin)
            except BadSetting:
                return f"Origin {origin[:100]!r} is not an origin"
            if given in self.origins or given == self.own_origin(environ):
                return None
            return f"Origin {given} is not this service's"
        site = (environ.get("HTTP_SEC_FETCH_SITE") or "").strip().lower()
        if site in ("cross-site", "same-site"):
            return f"Sec-Fetch-Site: {site}"
        return None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host: str | None = environ.get("HTTP_HOST")
        if host is not None and not self.hosts.allows(host):  # no Host (HTTP/1.0): no name to judge
            return self._problem(
                environ,
                start_response,
                421,
                "Misdirected Request",
                f"this service does not answer to the host name {host[:100]!r}; add it to "
                "service.server_names if it is really this service's name",
            )
        method = environ.get("REQUEST_METHOD", "GET").upper()
        origin = environ.get("HTTP_ORIGIN")
        allowed = None
        if origin is not None and self.origins:
            try:
                candidate = normalize_origin(origin)
            except BadSetting:
                candidate = None
            allowed = candidate if candidate in self.origins else None
        if method == "OPTIONS" and origin is not None and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            if allowed:
                return self._preflight(environ, start_response, allowed)
            return self._problem(
                environ,
                start_response,
                403,
                "Origin not allowed",
                f"cross-origin requests from {origin[:100]!r} are not allowed; list the origin "
                "in service.allowed_origins to allow it",
                [("Vary", "Origin")],
            )
        if method not in SAFE_METHODS:
            why = self.foreign(environ)
            if why:
                return self._problem(
                    environ,
                    start_response,
                    403,
                    "Cross-site request refused",
                    f"{why}: a page of another site cannot change anything here; list the origin "
                    "in service.allowed_origins to allow it",
                    [("Vary", "Origin")],
                )
        extra: list[tuple[str, str]] = []
        if allowed:
            extra = [("Access-Control-Allow-Origin", allowed), ("Access-Control-Expose-Headers", CORS_EXPOSE)]
        if self.origins:
            extra.append(("Vary", "Origin"))
        return self.app(environ, _adding(start_response, extra) if extra else start_response)


def _adding(start_response: StartResponse, extra: list[tuple[str, str]]) -> StartResponse:
    if not extra:
        return start_response

    def start(
        status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        headers = list(headers)
        for name, value in extra:
            same = [i for i, (k, _) in enumerate(headers) if k.lower() == name.lower()]
            if same and name.lower() == "vary":
                k, old = headers[same[0]]
                headers[same[0]] = (k, f"{old}, {value}")
            else:
                headers = [h for i, h in enumerate(headers) if i not in same] + [(name, value)]
        return start_response(status, headers, exc_info)

    return start


# --- /healthz -------------------------------------------------------------------------------------------
def token_given(headers: Headers, token: str | None) -> bool:
    """The request carries the service token (Authorization: Bearer <token>)."""
    if not token:
        return False
    scheme, _, value = headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


class HealthStatus(TypedDict):
    status: str  # "ok" or "unhealthy"


class Health(HealthStatus, total=False):
    """``/healthz``'s body; what a caller sees of it depends on :func:`visible_health`."""

    version: str
    database: str
    workers: dict[str, str]  # printer name → "running" or "stopped"


def visible_health(body: Health, headers: Headers, token: str | None) -> Health:
    """What ``/healthz`` shows this caller. With the token: everything. A service with a token,
    asked without it: the status alone (a load balancer needs no more). A loopback service
    without a token: status and the workers (printer names the API lists to anyone anyway),
    never the database path or the versions (a map of the machine for whoever asks)."""
    if token_given(headers, token):
        return body
    if token:
        return {"status": body["status"]}
    return {"status": body["status"], "workers": body.get("workers", {})}
