"""Fill a receipt template from a dict: ``{name}`` and ``{order.total}`` in any string, and
``{"repeat": "items", "as": "item", "blocks": [...]}`` to repeat blocks per list entry.

Only lookups, no expressions: nothing in a template can run code. A missing field is an
error with its JSON path, never a blank.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import MutableMapping
from typing import Any

from .errors import InvalidDocument

#: a filled template may not grow past these: ``repeat`` inside ``repeat`` and ``{name}``
#: many times over a long value would otherwise turn a small request into gigabytes
MAX_LIST = 50_000  # items one list may grow to (the schema's blocks maxItems)
MAX_FILLED_CHARS = 16_000_000  # characters of text the filled template may hold in all

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}|\{|\}")


def _lookup(values: MutableMapping[str, Any], name: str, path: str) -> str:
    cur: Any = values
    for part in name.split("."):
        if isinstance(cur, (dict, ChainMap)) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and len(part) < 10 and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            shown = name if len(name) <= 80 else name[:60] + "…"
            raise InvalidDocument([(path, f"no value for {{{shown}}}")])
    if isinstance(cur, (dict, list)) or cur is None:
        raise InvalidDocument([(path, f"{{{name}}} is {type(cur).__name__ if cur is not None else 'null'}, not text")])
    return cur if isinstance(cur, str) else str(cur)


def _fill_str(text: str, values: MutableMapping[str, Any], path: str, budget: _Budget) -> str:
    def sub(m: re.Match) -> str:
        tok = m.group(0)
        if tok in ("{{", "}}"):
            return tok[0]
        if m.group(1) is None:
            raise InvalidDocument([(path, f"unmatched {tok!r} in {text[:80]!r} (write {tok * 2} for a literal brace)")])
        return budget.spend(_lookup(values, m.group(1), path), path)

    return _FIELD.sub(sub, text) if "{" in text or "}" in text else budget.spend(text, path)


class _Budget:
    """What is left of :data:`MAX_FILLED_CHARS` while one template is filled."""

    def __init__(self) -> None:
        self.chars = MAX_FILLED_CHARS

    def spend(self, text: str, path: str) -> str:
        self.chars -= len(text)
        if self.chars < 0:
            raise InvalidDocument(
                [(path, f"the filled template would hold more than {MAX_FILLED_CHARS:,} characters of text")]
            )
        return text


def _fill(node: Any, values: MutableMapping[str, Any], path: str, budget: _Budget) -> Any:
    if isinstance(node, str):
        return _fill_str(node, values, path, budget)
    if isinstance(node, dict):
        return {k: _fill(v, values, f"{path}/{k}" if path else k, budget) for k, v in node.items()}
    if isinstance(node, list):
        out = []
        for i, item in enumerate(node):
            here = f"{path}/{i}" if path else str(i)
            if isinstance(item, dict) and "repeat" in item:
                out.extend(_repeat(item, values, here, budget))
            else:
                out.append(_fill(item, values, here, budget))
            if len(out) > MAX_LIST:
                raise InvalidDocument([(path, f"the filled list would have more than {MAX_LIST:,} items")])
        return out
    return node


def _repeat(block: dict, values: MutableMapping[str, Any], path: str, budget: _Budget) -> list:
    unknown = set(block) - {"repeat", "as", "blocks"}
    if unknown or not isinstance(block.get("blocks"), list) or not isinstance(block["repeat"], str):
        raise InvalidDocument(
            [
                (
                    path,
                    'repeat needs {"repeat": "list.name", "as": "item", "blocks": [...]}'
                    + (f"; unknown {sorted(unknown)}" if unknown else ""),
                )
            ]
        )
    name = block.get("as", "item")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InvalidDocument([(f"{path}/as", f"{str(name)[:40]!r} is not a name (letters, digits and _)")])
    items = _items(block, values)
    if items is None:
        raise InvalidDocument([(f"{path}/repeat", f"{block['repeat']!r} is not a list in the data")])
    if _size(block, values, MAX_LIST) > MAX_LIST:  # counted first: a nested bomb costs nothing to refuse
        raise InvalidDocument([(path, f"repeat would make more than {MAX_LIST:,} items")])
    out: list = []
    for k, item in enumerate(items):
        scope = ChainMap({name: item, "index": k + 1}, values)  # no copy of the data per item
        out.extend(_fill(block["blocks"], scope, f"{path}/blocks", budget))
        if len(out) > MAX_LIST:
            raise InvalidDocument([(path, f"repeat would make more than {MAX_LIST:,} items")])
    return out


def _items(block: dict, values: MutableMapping[str, Any]) -> list | None:
    """The data list a repeat runs over (None when the name is not a list)."""
    items: Any = values
    for part in str(block.get("repeat")).split("."):
        items = items.get(part) if isinstance(items, (dict, ChainMap)) else None
    return items if isinstance(items, list) else None


def _size(block: dict, values: MutableMapping[str, Any], limit: int) -> int:
    """How many items the repeat ``block`` makes, counted without filling anything; the count
    stops soon after it passes ``limit``. A repeat it cannot read counts 0 (filling it says why)."""
    items, blocks, name = _items(block, values), block.get("blocks"), block.get("as", "item")
    if items is None or not isinstance(blocks, list) or not isinstance(name, str):
        return 0
    inner = [b for b in blocks if isinstance(b, dict) and "repeat" in b]
    plain = len(blocks) - len(inner)
    if not inner:
        return len(items) * plain
    total = 0
    for k, item in enumerate(items):
        scope = ChainMap({name: item, "index": k + 1}, values)
        total += plain + sum(_size(b, scope, limit - total) for b in inner)
        if total > limit:
            break
    return total


def placeholders(node: Any) -> list[str]:
    """What a template looks up — ``{name}`` fields and ``repeat`` lists — in order of first
    use, each once; empty for a plain document (``{{``/``}}`` are literal braces, not fields)."""
    found: dict[str, None] = {}

    def walk(n: Any) -> None:
        if isinstance(n, str):
            found.update((f"{{{m.group(1)}}}", None) for m in _FIELD.finditer(n) if m.group(1))
        elif isinstance(n, dict):
            if isinstance(n.get("repeat"), str):
                found[f"repeat {n['repeat']}"] = None
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return list(found)


def fill(template: dict, values: dict) -> dict:
    """The document ``template`` with every field filled from ``values``."""
    if not isinstance(values, dict):
        raise InvalidDocument([("", "template data must be a JSON object")])
    return _fill(template, values, "", _Budget())
