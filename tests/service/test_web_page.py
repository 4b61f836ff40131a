"""The status page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import shutil
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
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def test_page_shows_printers_queue_and_preview(service, vprinter, browser):
    done = service.submit({"type": "receipt", "document": {"blocks": [
        {"type": "text", "text": "PAGE TEST", "bold": True, "width": 2, "height": 2, "align": "center"},
        {"type": "kv", "key": "Energy", "value": "23.456 kWh"}, {"type": "qr", "data": "https://example.com/r/1"},
        {"type": "cut"}]}}).json["id"]
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
