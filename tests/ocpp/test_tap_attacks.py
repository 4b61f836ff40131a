"""The tap under hostile connections: half-open TCP, TLS handshakes that stop half-way and
plain ws:// sent to a wss:// tap neither stall nor break other stations; stations sending
megabyte frames while recording is stuck cannot fill memory (the recording drops, the link
does not); a query string in the station's URL is not part of its id."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

pytest.importorskip("ocpp")

from websockets.asyncio.client import connect  # noqa: E402

from escpos809.ocpp.ingest import printer_sink  # noqa: E402
from escpos809.ocpp.tap import server_tls  # noqa: E402
from tests.ocpp.test_tap_real_ocpp import CsmsServer, Running, csms, session16, wait_for  # noqa: E402, F401 - csms: the fixture
from tests.ocpp.test_tap_tls import TlsRun, pki, station_tls  # noqa: E402, F401 - pki: the fixture


def test_half_open_and_plain_connections_do_not_stall_a_profile3_station(pki, vprinter, tmp_path):  # noqa: F811
    upstream = CsmsServer()
    run = TlsRun(upstream, vprinter, tmp_path, server_tls(pki["tap"].cert, pki["tap"].key, client_ca=pki["ca"]))
    port = run.tap.tap.port
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]  # say nothing
    partial = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
    for s in partial:  # the start of a TLS ClientHello, then silence
        s.sendall(bytes.fromhex("160301020001") + b"\x00" * 40)
    try:

        async def plain():
            async with connect(f"ws://127.0.0.1:{port}/ocpp/CP-PLAIN", subprotocols=["ocpp1.6"], open_timeout=10):
                pass

        for _ in range(3):  # refused, and promptly: not a wait for a time-out
            with pytest.raises(Exception) as err:
                asyncio.run(asyncio.wait_for(plain(), 8))
            assert not isinstance(err.value, TimeoutError), err.value

        async def legit():
            return await asyncio.wait_for(session16(run.url, "CP-TLS3", ssl=station_tls(pki, pki["station"])), 15)

        replies = asyncio.run(legit())
        assert replies[1].transaction_id == 4000
        assert wait_for(lambda: any(j.pages for j in vprinter.jobs))
    finally:
        for s in idle + partial:
            s.close()
        run.close()
        upstream.stop()
    assert [c["path"] for c in upstream.connections] == ["/ocpp/CP-TLS3"]


def test_megabyte_frames_while_recording_is_stuck_stay_within_the_bound(csms, tmp_path):  # noqa: F811
    gate = threading.Event()
    recorder_chars: list[int] = []
    run = Running(csms, lambda *a: "x", tmp_path, record=lambda *frame: gate.wait(30))
    run.recorder.max_chars = 1 << 20  # the default is 64 MiB
    big = '[2, "m%d", "DataTransfer", {"vendorId": "x", "data": "%s"}]'
    try:

        async def flood():
            async with connect(f"{run.url}/ocpp/CP-BIG", subprotocols=["ocpp1.6"], max_size=None) as ws:
                for i in range(12):
                    await ws.send(big % (i, "y" * 200_000))
                    await ws.recv()  # the CSMS answered: the link goes on
                    recorder_chars.append(run.recorder.queued_chars)

        asyncio.run(asyncio.wait_for(flood(), 30))
        assert len(csms.received) == 12  # every frame forwarded
        assert max(recorder_chars) <= 1 << 20 and run.recorder.dropped >= 6
    finally:
        gate.set()
        run.close()
    assert run.recorder.queued_chars == 0


def test_a_query_string_is_not_part_of_the_charge_point_id(csms, vprinter, tmp_path):  # noqa: F811
    run = Running(csms, printer_sink(vprinter.uri), tmp_path)
    try:
        asyncio.run(session16(run.url, "CP-Q?token=abc"))
        assert wait_for(lambda: any(j.pages for j in vprinter.jobs))
        assert [s["cp"] for s in run.ingest.sessions()] == ["CP-Q"]
    finally:
        run.close()
    assert csms.connections[0]["path"] == "/ocpp/CP-Q?token=abc"  # the CSMS still gets it whole
