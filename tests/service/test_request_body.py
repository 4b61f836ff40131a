"""Job bodies as clients send them: with a Content-Length (read in one go) or chunked; and as
they should not: no length, an empty body, both a length and chunked, given up half-way."""

from __future__ import annotations

import json
import socket

import pytest


def test_a_chunked_body_makes_the_same_job_as_a_sized_one(service):
    doc = {"blocks": [{"type": "text", "text": "CHUNKED " * 50}, {"type": "cut"}]}
    body = json.dumps({"type": "receipt", "document": doc}).encode()
    sized = service.submit(json.loads(body))
    pieces = [body[i : i + 100] for i in range(0, len(body), 100)]
    chunked = service.request(
        "POST", "/api/v1/printers/default/jobs", iter(pieces), headers={"Content-Type": "application/json"}
    )
    assert sized.status == chunked.status == 202, (sized, chunked)
    assert chunked.json["bytes"] == sized.json["bytes"] > 400
    bad = json.dumps({"type": "receipt", "document": {"blocks": [{"type": "text", "text": 1}]}}).encode()
    refused = service.request(
        "POST", "/api/v1/printers/default/jobs", iter([bad[:7], bad[7:]]), headers={"Content-Type": "application/json"}
    )
    assert refused.status == 422 and refused.json["errors"][0]["path"] == "/document/blocks/0/text", refused


def exchange(port: int, request: bytes, shut: bool = False) -> tuple[bytes, bool]:
    """Send ``request`` on a raw connection (``shut``: then close our side, as a client that
    gives up mid-body); what came back within 3 s, and whether the server closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(request)
        if shut:
            s.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except TimeoutError:  # still open
            return answer, False
        except ConnectionResetError:
            pass
        return answer, True


HEAD = (
    b"POST /api/v1/printers/default/jobs HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\nContent-Type: text/plain\r\nConnection: close\r\n"
)


@pytest.mark.parametrize(
    "what, request_bytes, status, detail",
    [
        # the body then reads as the next request: the job was accepted empty (a blank receipt)
        ("no length", HEAD + b"\r\nHELLO\n", 411, "send the body with a Content-Length or Transfer-Encoding"),
        ("Content-Length: 0", HEAD + b"Content-Length: 0\r\n\r\n", 400, "the request has no body"),
        (  # waitress read it chunked and accepted it: a proxy that goes by the length sees two requests
            "Content-Length and chunked",
            HEAD + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nHELLO\n\r\n0\r\n\r\n",
            400,
            "Content-Length and Transfer-Encoding: chunked both sent",
        ),
        ("closed mid-body", HEAD + b"Content-Length: 100\r\n\r\nHALF", None, ""),
        ("closed mid-chunk", HEAD + b"Transfer-Encoding: chunked\r\n\r\n64\r\nHALF", None, ""),
    ],
)
def test_a_body_that_is_not_all_there_makes_no_job(service, what, request_bytes, status, detail):
    before = service.request("GET", "/api/v1/jobs").json["jobs"]
    answer, closed = exchange(service.port, request_bytes, shut=status is None)
    if status is None:  # the connection is closed and nothing was answered
        assert closed and answer == b"", (what, answer)
    else:
        first, _, rest = answer.partition(b"\r\n")
        assert first.split()[1] == str(status).encode(), (what, answer[:300])
        problem = json.loads(rest.partition(b"\r\n\r\n")[2].partition(b"\r\n")[0] or b"{}")
        assert problem["status"] == status and detail in problem["detail"], (what, problem)
        assert b"Content-Type: application/problem+json" in rest, (what, answer[:300])
    assert service.request("GET", "/api/v1/jobs").json["jobs"] == before, what
