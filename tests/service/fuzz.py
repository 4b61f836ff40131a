"""A seeded fuzzer of request bodies for the print service: valid receipt, job and OCPP
bodies, mutated (types swapped, nesting deepened, numbers enlarged, lone surrogates, long
strings, keys dropped or added), byte-level damage (flips, cuts, random bytes) and wrong
content types. Pure and deterministic: the same seed gives the same requests, so a failure
found by the benchmark's 10,000 bodies can be replayed in a test."""

from __future__ import annotations

import base64
import copy
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "ocpp"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes
    content_type: str | None
    headers: tuple[tuple[str, str], ...] = ()


def _png() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (64, 16), 255).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def job_seeds() -> list[dict]:
    """Valid bodies of every job kind."""
    doc = {
        "blocks": [
            {"type": "text", "text": "FUZZ SHOP", "bold": True, "width": 2, "align": "center"},
            {
                "type": "columns",
                "columns": [{"width": 0.7}, {"width": 0.3, "align": "right"}],
                "rows": [["Coffee", "2.50"], ["Cake", "3.10"]],
                "header": ["Item", "EUR"],
            },
            {"type": "kv", "key": "Total", "value": "5.60"},
            {"type": "rule"},
            {"type": "qr", "data": "https://example.com/r/1", "size": 4},
            {"type": "barcode", "kind": "code128", "data": "FUZZ-1"},
            {"type": "feed", "lines": 1},
            {"type": "cut", "mode": "partial"},
        ]
    }
    template = {
        "blocks": [
            {"type": "text", "text": "Order {order.id}"},
            {
                "repeat": "order.items",
                "as": "it",
                "blocks": [{"type": "kv", "key": "{it.name}", "value": "{it.price}"}],
            },
        ]
    }
    return [
        {"type": "receipt", "document": doc},
        {
            "type": "receipt",
            "document": template,
            "data": {"order": {"id": 7, "items": [{"name": "Tea", "price": "1.20"}, {"name": "Bun", "price": 2}]}},
        },
        {"type": "text", "text": "plain text job\nsecond line", "cut": True},
        {"type": "image", "image": _png(), "dither": "threshold", "width": 128},
        {"type": "raw", "data": base64.b64encode(b"\x1b@RAW\n").decode()},
    ]


def frame_seeds() -> list[dict]:
    """Items for POST /api/v1/ocpp/frames: the sample sessions, one per line."""
    out = []
    for name in ("v16-session.jsonl", "v201-session.jsonl"):
        out += [
            {k: o[k] for k in ("cp", "dir", "frame", "ts")}
            for o in (json.loads(x) for x in (SAMPLES / name).read_text().splitlines() if x)
        ]
    return out


# --- value mutations ------------------------------------------------------------------------------
def _nodes(value, limit: int = 2000):
    """(path, node) pairs, breadth first, at most ``limit`` of them and 40 levels deep."""
    out, queue = [], [((), value)]
    while queue and len(out) < limit:
        path, node = queue.pop(0)
        out.append((path, node))
        if len(path) < 40 and isinstance(node, dict):
            queue += [(path + (k,), v) for k, v in list(node.items())[:50]]
        elif len(path) < 40 and isinstance(node, list):
            queue += [(path + (i,), v) for i, v in enumerate(node[:50])]
    return out


def _set(root, path, new):
    if not path:
        return new
    cur = root
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = new
    return root


def _scalar(rng: random.Random):
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            1.5,
            2**31,
            -(2**63),
            10 ** rng.randint(20, 60),
            rng.random() * 1e300,
            "",
            "x" * rng.choice([1, 100, 5000, 70000]),
            "\ud800",
            "a\udfffb",
            "\x00\x1b@",
            "é€😀",
            "{missing}",
            "../../etc/passwd",
            "%s%n",
            [],
            {},
            [1, "a", None],
            {"type": "text"},
        ]
    )


def _deep(rng: random.Random, inner):
    depth = rng.choice([5, 33, 200, 2000])
    opener = rng.choice(["list", "dict"])
    for _ in range(depth):
        inner = [inner] if opener == "list" else {"a": inner}
    return inner


MAX_BODY = 3 << 20  # bodies stay under the service's limit: the parser and validators are the target


def _times(part, wanted: int) -> int:
    """How many copies of ``part`` keep a body under MAX_BODY."""
    try:
        size = len(json.dumps(part)) + 1
    except (ValueError, RecursionError):
        return 1
    return max(1, min(wanted, MAX_BODY // size))


def mutate(rng: random.Random, seed):
    """One to three structural mutations of a deep copy of ``seed``."""
    value = copy.deepcopy(seed)
    for _ in range(rng.randint(1, 3)):
        nodes = _nodes(value)
        path, node = rng.choice(nodes)
        how = rng.randrange(8)
        if how == 0:
            value = _set(value, path, _scalar(rng))
        elif how == 1:
            value = _set(value, path, _deep(rng, node if not isinstance(node, (dict, list)) else 1))
        elif how == 2 and isinstance(node, dict) and node:
            node.pop(rng.choice(list(node)))
        elif how == 3 and isinstance(node, dict):
            node[rng.choice(["zz", "type", "text", "\ud800", "blocks", "ts", "cp", "frame"])] = _scalar(rng)
        elif how == 4 and isinstance(node, list) and node:
            item = rng.choice(node)
            node.extend([item] * _times(item, rng.choice([10, 3000, 40000])))
        elif how == 5:
            value = _set(value, path, [node, node])
        elif how == 6 and isinstance(node, str):
            value = _set(value, path, node * _times(node, rng.choice([2, 1000])))
        else:
            value = _set(value, path, rng.choice([[], {}, "", None, node]))
    return value


def _dumps(value) -> bytes:
    try:
        return json.dumps(value).encode()  # ensure_ascii: lone surrogates travel as \\ud800
    except (ValueError, RecursionError):
        return b"[" * 100000


# --- byte mutations --------------------------------------------------------------------------------
def damage(rng: random.Random, data: bytes) -> bytes:
    how = rng.randrange(7)
    if how == 0 and data:
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if how == 1:
        return data[: rng.randrange(len(data) + 1)]
    if how == 2:
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]
    if how == 3:
        return rng.randbytes(rng.choice([0, 1, 16, 1024]))
    if how == 4:
        return rng.choice(
            [
                b"[" * 100000,
                b'{"a":' * 50000,
                b"9" * 5000,
                b"[1e999]",
                b"[NaN]",
                b"-",
                b'"\\ud800"',
                b"\xef\xbb\xbf{}",
                b"\x00" * 100,
                b"[" + b"0," * 600000 + b"0]",
            ]
        )
    if how == 5:
        return data.replace(b'"', b"'", rng.randint(1, 3))
    return data + rng.choice([b"}", b"]", b",", b" garbage", b"\n" * 3])


_TYPES = [
    "text/plain",
    "image/png",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "",
    "application/xml",
]


def job_request(rng: random.Random, seeds: list[dict], printer: str) -> Request:
    """A fuzzed job submission (sometimes a preview)."""
    body = _dumps(mutate(rng, rng.choice(seeds)))
    ctype = "application/json"
    roll = rng.random()
    if roll < 0.25:
        body = damage(rng, body)
    elif roll < 0.35:
        ctype = rng.choice(_TYPES)
    headers = (
        (("Idempotency-Key", rng.choice(["k1", "k2", "ocpp:x:1", "\u00e9", "x" * 300])),) if rng.random() < 0.1 else ()
    )
    path = "/api/v1/preview" if rng.random() < 0.05 else f"/api/v1/printers/{printer}/jobs"
    return Request("POST", path, body[: 2 * MAX_BODY], ctype or None, headers)


def frame_request(rng: random.Random, seeds: list[dict]) -> Request:
    """A fuzzed POST /api/v1/ocpp/frames: one item, an array, or a CitrineOS body."""
    items = [dict(rng.choice(seeds), cp=f"FZ-{rng.randrange(20)}") for _ in range(rng.choice([1, 1, 1, 3]))]
    if rng.random() < 0.15:
        items = [
            {"stationId": it["cp"], "event": "message", "origin": "cs", "message": json.dumps(it["frame"])}
            for it in items
        ]
    value = mutate(rng, items if len(items) > 1 else items[0])
    body = _dumps(value)
    ctype = "application/json"
    roll = rng.random()
    if roll < 0.2:
        body = damage(rng, body)
    elif roll < 0.25:
        ctype = rng.choice(_TYPES)
    return Request("POST", "/api/v1/ocpp/frames", body[: 2 * MAX_BODY], ctype or None)


def query_request(rng: random.Random) -> Request:
    """A fuzzed GET of the job list or a job."""
    value = rng.choice(
        ["0", "1", "-1", "9" * 40, "1e3", "abc", "", "500", "501", "%D9%A1", "%ED%A0%80", "%00", "2" * 19]
    )
    name = rng.choice(["limit", "before", "state", "printer"])
    path = rng.choice(
        [
            f"/api/v1/jobs?{name}={value}",
            f"/api/v1/jobs/{value}",
            f"/api/v1/jobs/{value}/preview.png",
            "/api/v1/ocpp/sessions",
        ]
    )
    return Request("GET", path, b"", None)
