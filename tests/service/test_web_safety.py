"""Nothing outside can make the service print, and many idle clients never starve real ones.

Over real HTTP against ``escpos809 serve`` printing to the virtual printer: every refusal is
checked on the paper too (the virtual printer got no job, the store holds none)."""

from __future__ import annotations

import resource
import socket
import time

import pytest

from tests.service.conftest import printed_texts

EVIL = "http://evil.example"
FORM = "application/x-www-form-urlencoded"
BODIES = {  # what a page can send cross-site without a CORS preflight, and JSON (it would need one)
    "text/plain": ("PWNED BY A WEB PAGE\n", "text/plain"),
    "form": ("text=PWNED", FORM),
    "json": ('{"type": "text", "text": "PWNED"}', "application/json"),
}
ACTIONS = ("jobs", "beep", "cut", "test")


def problem(r, status: int) -> dict:
    assert r.status == status, r
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json["status"] == status and r.json["detail"]
    return r.json


def paper(vprinter) -> list[str]:
    """What reached the virtual printer besides the worker's status queries."""
    return [op.kind for j in list(vprinter.jobs) for op in j.ops if op.kind != "status_request"]


def nothing_printed(svc, vprinter, wait: float = 0.8) -> None:
    time.sleep(wait)  # the worker polls every 0.2 s: a queued job would have been taken by now
    assert svc.request("GET", "/api/v1/jobs").json["jobs"] == []
    assert paper(vprinter) == []


def post(svc, action: str, body=None, ctype=None, **headers):
    if ctype:
        headers["Content-Type"] = ctype
    return svc.request("POST", f"/api/v1/printers/default/{action}", body, headers=headers)


def test_cross_origin_posts_are_refused_and_print_nothing(service, vprinter):
    for origin in (EVIL, "null", f"http://localhost:{service.port + 1}", f"https://127.0.0.1:{service.port}"):
        for action in ACTIONS:
            for name, (body, ctype) in BODIES.items():
                r = post(service, action, body, ctype, Origin=origin)
                p = problem(r, 403)
                assert "access-control-allow-origin" not in r.headers, (origin, action, name)
                assert "another site" in p["detail"]
    nothing_printed(service, vprinter)
    # a job made by the service's own client: a cross-site page cannot cancel it either
    vprinter.faults.cover_open = True
    job = service.submit({"type": "text", "text": "MINE"}).json["id"]
    problem(service.request("DELETE", f"/api/v1/jobs/{job}", headers={"Origin": EVIL}), 403)
    problem(service.request("POST", f"/api/v1/jobs/{job}/cancel", headers={"Origin": EVIL}), 403)
    problem(service.request("POST", "/api/v1/preview", {"type": "text", "text": "x"}, headers={"Origin": EVIL}), 403)
    assert service.job(job)["state"] in ("queued", "held")
    vprinter.faults.cover_open = False
    service.wait_state(job)
    # the same requests from the service's own page (same origin) and from curl (no Origin) print
    own = f"http://127.0.0.1:{service.port}"
    r = post(service, "jobs", "SAME ORIGIN\n", "text/plain", Origin=own, **{"Sec-Fetch-Site": "same-origin"})
    assert r.status == 202, r
    r2 = post(service, "beep")
    assert r2.status == 202, r2
    for j in (r.json["id"], r2.json["id"]):
        service.wait_state(j)
    vprinter.wait_idle()
    assert printed_texts(vprinter) == ["MINE", "SAME ORIGIN"]


def test_sec_fetch_site_without_origin(service, vprinter):
    for site in ("cross-site", "same-site", "Cross-Site"):
        p = problem(post(service, "jobs", "FETCH\n", "text/plain", **{"Sec-Fetch-Site": site}), 403)
        assert "Sec-Fetch-Site" in p["detail"]
    problem(post(service, "beep", **{"Sec-Fetch-Site": "cross-site"}), 403)
    nothing_printed(service, vprinter)
    for site in ("same-origin", "none"):  # the page itself; a person typing the address
        r = post(service, "jobs", f"{site}\n", "text/plain", **{"Sec-Fetch-Site": site})
        assert r.status == 202, r
        service.wait_state(r.json["id"])
    vprinter.wait_idle()
    assert printed_texts(vprinter) == ["same-origin", "none"]


def test_configured_origin_gets_cors(make_service, vprinter):
    app = "http://pos.example:3000"
    svc = make_service({"default": vprinter.uri}, allowed_origins=[app, "https://kiosk.example"]).start()
    r = post(svc, "jobs", "FROM THE POS APP\n", "text/plain", Origin=app)
    assert r.status == 202, r
    assert r.headers["access-control-allow-origin"] == app
    assert "Origin" in r.headers["vary"] and "Location" in r.headers["access-control-expose-headers"]
    svc.wait_state(r.json["id"])
    ok = svc.request("GET", "/api/v1/jobs", headers={"Origin": "https://kiosk.example:443"})
    assert ok.headers["access-control-allow-origin"] == "https://kiosk.example"
    # preflight for a JSON POST with the token and an idempotency key
    pre = svc.request(
        "OPTIONS",
        "/api/v1/printers/default/jobs",
        headers={
            "Origin": app,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert pre.status == 204, pre
    assert pre.headers["access-control-allow-origin"] == app
    assert "POST" in pre.headers["access-control-allow-methods"]
    allowed = {h.strip().lower() for h in pre.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "Origin" in pre.headers["vary"]
    assert "*" not in pre.headers["access-control-allow-origin"] + pre.headers["access-control-allow-headers"]
    # any other origin: no preflight, no CORS headers, no printing
    for other in (EVIL, "http://pos.example:3001", "null"):
        bad = svc.request(
            "OPTIONS",
            "/api/v1/printers/default/jobs",
            headers={"Origin": other, "Access-Control-Request-Method": "POST"},
        )
        assert bad.status == 403 and "access-control-allow-origin" not in bad.headers, bad
        assert "access-control-allow-methods" not in bad.headers
        problem(post(svc, "jobs", "NO\n", "text/plain", Origin=other), 403)
        read = svc.request("GET", "/api/v1/jobs", headers={"Origin": other})
        assert read.status == 200 and "access-control-allow-origin" not in read.headers
    vprinter.wait_idle()
    assert printed_texts(vprinter) == ["FROM THE POS APP"]


def test_unconfigured_service_answers_no_preflight(service, vprinter):
    pre = service.request(
        "OPTIONS",
        "/api/v1/printers/default/jobs",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert not any(h.startswith("access-control-") for h in pre.headers), pre.headers
    read = service.request("GET", "/api/v1/printers", headers={"Origin": EVIL})
    assert read.status == 200 and "access-control-allow-origin" not in read.headers


def test_foreign_host_is_misdirected(service, vprinter):
    for host in (
        "evil.example",
        f"evil.example:{service.port}",
        "127.0.0.1.evil.example",
        "localhost.evil.example",
        "",
        "[::2]:80",
        "127.0.0.2",
    ):
        for method, path in (
            ("GET", "/api/v1/jobs"),
            ("GET", "/healthz"),
            ("GET", "/"),
            ("GET", "/metrics"),
            ("GET", "/api/v1/printers"),
        ):
            p = problem(service.request(method, path, headers={"Host": host}), 421)
            assert "host name" in p["detail"]
        for action in ACTIONS:
            problem(post(service, action, "REBOUND\n", "text/plain", Host=host), 421)
        # even with an Origin that matches the (foreign) Host: the rebinding page's own origin
        problem(
            post(
                service,
                "jobs",
                "REBOUND\n",
                "text/plain",
                Host=f"evil.example:{service.port}",
                Origin=f"http://evil.example:{service.port}",
            ),
            421,
        )
    nothing_printed(service, vprinter)
    for host in (
        f"localhost:{service.port}",
        "localhost",
        f"127.0.0.1:{service.port}",
        "LOCALHOST",
        f"[::1]:{service.port}",
    ):
        r = service.request("GET", "/api/v1/jobs", headers={"Host": host})
        assert r.status == 200, (host, r)
        # the page at that address posting to itself
        r = post(service, "beep", Host=host, Origin=f"http://{host.lower()}")
        assert r.status == 202, (host, r)


def test_configured_server_name_and_origin_by_flags(make_service, vprinter):
    svc = make_service({"default": vprinter.uri})
    svc.flags = ["--server-name", "printer.shop.lan", "--allow-origin", "https://pos.example"]
    svc.start()
    r = post(svc, "beep", Origin="https://pos.example")
    assert r.status == 202 and r.headers["access-control-allow-origin"] == "https://pos.example", r
    r = svc.request("GET", "/api/v1/jobs", headers={"Host": f"printer.shop.lan:{svc.port}"})
    assert r.status == 200, r
    r = post(
        svc,
        "jobs",
        "BY NAME\n",
        "text/plain",
        Host=f"printer.shop.lan:{svc.port}",
        Origin=f"http://printer.shop.lan:{svc.port}",
    )
    assert r.status == 202, r
    problem(svc.request("GET", "/api/v1/jobs", headers={"Host": "other.shop.lan"}), 421)


def test_healthz_on_loopback_without_token_hides_the_database(service):
    anonymous = service.request("GET", "/healthz")
    assert anonymous.status == 200
    assert anonymous.json == {"status": "ok", "workers": {"default": "running"}}
    assert str(service.db) not in anonymous.body.decode() and "jobs.db" not in anonymous.body.decode()


def test_healthz_details_need_the_token(make_service, vprinter):
    token = "health-token-0123456789"
    svc = make_service({"default": vprinter.uri}, token=token).start()
    svc.token = None
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
        r = svc.request("GET", "/healthz", headers=headers)
        assert r.status == 200 and r.json == {"status": "ok"}, r
    full = svc.request("GET", "/healthz", headers={"Authorization": f"Bearer {token}"})
    assert full.status == 200
    assert full.json["database"] == str(svc.db) and full.json["workers"] == {"default": "running"}
    assert full.json["version"]


# --- connections --------------------------------------------------------------------------------------------
@pytest.fixture
def many_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def hold(port: int, n: int) -> list[socket.socket]:
    """``n`` connections that stall: a third send nothing, a third part of a request line and
    headers, a third whole headers and part of a body."""
    partial = (
        b"POST /api/v1/printers/default/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty",
        b"GET /api/v1/jo",
        b"POST /api/v1/printers/default/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 100000\r\n\r\nHALF A BODY",
    )
    held = []
    for k in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if k % 3:
            s.sendall(partial[k % len(partial)])
        held.append(s)
    return held


def timed_health(svc, timeout: float = 5) -> float:
    t = time.monotonic()
    r = svc.request("GET", "/healthz", timeout=timeout)
    assert r.status == 200, r
    return time.monotonic() - t


def test_a_thousand_idle_connections_do_not_starve_real_clients(service, vprinter, many_files):
    held = hold(service.port, 1000)
    try:
        time.sleep(0.5)
        assert timed_health(service) < 5
        r = service.submit({"type": "text", "text": "REAL CLIENT"}, timeout=5)
        assert r.status == 202, r
        assert service.wait_state(r.json["id"], timeout=20)["state"] == "done"
        alive = sum(1 for s in held if _open(s))
        assert alive >= 990, f"only {alive} of the idle connections are still held: the test proves nothing"
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    assert timed_health(service) < 5  # and after they go
    vprinter.wait_idle()
    assert printed_texts(vprinter) == ["REAL CLIENT"]


def _open(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def _closed_within(s: socket.socket, seconds: float, trickle: bytes = b"") -> float | None:
    """Seconds until the service closed ``s`` (sending ``trickle`` a byte every 0.2 s), None if it did not."""
    start = time.monotonic()
    s.settimeout(0.2)
    k = 0
    while time.monotonic() - start < seconds:
        if trickle:
            try:
                s.sendall(trickle[k % len(trickle) : k % len(trickle) + 1])
            except OSError:
                return time.monotonic() - start
            k += 1
        try:
            data = s.recv(4096)
            if data == b"" or b"408" in data:
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - start
    return None


def test_slow_and_silent_clients_are_dropped(make_service, vprinter):
    svc = make_service({"default": vprinter.uri}, header_timeout_s=1.5, idle_timeout_s=2).start()
    trickler = socket.create_connection(("127.0.0.1", svc.port))
    trickler.sendall(b"GET /healthz HTTP/1.1\r\n")
    silent = socket.create_connection(("127.0.0.1", svc.port))
    slow_body = socket.create_connection(("127.0.0.1", svc.port))
    slow_body.sendall(
        f"POST /api/v1/printers/default/jobs HTTP/1.1\r\nHost: 127.0.0.1:{svc.port}\r\n"
        "Content-Type: text/plain\r\nContent-Length: 100000\r\n\r\n".encode()
    )
    keepalive = socket.create_connection(("127.0.0.1", svc.port))
    keepalive.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{svc.port}\r\n\r\n".encode())
    assert b"200 OK" in keepalive.recv(4096)
    # a header byte every 0.2 s keeps the old waitress busy forever; here the headers are due in 1.5 s
    took = _closed_within(trickler, 8, trickle=b"X-Slow: " + b"a" * 200)
    assert took is not None and took < 4, took
    took = _closed_within(slow_body, 8, trickle=b"SLOW BODY ")  # 5 bytes a second
    assert took is not None and took < 4, took
    assert _closed_within(silent, 4) is not None
    assert _closed_within(keepalive, 5) is not None  # idle between requests: 2 s
    for s in (trickler, slow_body, silent, keepalive):
        s.close()
    assert timed_health(svc) < 5


def test_at_the_connection_limit_the_idlest_make_room(make_service, vprinter, many_files):
    svc = make_service({"default": vprinter.uri}, connection_limit=64).start()
    held = hold(svc.port, 150)
    try:
        time.sleep(0.3)
        assert timed_health(svc) < 5
        r = svc.submit({"type": "text", "text": "GOT IN"}, timeout=5)
        assert r.status == 202, r
        svc.wait_state(r.json["id"], timeout=20)
    finally:
        for s in held:
            s.close()
    vprinter.wait_idle()
    assert printed_texts(vprinter) == ["GOT IN"]


def test_oversize_headers_are_refused(service):
    r = service.request("GET", "/healthz", headers={"X-Big": "a" * 40_000})
    assert r.status == 431, r
    assert timed_health(service) < 5


def test_bad_settings_refuse_to_start(make_service, vprinter):
    from tests.service.test_api import _refused

    for settings, words in (
        ({"allowed_origins": ["*"]}, "allowed_origins"),
        ({"allowed_origins": ["http://a.example/path"]}, "no path"),
        ({"server_names": ["http://x.example"]}, "server_names"),
        ({"connection_limit": 3}, "connection_limit"),
    ):
        message = _refused(make_service({"default": vprinter.uri}, **settings))
        assert "exited 1" in message and words in message, message


def test_host_policy_by_bind_address():
    from escpos809_service.websafety import HostPolicy

    loop = HostPolicy("127.0.0.1")
    assert all(loop.allows(h) for h in ("localhost:8809", "127.0.0.1", "[::1]:8809", "LocalHost.", None))
    assert not any(loop.allows(h) for h in ("evil.example", "vm.local", "192.168.1.5", "[::1", "a, b", "", "x:y"))
    lan = HostPolicy("192.168.1.5", network_names={"till", "till.local"})
    assert all(lan.allows(h) for h in ("192.168.1.5:8809", "till.local:8809", "till", "localhost"))
    assert not any(lan.allows(h) for h in ("192.168.1.6", "evil.example", "till.evil.example"))
    anywhere = HostPolicy("0.0.0.0", ["printer.shop.lan"], network_names={"till.local"})
    assert all(anywhere.allows(h) for h in ("10.0.0.7:8809", "[fe80::1]:8809", "printer.shop.lan", "till.local"))
    assert not any(anywhere.allows(h) for h in ("evil.example", "10.0.0.7.nip.io", "printer.shop.lan.evil.example"))


def test_settings_from_file_environment_and_flags(tmp_path, monkeypatch):
    from escpos809_service.config import load_service_config

    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[service]\nserver_names = ["Printer.Shop.LAN"]\nallowed_origins = ["http://pos.example:80"]\n'
        "connection_limit = 2000\nheader_timeout_s = 5\n"
    )
    monkeypatch.setenv("ESCPOS809_CONFIG", str(cfg))
    c = load_service_config()
    assert (c.server_names, c.allowed_origins) == (["printer.shop.lan"], ["http://pos.example"])
    assert (c.connection_limit, c.header_timeout_s, c.idle_timeout_s) == (2000, 5.0, 30.0)
    monkeypatch.setenv("ESCPOS809_SERVICE_ALLOWED_ORIGINS", "http://a.example:3000, https://B.example")
    monkeypatch.setenv("ESCPOS809_SERVICE_IDLE_TIMEOUT_S", "12")
    c = load_service_config()
    assert c.allowed_origins == ["http://a.example:3000", "https://b.example"] and c.idle_timeout_s == 12
    c = load_service_config(allowed_origins=["https://flag.example"], server_names=["till"])
    assert (c.allowed_origins, c.server_names) == (["https://flag.example"], ["till"])
