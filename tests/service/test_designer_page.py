"""The receipt designer in a real headless Chromium (Debian's), driven by Playwright, against
``escpos809 serve`` and a virtual printer: typing updates the preview (debounced), problems
appear at their JSON path, a template fills from its data, and Print puts it on paper."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.service.conftest import printed_texts
from tests.service.test_web_page import CHROMIUM, SHOTS, browser  # noqa: F401 (the fixture)

zxingcpp = pytest.importorskip("zxingcpp")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


def open_designer(browser, port: int, host: str = "127.0.0.1"):  # noqa: F811
    # the page forbids eval (CSP); the harness needs it for its wait_for_function probes
    page = browser.new_context(bypass_csp=True, viewport={"width": 1500, "height": 1000}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"http://{host}:{port}/designer")
    return page, errors


def previews(page) -> int:
    return int(page.evaluate("Number(document.body.dataset.previews || 0)"))


def wait_preview_after(page, count: int) -> None:
    page.wait_for_function(f"Number(document.body.dataset.previews || 0) > {count}")


def scanned(page) -> set[str]:
    shot = page.locator("#preview").screenshot()
    return {r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))}


def test_type_preview_problems_template_and_print(service, vprinter, browser):  # noqa: F811
    page, errors = open_designer(browser, service.port)
    page.wait_for_function("document.body.dataset.ready === '1'")
    # the examples to start from: the demo, the project's examples; a template starts with its data
    options = page.locator("#example option").all_inner_texts()
    assert "Charging receipt (escpos809 demo)" in options and "Restaurant (template)" in options
    assert page.input_value("#example") == "restaurant" and "Giulia" in page.input_value("#data")
    page.wait_for_function("document.body.dataset.previews >= 1")
    assert page.locator("#printer option").all_inner_texts() == ["default (ready)"]

    # typing: the preview follows, once the typing pauses (not once per key)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/api/v1/preview") else None)
    head = '{"blocks": [{"type": "text", "text": "DESIGNED IN CHROMIUM", "bold": true},\n  {"type": "qr", "data": "'
    page.fill("#data", "")
    page.fill("#document", head)
    before = previews(page)
    page.locator("#document").press_sequentially('TYPED-4711", "size": 6},\n  {"type": "cut"}]}', delay=15)
    wait_preview_after(page, before)
    assert "TYPED-4711" in scanned(page)  # the preview shows what was typed: its QR code scans
    assert 1 <= len(asked) < 10  # 38 keys, a handful of requests
    assert page.locator("#errors li.muted").inner_text() == "none"

    # a bad value: the service's problem, at its path, selects the value in the editor
    before = previews(page)
    page.fill("#document", page.input_value("#document").replace('"size": 6', '"size": 99'))
    item = page.locator('#errors li[data-path="/document/blocks/1/size"]')
    item.wait_for()
    assert "99 is greater than the maximum of 16" in item.inner_text() and "line 2" in item.inner_text()
    assert page.locator("#preview").get_attribute("class") == "stale"
    item.click()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "designer-problem.png"))
    assert (
        page.evaluate(
            "(() => { const t = document.getElementById('document');"
            " return t.value.slice(t.selectionStart, t.selectionEnd); })()"
        )
        == "99"
    )
    # not JSON at all: said locally, without asking the service
    page.fill("#document", '{"blocks": [')
    page.locator('#errors li[data-path="/document"]').wait_for()
    assert "not JSON" in page.inner_text("#errors")

    # a template and its data: a field the data lacks is named where the document uses it
    page.select_option("#example", "restaurant")
    page.wait_for_function("document.getElementById('data').value.includes('Giulia')")
    wait_preview_after(page, before)
    data = json.loads(page.input_value("#data"))
    del data["server"]
    page.fill("#data", json.dumps(data, indent=2))
    page.locator('#errors li[data-path="/document/blocks/1/text"]').wait_for()
    assert "no value for {server}" in page.inner_text("#errors")
    data["server"] = "Marco"
    before = previews(page)
    page.fill("#data", json.dumps(data, indent=2))
    wait_preview_after(page, before)

    # print it: queued, printed on the virtual printer, confirmed on the page
    page.select_option("#printer", "default")
    page.click("#print")
    page.wait_for_function(
        "/^job [0-9a-f]{16} printed on default$/.test(document.getElementById('message').textContent)"
    )
    job_id = page.inner_text("#message").split()[1]
    assert service.job(job_id)["state"] == "done"
    vprinter.wait_idle()
    assert "Table 12 · Server Marco" in printed_texts(vprinter)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "designer.png"), full_page=True)
    assert errors == []


def test_designer_asks_for_the_token_and_works_by_either_local_name(make_service, vprinter, browser):  # noqa: F811
    svc = make_service({"default": vprinter.uri}, token="designer-token-0123456789").start()
    page, errors = open_designer(browser, svc.port, "localhost")
    page.locator("#token-form").wait_for(state="visible")
    page.fill("#token", "designer-token-0123456789")
    page.click("#token-form button")
    page.wait_for_function("document.body.dataset.ready === '1' && document.body.dataset.previews >= 1")
    page.select_option("#example", "kiosk-ticket")
    page.wait_for_function("document.getElementById('document').value.includes('STADTMUSEUM')")
    page.click("#print")
    page.wait_for_function("/printed on default$/.test(document.getElementById('message').textContent)")
    vprinter.wait_idle()
    assert "STADTMUSEUM" in printed_texts(vprinter)
    assert errors == []


def test_examples_api(service):
    listed = service.request("GET", "/api/v1/examples").json["examples"]
    names = [e["name"] for e in listed]
    assert names[0] == "demo" and {"restaurant", "shop", "kiosk-ticket"} <= set(names)
    assert [e["name"] for e in listed if e["template"]] == ["restaurant"]
    for name in names:  # every example is a receipt the service takes
        ex = service.request("GET", f"/api/v1/examples/{name}").json
        body = {"type": "receipt", "document": ex["document"], **({"data": ex["data"]} if "data" in ex else {})}
        assert service.request("POST", "/api/v1/preview", body).status == 200, name
    for bad in ("nope", "..%2F..%2Fpyproject", "restaurant.data", "%00"):
        r = service.request("GET", f"/api/v1/examples/{bad}")
        assert r.status == 404 and r.headers["content-type"] == "application/problem+json", bad
    page = service.request("GET", "/designer")
    assert page.status == 200 and "default-src 'self'" in page.headers["content-security-policy"]


def test_html_in_a_document_and_its_problems_stays_text(service, vprinter, browser):  # noqa: F811
    """Markup a user (or a shared document) puts in a text, a block type or a field name comes
    back in the preview's problems; it is shown as text and never runs (the harness lifts the
    page's CSP, so the page's own DOM handling is what is tested)."""
    page, errors = open_designer(browser, service.port)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.wait_for_function("document.body.dataset.ready === '1'")
    xss = '<img src=x onerror="window.__xss=1;alert(1)">'
    doc = {"blocks": [{"type": "text", "text": xss}, {"type": xss}, {"type": "rule", xss: 1}]}
    page.fill("#data", "")
    page.fill("#document", json.dumps(doc))
    page.locator('#errors li[data-path="/document/blocks/1/type"]').wait_for()
    shown = page.inner_text("#errors")
    assert xss in shown  # the markup as the user wrote it, as text
    assert page.locator("#errors img").count() == 0 and page.locator("img[src='x']").count() == 0
    assert page.evaluate("window.__xss === undefined") and dialogs == [] and errors == []
