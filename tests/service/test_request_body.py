"""Job bodies as clients send them: with a Content-Length (read in one go) or chunked."""

from __future__ import annotations

import json


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
