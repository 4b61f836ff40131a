"""The tap over TLS (OCPP security profiles 2 and 3) and a 2.1 station known by its subprotocol,
with the real ``ocpp`` package as station and as CSMS, certificates made by the test
(tests/ocpp/certs.py), receipts on the virtual printer's paper."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import replace

import pytest

pytest.importorskip("ocpp")

from ocpp.v21 import ChargePoint as CP21  # noqa: E402
from ocpp.v21 import call as call21  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import InvalidHandshake  # noqa: E402

from escpos809.ocpp.ingest import Ingest, printer_sink  # noqa: E402
from escpos809.ocpp.tap import Recorder, Tap, TlsSetupError, server_tls, upstream_tls  # noqa: E402
from tests.ocpp.certs import Ca  # noqa: E402
from tests.ocpp.conftest import escpos809  # noqa: E402
from tests.ocpp.test_tap_real_ocpp import AUTH, CFG, CsmsServer, line, paper_qr, session16, wait_for  # noqa: E402
from tests.service.conftest import printed_texts  # noqa: E402


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = Ca(folder)
    return {
        "ca": ca.path,
        "issuer": ca,
        "tap": ca.issue("tap.example", server=True),
        "csms": ca.issue("csms.example", server=True),
        "station": ca.issue("CP-TLS3", server=False),
        "other_ca": Ca(folder, "Other CA"),
    }


def station_tls(pki, cert=None) -> ssl.SSLContext:
    """What a station on profile 2/3 uses: the CA it trusts, its own certificate on profile 3."""
    ctx = ssl.create_default_context(cafile=pki["ca"])
    if cert is not None:
        ctx.load_cert_chain(cert.cert, cert.key)
    return ctx


class TlsRun:
    def __init__(self, csms, vprinter, tmp_path, tls, upstream="ws", up_tls=None):
        self.ingest = Ingest(CFG, tmp_path / "ocpp.db", printer_sink(vprinter.uri)).start(0.1)
        self.recorder = Recorder(self.ingest.feed)
        tap = Tap(f"{upstream}://127.0.0.1:{csms.port}", self.recorder, tls=tls, upstream_tls=up_tls)
        self.tap = tap.start_thread()
        self.url = f"wss://127.0.0.1:{self.tap.tap.port}"

    def close(self):
        self.tap.stop()
        self.recorder.drain()
        self.recorder.close()
        self.ingest.close()


def test_profile2_tls_with_basic_auth_passed_through(pki, vprinter, tmp_path):
    csms = CsmsServer()
    run = TlsRun(csms, vprinter, tmp_path, server_tls(pki["tap"].cert, pki["tap"].key))
    try:
        replies = asyncio.run(session16(run.url, "CP-TLS2", ssl=station_tls(pki)))
        assert replies[1].transaction_id == 4000
        assert wait_for(lambda: any(j.pages for j in vprinter.jobs))
    finally:
        run.close()
        csms.stop()
    # the CSMS got the station's Basic auth header byte for byte
    assert csms.connections == [{"path": "/ocpp/CP-TLS2", "subprotocol": "ocpp1.6", "authorization": AUTH}]
    assert line(printed_texts(vprinter), "Energy").endswith("9.600 kWh")


def test_profile3_requires_a_station_certificate(pki, vprinter, tmp_path):
    csms = CsmsServer()
    tls = server_tls(pki["tap"].cert, pki["tap"].key, client_ca=pki["ca"])
    run = TlsRun(csms, vprinter, tmp_path, tls)
    try:
        # without a certificate: refused in the TLS handshake, the CSMS never hears of it
        with pytest.raises((ssl.SSLError, ConnectionError, InvalidHandshake, EOFError)):
            asyncio.run(session16(run.url, "CP-NOCERT", ssl=station_tls(pki)))
        # a certificate from another CA: refused the same way
        stranger = pki["other_ca"].issue("CP-STRANGER", server=False)
        with pytest.raises((ssl.SSLError, ConnectionError, InvalidHandshake, EOFError)):
            asyncio.run(session16(run.url, "CP-STRANGER", ssl=station_tls(pki, stranger)))
        assert csms.connections == []
        # with its certificate: through, and the receipt prints
        replies = asyncio.run(session16(run.url, "CP-TLS3", ssl=station_tls(pki, pki["station"])))
        assert replies[1].transaction_id == 4000
        assert wait_for(lambda: any(j.pages for j in vprinter.jobs))
    finally:
        run.close()
        csms.stop()
    assert [c["path"] for c in csms.connections] == ["/ocpp/CP-TLS3"]
    assert line(printed_texts(vprinter), "TOTAL").endswith("3.31 EUR")


def test_profile3_a_station_cannot_connect_as_another(pki, vprinter, tmp_path):
    """A certificate the CA signed for CP-OTHER does not let its holder speak as CP-TLS3: the
    tap, which terminated the TLS, refuses it with 403 before the CSMS hears of it (the CSMS
    can no longer see the certificate to judge). ``station_identity=False`` lets it through."""
    from websockets.exceptions import InvalidStatus

    other = pki["issuer"].issue("CP-OTHER", server=False)
    csms = CsmsServer()
    tls = server_tls(pki["tap"].cert, pki["tap"].key, client_ca=pki["ca"])
    run = TlsRun(csms, vprinter, tmp_path, tls)
    try:
        with pytest.raises(InvalidStatus) as refused:
            asyncio.run(session16(run.url, "CP-TLS3", ssl=station_tls(pki, other)))
        assert refused.value.response.status_code == 403
        assert b"names 'CP-OTHER', not 'CP-TLS3'" in refused.value.response.body
        assert csms.connections == []
        run.tap.tap.station_identity = False  # --any-station-cn
        replies = asyncio.run(session16(run.url, "CP-TLS3", ssl=station_tls(pki, other)))
        assert replies[1].transaction_id == 4000
    finally:
        run.close()
        csms.stop()
    assert [c["path"] for c in csms.connections] == ["/ocpp/CP-TLS3"]


def test_wss_upstream_with_a_ca_bundle(pki, vprinter, tmp_path):
    csms_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    csms_ctx.load_cert_chain(pki["csms"].cert, pki["csms"].key)
    csms = CsmsServer(ssl=csms_ctx)
    tls = server_tls(pki["tap"].cert, pki["tap"].key)
    run = TlsRun(csms, vprinter, tmp_path, tls, upstream="wss", up_tls=upstream_tls(pki["ca"]))
    try:
        replies = asyncio.run(session16(run.url, "CP-WSS", ssl=station_tls(pki)))
        assert len(replies) == 5
        assert wait_for(lambda: any(j.pages for j in vprinter.jobs))
    finally:
        run.close()
    # a tap that does not trust the CSMS's CA refuses to connect upstream: the station gets 502
    untrusting = Tap(f"wss://127.0.0.1:{csms.port}", None, tls=tls, upstream_tls=upstream_tls()).start_thread()
    try:
        with pytest.raises(InvalidHandshake) as err:
            asyncio.run(session16(f"wss://127.0.0.1:{untrusting.tap.port}", "CP-WSS2", ssl=station_tls(pki)))
        assert err.value.response.status_code == 502  # type: ignore[attr-defined]
    finally:
        untrusting.stop()
        csms.stop()
    assert [(c["path"], c["authorization"]) for c in csms.connections] == [("/ocpp/CP-WSS", AUTH)]


def test_bad_certificate_files_are_one_line_errors(pki, tmp_path):
    with pytest.raises(TlsSetupError, match="certificate .*nothere.pem"):
        server_tls(str(tmp_path / "nothere.pem"))
    with pytest.raises(TlsSetupError, match="client CA"):
        server_tls(pki["tap"].cert, pki["tap"].key, client_ca=pki["tap"].key)  # a key is no CA
    proc = escpos809(
        "ocpp", "tap", "--upstream", "ws://127.0.0.1:1", "--certfile", str(tmp_path / "nothere.pem"),
        "--db", str(tmp_path / "o.db"), "--printer", "tcp://127.0.0.1:9",
    )  # fmt: skip
    assert proc.returncode == 7 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "nothere.pem" in proc.stderr
    proc = escpos809("ocpp", "tap", "--upstream", "ws://127.0.0.1:1", "--client-ca", pki["ca"])
    assert proc.returncode == 2 and "--client-ca need --certfile" in proc.stderr


async def session21(url: str, cp_id: str, tx: str) -> list:
    """A 2.1 station: nothing in its transaction events is 2.1-only; its settlement comes after."""
    replies = []
    async with connect(f"{url}/ocpp/{cp_id}", subprotocols=["ocpp2.1"]) as ws:
        cp = CP21(cp_id, ws)
        runner = asyncio.create_task(cp.start())
        for seq, (event, ts, kwh) in enumerate(
            [("Started", "2025-03-01T09:00:00Z", 10.0), ("Ended", "2025-03-01T09:40:00Z", 19.6)]
        ):
            replies.append(
                await cp.call(
                    call21.TransactionEvent(
                        event_type=event,
                        timestamp=ts,
                        trigger_reason="Authorized",
                        seq_no=seq,
                        transaction_info={"transaction_id": tx},
                        evse={"id": 1, "connector_id": 1},
                        meter_value=[
                            {
                                "timestamp": ts,
                                "sampled_value": [
                                    {"value": kwh, "measurand": "Energy.Active.Import.Register",
                                     "unit_of_measure": {"unit": "kWh", "multiplier": 0}}
                                ],
                            }
                        ],
                    )
                )
            )  # fmt: skip
        await asyncio.sleep(0.5)  # a 2.0.1 reading would print now, without the settlement's receipt URL
        replies.append(
            await cp.call(
                call21.NotifySettlement(
                    psp_ref="psp-1",
                    settlement_amount=4.7,
                    settlement_time="2025-03-01T09:41:00Z",
                    status="Settled",
                    transaction_id=tx,
                )
            )
        )
        runner.cancel()
    return replies


def test_21_station_known_by_its_subprotocol_through_the_tap(vprinter, tmp_path):
    csms = CsmsServer(subprotocols=("ocpp2.1", "ocpp2.0.1", "ocpp1.6"))
    cfg = replace(CFG, receipt_url="https://receipts.example/{receipt_id}")
    ingest = Ingest(cfg, tmp_path / "ocpp.db", printer_sink(vprinter.uri)).start(0.1)
    recorder = Recorder(ingest.feed)
    tap = Tap(f"ws://127.0.0.1:{csms.port}", recorder).start_thread()
    try:
        replies = asyncio.run(session21(f"ws://127.0.0.1:{tap.tap.port}", "CS-T21", "tx-21"))
        assert replies[-1].receipt_id == "R-tx-21"
        assert wait_for(lambda: any(j.pages for j in vprinter.jobs))
    finally:
        tap.stop()
        recorder.drain()
        recorder.close()
        ingest.close()
        csms.stop()
    assert csms.connections[0]["subprotocol"] == "ocpp2.1"
    assert printed_texts(vprinter).count("CHARGING RECEIPT") == 1
    # waited for the settlement: read as 2.0.1 it would have printed at the Ended reply, with
    # the transaction id in place of the receipt id
    assert paper_qr(vprinter) == ["https://receipts.example/R-tx-21"]


def test_the_tap_command_over_tls(pki, vprinter, tmp_path):
    """`escpos809 ocpp tap` in its own process, profile 3 towards the station, wss:// upstream."""
    import os
    import subprocess
    import sys

    from tests.service.conftest import free_port

    csms_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    csms_ctx.load_cert_chain(pki["csms"].cert, pki["csms"].key)
    csms = CsmsServer(ssl=csms_ctx)
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text('[ocpp]\ntimezone = "Europe/Berlin"\ngrace_s = 0.5\n')
    proc = subprocess.Popen(
        [sys.executable, "-c", "from escpos809.cli import main; main()", "ocpp", "tap",
         "--listen", f"127.0.0.1:{port}", "--upstream", f"wss://127.0.0.1:{csms.port}",
         "--upstream-ca", pki["ca"], "--certfile", pki["tap"].cert, "--keyfile", pki["tap"].key,
         "--client-ca", pki["ca"], "--db", str(tmp_path / "tap.db"), "--printer", vprinter.uri],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "ESCPOS809_CONFIG": str(config)},
    )  # fmt: skip
    try:
        banner = proc.stderr.readline()
        assert banner.startswith(f"escpos809 tap on wss://127.0.0.1:{port}/"), banner
        replies = asyncio.run(session16(f"wss://127.0.0.1:{port}", "CP-TLS3", ssl=station_tls(pki, pki["station"])))
        assert replies[1].transaction_id == 4000
        assert wait_for(lambda: any(j.pages for j in vprinter.jobs))
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()
        csms.stop()
    assert csms.connections == [{"path": "/ocpp/CP-TLS3", "subprotocol": "ocpp1.6", "authorization": AUTH}]
    assert line(printed_texts(vprinter), "TOTAL").endswith("3.31 EUR")
