"""The real ``ocpp`` package (mobilityhouse) as charge point and as CSMS over real WebSockets
on 127.0.0.1, through ``escpos809``'s tap, printing to a virtual printer over TCP."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from decimal import Decimal

import pytest

ocpp = pytest.importorskip("ocpp")

import zxingcpp  # noqa: E402
from ocpp.routing import after, on  # noqa: E402
from ocpp.v16 import ChargePoint as CP16  # noqa: E402
from ocpp.v16 import call as call16  # noqa: E402
from ocpp.v16 import call_result as result16  # noqa: E402
from ocpp.v16.enums import Action as A16  # noqa: E402
from ocpp.v21 import ChargePoint as CP21  # noqa: E402
from ocpp.v21 import call_result as result21  # noqa: E402
from ocpp.v21.enums import Action as A21  # noqa: E402
from ocpp.v201 import ChargePoint as CP201  # noqa: E402
from ocpp.v201 import call as call201  # noqa: E402
from ocpp.v201 import call_result as result201  # noqa: E402
from ocpp.v201.enums import Action as A201  # noqa: E402
from PIL import Image  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import serve  # noqa: E402

from escpos809.emulator import VirtualPrinter  # noqa: E402
from escpos809.ocpp.config import load_ocpp_config  # noqa: E402
from escpos809.ocpp.ingest import Ingest, printer_sink  # noqa: E402
from escpos809.ocpp.tap import Recorder, Tap  # noqa: E402
from tests.ocpp.conftest import KEBA_KEY, KEBA_OCMF  # noqa: E402
from tests.service.conftest import free_port, printed_texts  # noqa: E402

CFG = load_ocpp_config(
    {
        "operator": "VoltPark",
        "timezone": "Europe/Berlin",
        "grace_s": 5,
        "receipt_url": "https://receipts.example/{cp}/{tx}",
        "public_keys": {"*": KEBA_KEY},
        "tariff": {"vat_percent": 19},
    }
)
AUTH = "Basic Q1AtVDE2OnNlY3JldA=="


# --- the CSMS --------------------------------------------------------------------------------------------
class Csms16(CP16):
    tx = 4000

    @on(A16.boot_notification)
    def boot(self, charge_point_vendor, charge_point_model, **kw):
        return result16.BootNotification(current_time="2025-03-01T09:00:00Z", interval=300, status="Accepted")

    @on(A16.start_transaction)
    def start_tx(self, connector_id, id_tag, meter_start, timestamp, **kw):
        return result16.StartTransaction(transaction_id=self.tx, id_tag_info={"status": "Accepted"})

    @on(A16.meter_values)
    def meter_values(self, connector_id, meter_value, **kw):
        return result16.MeterValues()

    @on(A16.stop_transaction)
    def stop_tx(self, meter_stop, timestamp, transaction_id, **kw):
        return result16.StopTransaction()

    @after(A16.stop_transaction)
    async def final_cost(self, transaction_id, **kw):
        # California Pricing on 1.6: the final cost and the invoice QR come in a DataTransfer
        await self.call(
            call16.DataTransfer(
                vendor_id="org.openchargealliance.costmsg",
                message_id="FinalCost",
                data=json.dumps(
                    {
                        "transactionId": transaction_id,
                        "cost": 3.31,
                        "qrCodeText": f"https://cpo.example/i/{transaction_id}",
                    }
                ),
            )
        )


class Csms201(CP201):
    @on(A201.boot_notification)
    def boot(self, charging_station, reason, **kw):
        return result201.BootNotification(current_time="2025-03-01T09:00:00Z", interval=300, status="Accepted")

    @on(A201.transaction_event)
    def tx_event(self, event_type, **kw):
        return result201.TransactionEvent(total_cost=4.7 if event_type == "Ended" else None)


class Csms21(CP21):
    @on(A21.boot_notification)
    def boot(self, charging_station, reason, **kw):
        return result21.BootNotification(current_time="2025-03-01T09:00:00Z", interval=300, status="Accepted")

    @on(A21.transaction_event)
    def tx_event(self, event_type, **kw):
        return result21.TransactionEvent(total_cost=4.7 if event_type == "Ended" else None)

    @on(A21.notify_settlement)
    def settlement(self, transaction_id=None, **kw):
        # receipt_id only: ocpp 2.1.0 writes receipt_url as "receiptURL", which its own
        # schema check then refuses (the response would go out as a CALLERROR)
        return result21.NotifySettlement(receipt_id=f"R-{transaction_id}")


class CsmsServer:
    """A CSMS on its own loop thread; remembers what each station sent and how it connected."""

    def __init__(self, ssl=None, subprotocols=("ocpp1.6", "ocpp2.0.1")):
        self.port = free_port()
        self.ssl, self.subprotocols = ssl, list(subprotocols)
        self.connections: list[dict] = []
        self.received: list[str] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        assert self._ready.wait(10)

    async def _main(self):
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()

        async def handler(ws):
            cp_id = ws.request.path.rsplit("/", 1)[-1]
            self.connections.append(
                {
                    "path": ws.request.path,
                    "subprotocol": ws.subprotocol,
                    "authorization": ws.request.headers.get("Authorization"),
                }
            )
            cls = {"ocpp1.6": Csms16, "ocpp2.1": Csms21}.get(ws.subprotocol or "", Csms201)
            cp = cls(cp_id, ws)
            original = cp.route_message

            async def route(raw):
                self.received.append(raw)
                return await original(raw)

            cp.route_message = route
            try:
                await cp.start()
            except Exception:  # noqa: BLE001 - the station went away
                pass

        async with serve(handler, "127.0.0.1", self.port, subprotocols=self.subprotocols, ssl=self.ssl):
            self._ready.set()
            await self.stop_event.wait()

    def stop(self):
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self._thread.join(5)


# --- the charge points -------------------------------------------------------------------------------------
class Station16(CP16):
    @on(A16.data_transfer)
    def data_transfer(self, vendor_id, **kw):
        return result16.DataTransfer(status="Accepted")


async def session16(url: str, cp_id: str, ssl=None) -> list:
    replies = []
    async with connect(
        f"{url}/ocpp/{cp_id}", subprotocols=["ocpp1.6"], additional_headers={"Authorization": AUTH}, ssl=ssl
    ) as ws:
        cp = Station16(cp_id, ws)
        runner = asyncio.create_task(cp.start())
        replies.append(await cp.call(call16.BootNotification(charge_point_model="AC22", charge_point_vendor="OCOM")))
        start = await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag="04A2B3C4D5", meter_start=268978, timestamp="2025-03-01T09:00:00Z"
            )
        )
        replies.append(start)
        tx = start.transaction_id
        for ts, wh in (("2025-03-01T09:15:00Z", "272578"), ("2025-03-01T09:30:00Z", "276178")):
            replies.append(
                await cp.call(
                    call16.MeterValues(
                        connector_id=1,
                        transaction_id=tx,
                        meter_value=[
                            {
                                "timestamp": ts,
                                "sampled_value": [
                                    {"value": wh, "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                                    {"value": "14.4", "measurand": "Power.Active.Import", "unit": "kW"},
                                ],
                            }
                        ],
                    )
                )
            )
        replies.append(
            await cp.call(
                call16.StopTransaction(
                    meter_stop=278578,
                    timestamp="2025-03-01T09:40:00Z",
                    transaction_id=tx,
                    reason="Local",
                    transaction_data=[
                        {
                            "timestamp": "2025-03-01T09:40:00Z",
                            "sampled_value": [
                                {"value": KEBA_OCMF, "format": "SignedData", "context": "Transaction.End"}
                            ],
                        }
                    ],
                )
            )
        )
        await asyncio.sleep(0.3)  # the CSMS's DataTransfer FinalCost arrives after the stop
        runner.cancel()
    return replies


async def session201(url: str, cp_id: str, tx: str) -> list:
    replies = []
    async with connect(f"{url}/ocpp/{cp_id}", subprotocols=["ocpp2.0.1"]) as ws:
        cp = CP201(cp_id, ws)
        runner = asyncio.create_task(cp.start())
        replies.append(
            await cp.call(
                call201.BootNotification(charging_station={"model": "DC50", "vendor_name": "OCOM"}, reason="PowerUp")
            )
        )
        events = [
            ("Started", "2025-03-01T09:00:00Z", "268.978", "Authorized", "Charging"),
            ("Updated", "2025-03-01T09:20:00Z", "273.778", "MeterValuePeriodic", "Charging"),
            ("Ended", "2025-03-01T09:40:00Z", "278.578", "StopAuthorized", "EVConnected"),
        ]
        for seq, (event, ts, kwh, trigger, state) in enumerate(events):
            info = {"transaction_id": tx, "charging_state": state}
            if event == "Ended":
                info.update(time_spent_charging=2400, stopped_reason="Local")
            replies.append(
                await cp.call(
                    call201.TransactionEvent(
                        event_type=event,
                        timestamp=ts,
                        trigger_reason=trigger,
                        seq_no=seq,
                        transaction_info=info,
                        evse={"id": 1, "connector_id": 1},
                        id_token={"id_token": "04A2B3C4D5", "type": "ISO14443"} if event == "Started" else None,
                        meter_value=[
                            {
                                "timestamp": ts,
                                "sampled_value": [
                                    {
                                        "value": float(kwh),
                                        "measurand": "Energy.Active.Import.Register",
                                        "unit_of_measure": {"unit": "kWh", "multiplier": 0},
                                    }
                                ],
                            }
                        ],
                    )
                )
            )
        runner.cancel()
    return replies


# --- fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture
def csms():
    c = CsmsServer()
    yield c
    c.stop()


@pytest.fixture
def vprinter(tmp_path):
    vp = VirtualPrinter(tmp_path / "paper").start()
    yield vp
    vp.stop()


class Running:
    def __init__(self, csms, sink, tmp_path, record=None):
        self.ingest = Ingest(CFG, tmp_path / "ocpp.db", sink).start(0.1)
        self.recorder = Recorder(record or self.ingest.feed)
        self.tap = Tap(f"ws://127.0.0.1:{csms.port}", self.recorder).start_thread()
        self.url = f"ws://127.0.0.1:{self.tap.tap.port}"

    def close(self):
        self.tap.stop()
        self.recorder.drain()
        self.recorder.close()
        self.ingest.close()


def wait_for(predicate, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def paper_qr(vp: VirtualPrinter) -> list[str]:
    job = [j for j in vp.jobs if j.pages][-1]
    return [r.text for r in zxingcpp.read_barcodes(Image.open(job.pages[0]))]


def line(texts: list[str], key: str) -> str:
    return next(t for t in texts if t.startswith(key))


# --- tests ---------------------------------------------------------------------------------------------------
def test_ocpp16_session_through_the_tap(csms, vprinter, tmp_path):
    run = Running(csms, printer_sink(vprinter.uri), tmp_path)
    try:
        replies = asyncio.run(session16(run.url, "CP-T16"))
        assert replies[1].transaction_id == 4000 and len(replies) == 5
        assert wait_for(lambda: any(j.pages for j in vprinter.jobs))
        assert wait_for(lambda: [r["state"] for r in run.ingest.store.receipts()] == ["printed"])
    finally:
        run.close()
    # the CSMS saw the station as if directly connected: path, subprotocol, credentials, every frame
    assert csms.connections == [{"path": "/ocpp/CP-T16", "subprotocol": "ocpp1.6", "authorization": AUTH}]
    assert len(csms.received) == 5 + 1  # 5 CALLs and the CALLRESULT to the CSMS's DataTransfer
    assert run.tap.tap.stats["frames_up"] == 6 and run.tap.tap.stats["frames_down"] == 6
    texts = printed_texts(vprinter)
    assert line(texts, "Energy").endswith("9.600 kWh")
    assert line(texts, "Start").endswith("2025-03-01 10:00:00 +01:00")
    assert line(texts, "End").endswith("2025-03-01 10:40:00 +01:00")
    assert line(texts, "Duration").endswith("0:40:00")
    assert line(texts, "TOTAL").endswith("3.31 EUR") and line(texts, "Net").endswith("2.78 EUR")
    assert line(texts, "Signature").endswith("valid")
    assert paper_qr(vprinter) == ["https://cpo.example/i/4000"]  # California Pricing qrCodeText


def test_ocpp201_session_through_the_tap(csms, vprinter, tmp_path):
    tx = "9f1c2e7a-0000-4ccc-a9ed-4845b64f9f7b"
    run = Running(csms, printer_sink(vprinter.uri), tmp_path)
    try:
        replies = asyncio.run(session201(run.url, "CS-T201", tx))
        assert Decimal(str(replies[-1].total_cost)) == Decimal("4.7")
        assert wait_for(lambda: any(j.pages for j in vprinter.jobs))
    finally:
        run.close()
    assert csms.connections[0]["subprotocol"] == "ocpp2.0.1" and len(csms.received) == 4
    texts = printed_texts(vprinter)
    assert line(texts, "Energy").endswith("9.600 kWh") and line(texts, "Charging time").endswith("0:40:00")
    assert line(texts, "TOTAL").endswith("4.70 EUR") and line(texts, "VAT 19%").endswith("0.75 EUR")
    assert line(texts, "Card / token").endswith("******C4D5")
    assert paper_qr(vprinter) == [f"https://receipts.example/CS-T201/{tx}"]  # the configured template


def test_tap_keeps_forwarding_while_the_printer_is_offline(csms, tmp_path, monkeypatch):
    import escpos809.ocpp.ingest as ingest_mod

    monkeypatch.setattr(ingest_mod, "RETRY_S", 0.2)
    port = free_port()
    run = Running(csms, printer_sink(f"tcp://127.0.0.1:{port}?connect_timeout=0.5"), tmp_path)
    try:
        replies = asyncio.run(session201(run.url, "CS-OFF", "tx-offline-1"))
        assert len(replies) == 4 and Decimal(str(replies[-1].total_cost)) == Decimal("4.7")
        assert wait_for(lambda: [r["state"] for r in run.ingest.store.receipts()] == ["failed"])
        # the printer comes back: the receipt is printed then, once
        with VirtualPrinter(tmp_path / "paper", port=port) as vp:
            assert wait_for(lambda: [r["state"] for r in run.ingest.store.receipts()] == ["printed"])
            assert wait_for(lambda: any(j.pages for j in vp.jobs))
            assert printed_texts(vp).count("CHARGING RECEIPT") == 1
    finally:
        run.close()


def test_tap_keeps_forwarding_when_the_receipt_code_raises(csms, tmp_path):
    def broken(key, doc, summary, reprint):
        raise RuntimeError("a bug in the receipt code")

    calls = []

    def record(*frame):
        calls.append(frame)
        raise ValueError("and a bug in recording")

    run = Running(csms, broken, tmp_path, record=record)
    try:
        for n in range(2):  # the link and the recorder survive both
            replies = asyncio.run(session201(run.url, f"CS-BUG{n}", f"tx-bug-{n}"))
            assert len(replies) == 4
    finally:
        run.close()
    assert len(csms.received) == 8 and len(calls) == 16 and run.recorder.failed == 16


def test_recording_never_holds_up_the_link(csms, tmp_path):
    gate = threading.Event()

    def slow_record(*frame):
        gate.wait(30)  # recording (parsing, SQLite, printing) stuck until the session is over

    run = Running(csms, lambda *a: "x", tmp_path, record=slow_record)
    try:
        replies = asyncio.run(session201(run.url, "CS-SLOW", "tx-slow"))
        assert len(replies) == 4 and len(csms.received) == 4  # all answered while nothing was recorded
        assert run.recorder.queue.unfinished_tasks == 8
    finally:
        gate.set()
        run.close()


def test_upstream_down_refuses_the_station(tmp_path):
    from websockets.exceptions import InvalidStatus

    tap = Tap(f"ws://127.0.0.1:{free_port()}", None).start_thread()
    try:

        async def attempt():
            async with connect(f"ws://127.0.0.1:{tap.tap.port}/ocpp/CP1", subprotocols=["ocpp1.6"]):
                pass

        with pytest.raises(InvalidStatus) as err:
            asyncio.run(attempt())
        assert err.value.response.status_code == 502
    finally:
        tap.stop()
