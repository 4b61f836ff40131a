"""Zeroconf advertisement, bound to 127.0.0.1 only (nothing leaves loopback)."""

from __future__ import annotations

import time

from zeroconf import IPVersion, ServiceBrowser, Zeroconf


def test_service_advertises_api_and_printers(make_service, vprinter):
    svc = make_service({"front": vprinter.uri, "usb": "usb://0483:5743"}, zeroconf=True).start()
    zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    try:
        seen: dict[str, list[str]] = {}

        class Listener:
            def add_service(self, zc_, type_, name):
                seen.setdefault(type_, []).append(name)

            update_service = remove_service = lambda *a: None

        types = ["_http._tcp.local.", "_escpos809._tcp.local.", "_pdl-datastream._tcp.local.", "_printer._tcp.local."]
        ServiceBrowser(zc, types, listener=Listener())
        end = time.monotonic() + 20
        while time.monotonic() < end and not all(
            any("escpos809" in n or "OCPP-809" in n for n in seen.get(t, [])) for t in types
        ):
            time.sleep(0.1)
        ours = {t: [n for n in seen.get(t, []) if "escpos809" in n or "OCPP-809" in n] for t in types}
        assert all(ours.values()), seen

        def on_port(type_: str, port: int) -> list:
            """Our records of a type on ``port`` (another escpos809 on this machine may advertise too)."""
            infos = [zc.get_service_info(type_, n, timeout=3000) for n in ours[type_]]
            return [i for i in infos if i is not None and i.port == port]

        [api] = on_port("_escpos809._tcp.local.", svc.port)
        assert api.parsed_addresses() == ["127.0.0.1"]
        assert api.decoded_properties["path"] == "/api/v1" and api.decoded_properties["dots"] == "576"
        [http] = on_port("_http._tcp.local.", svc.port)
        assert http.decoded_properties["path"] == "/api/v1"
        # only the network printer is advertised for raw printing, with Bonjour Printing keys
        assert not [n for n in ours["_pdl-datastream._tcp.local."] if n.startswith("OCPP-809 usb.")], ours
        [pdl] = on_port("_pdl-datastream._tcp.local.", vprinter.port)
        assert pdl.parsed_addresses() == ["127.0.0.1"]
        txt = pdl.decoded_properties
        assert (txt["ty"], txt["product"], txt["pdl"]) == ("OCOM OCPP-809", "(OCPP-809)", "application/vnd.escpos")
        assert (txt["usb_MFG"], txt["usb_CMD"], txt["Color"], txt["note"]) == ("OCOM", "ESC/POS", "F", "front")
        reserve = zc.get_service_info("_printer._tcp.local.", ours["_printer._tcp.local."][0], timeout=3000)
        assert reserve.port == 0
        # a graceful stop withdraws the records
        assert svc.stop() == 0
    finally:
        zc.close()
