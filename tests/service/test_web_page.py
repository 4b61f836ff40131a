"""The status page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.conftest import printed_texts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@contextlib.contextmanager
def another_origin(html: bytes) -> Iterator[str]:
    """A page of another origin (another port of 127.0.0.1) serving ``html``: its URL."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Evil(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    evil = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{evil.server_address[1]}/"
    finally:
        evil.shutdown()
        evil.server_close()


def test_page_shows_printers_queue_and_preview(service, vprinter, browser):
    done = service.submit(
        {
            "type": "receipt",
            "document": {
                "blocks": [
                    {"type": "text", "text": "PAGE TEST", "bold": True, "width": 2, "height": 2, "align": "center"},
                    {"type": "kv", "key": "Energy", "value": "23.456 kWh"},
                    {"type": "qr", "data": "https://example.com/r/1"},
                    {"type": "cut"},
                ]
            },
        }
    ).json["id"]
    service.wait_state(done)
    # the page forbids eval (CSP); the test harness needs it for its wait_for_function probes
    page = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"http://127.0.0.1:{service.port}/")
    card = page.locator('[data-printer="default"]')
    card.wait_for()
    page.wait_for_function("document.querySelector('[data-printer=default] .badge').textContent === 'ready'")
    assert "tcp://127.0.0.1" in card.inner_text()
    page.locator(f'[data-job="{done}"]').wait_for()
    assert "done" in page.locator(f'[data-job="{done}"]').inner_text()
    # preview of that job: the picture the virtual printer printed
    page.locator(f'[data-job="{done}"] button').click()
    page.wait_for_function("document.getElementById('preview').naturalWidth > 0")
    assert page.evaluate("document.getElementById('preview').naturalWidth") == 576
    # test print from the page: queued, printed on the virtual printer, shown in the queue
    before = len(printed_texts(vprinter))
    card.get_by_role("button", name="Test print").click()
    page.wait_for_function("document.getElementById('message').textContent.startsWith('test queued')")
    job_id = page.inner_text("#message").rsplit(" ", 1)[-1]
    service.wait_state(job_id)
    vprinter.wait_idle()
    assert "escpos809 test print" in printed_texts(vprinter)[before:]
    card.get_by_role("button", name="Beep").click()
    page.wait_for_function("document.getElementById('message').textContent.startsWith('beep queued')")
    page.wait_for_function(f"!!document.querySelector('[data-job=\"{job_id}\"]')")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "status-page.png"), full_page=True)
    assert errors == []


def test_page_asks_for_the_token(make_service, vprinter, browser):
    svc = make_service({"default": vprinter.uri}, token="page-token-0123456789").start()
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"http://127.0.0.1:{svc.port}/")
    page.locator("#token-form").wait_for(state="visible")
    page.fill("#token", "page-token-0123456789")
    page.click("#token-form button")
    page.locator('[data-printer="default"]').wait_for()


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_page_works_by_either_local_name(service, vprinter, browser, name):
    """The page's own requests are same-origin whichever local name it was opened by: it lists,
    previews and prints (POSTs carry Origin http://<name>:<port>)."""
    page = browser.new_context(bypass_csp=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"http://{name}:{service.port}/")
    card = page.locator('[data-printer="default"]')
    card.wait_for()
    card.get_by_role("button", name="Test print").click()
    page.wait_for_function("document.getElementById('message').textContent.startsWith('test queued')")
    job_id = page.inner_text("#message").rsplit(" ", 1)[-1]
    service.wait_state(job_id)
    page.wait_for_function("document.getElementById('preview').naturalWidth > 0")  # its preview, fetched
    vprinter.wait_idle()
    assert "escpos809 test print" in printed_texts(vprinter)
    assert errors == []


def test_a_page_of_another_origin_cannot_print(service, vprinter, browser):
    """A real browser on a page of another origin (another local port: no browser-side
    private-network rule stands in the way) tries what needs no CORS preflight — a text/plain
    form, a no-cors fetch — and a JSON fetch. The service refuses them all; nothing prints."""
    target = f"http://127.0.0.1:{service.port}/api/v1/printers/default"
    html = f"""<!doctype html><title>cat pictures</title>
<form id="f" method="POST" action="{target}/jobs" enctype="text/plain"><input name="PWNED BY FORM" value="x"></form>
<script>
const sent = [];
Promise.allSettled([
  fetch("{target}/beep", {{method: "POST", mode: "no-cors", body: "x"}}),
  fetch("{target}/jobs", {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}},
                           body: "PWNED BY FETCH\\n"}}),
  fetch("{target}/jobs", {{method: "POST", headers: {{"Content-Type": "application/json"}},
                           body: JSON.stringify({{type: "text", text: "PWNED BY JSON"}})}}),
]).then((r) => {{ document.title = "sent " + r.map((x) => x.status).join(","); }});
</script>""".encode()

    with another_origin(html) as evil_url:
        page = browser.new_context().new_page()
        page.goto(evil_url)
        page.wait_for_function("document.title.startsWith('sent')", timeout=10_000)
        with page.expect_navigation():
            page.evaluate("document.getElementById('f').submit()")
        assert "Cross-site request refused" in page.content()
    import time

    time.sleep(1)
    assert service.request("GET", "/api/v1/jobs").json["jobs"] == []
    assert [op.kind for j in list(vprinter.jobs) for op in j.ops if op.kind != "status_request"] == []


def test_a_page_of_another_origin_cannot_frame_the_pages(service, vprinter, browser):
    """Clickjacking: a page of another origin shows the status page and the designer in
    invisible frames over its own bait, and the user's clicks land on their buttons (Test
    print, Print) — requests the framed page sends from its own origin, so no Origin check
    stops them. The pages refuse to be framed (CSP frame-ancestors, X-Frame-Options)."""
    own = f"http://127.0.0.1:{service.port}"
    html = f"""<!doctype html><title>win a prize</title>
<iframe id="status" src="{own}/" style="opacity:0.01" width="900" height="700"></iframe>
<iframe id="designer" src="{own}/designer" style="opacity:0.01" width="1400" height="900"></iframe>""".encode()

    with another_origin(html) as evil_url:
        page = browser.new_context().new_page()
        page.goto(evil_url, wait_until="load")
        page.wait_for_timeout(1500)  # the frames' scripts would have drawn their buttons by now
        for frame_id, button in (("status", "Test print"), ("designer", "Print")):
            buttons = page.frame_locator(f"#{frame_id}").get_by_role("button", name=button, exact=True)
            if buttons.count():  # framed: the user's click lands on it
                buttons.first.click(force=True)
        page.wait_for_timeout(1000)
    assert service.request("GET", "/api/v1/jobs").json["jobs"] == []
    for path in ("/", "/designer"):
        r = service.request("GET", path)
        assert (
            "frame-ancestors 'none'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"
        )
