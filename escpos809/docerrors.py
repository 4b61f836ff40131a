"""The first errors of a receipt document, found fast and explained in jsonschema's words.

jsonschema explains an error well but walks a 2,000-block document at Python speed (~0.7 s,
and 10 s for 40,000 blocks); jsonschema-rs judges it some 20x faster (~0.7 us a valid block,
and it stops at a document's first error) but builds every error of a big document eagerly.
So: jsonschema-rs says *which* blocks (and which rows of a long table) are invalid, and
jsonschema explains only those, on a copy cut down to them, each by its type's definition.
Lists over their ``maxItems`` get one error of our own (no ``repr`` of a 40,000-item list).
Blocks are looked at up to the first invalid one past the :data:`MAX_EXPLAINED` explained, and
no further: the refusal of a document that is invalid all through costs little more than
parsing it, and says where checking stopped rather than counting the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

from .safejson import kind_of

#: invalid blocks explained in detail; more are counted in one last error
MAX_EXPLAINED = 10
#: lists up to this long are explained whole
SHORT = 16


@dataclass(frozen=True)
class Found:
    """One error, with the fields of a jsonschema ``ValidationError`` that the messages use."""

    path: tuple
    validator: str
    validator_value: Any
    instance: Any
    message: str


def _found(e, prefix: tuple = (), index: dict | None = None) -> Found:
    """A jsonschema error with its path put back into the document's coordinates."""
    path = list(e.absolute_path)
    for at, keep in (index or {}).items():  # (position in path) → original indices of a cut list
        if len(path) > len(at) and tuple(path[: len(at)]) == at and isinstance(path[len(at)], int):
            path[len(at)] = keep[path[len(at)]]
    return Found(prefix + tuple(path), e.validator, e.validator_value, e.instance, e.message)


def _small(value: Any) -> Any:
    """A stand-in of the same JSON type, cheap to print in a message (for values that are
    invalid whatever their content: a top-level field's enum, a block that is not an object)."""
    if isinstance(value, str) and len(value) > 64:
        return value[:60] + "…"
    if isinstance(value, (list, dict)) and len(value) > SHORT:
        return type(value)()
    return value


class Explainer:
    """Errors of documents against one schema; needs ``jsonschema`` and ``jsonschema_rs``."""

    def __init__(self, schema: dict):
        import jsonschema
        import jsonschema_rs

        self.schema = schema
        self.slow = jsonschema.Draft202012Validator(schema)
        self.fast = jsonschema_rs.validator_for(schema)
        self._rs = jsonschema_rs
        self._slow_type = type(self.slow)
        # cached per explainer (a cache on the method would keep every explainer alive)
        self._part: Callable[[str], Any] = lru_cache(maxsize=64)(self._validator_of_part)
        self._slow_part: Callable[[str], Any] = lru_cache(maxsize=64)(self._explainer_of_part)
        #: the block types, each checked by its own ``$defs`` entry (the block's ``if``/``then``)
        self._kinds = set(self._node("$defs", "block", "properties", "type").get("enum", ()))

    def _sub(self, pointer: str) -> dict:
        return {"$schema": self.schema.get("$schema"), "$defs": self.schema["$defs"], "$ref": pointer}

    def _validator_of_part(self, pointer: str) -> Any:
        """A fast validator for one ``$defs`` part (an item of a list, a block)."""
        return self._rs.validator_for(self._sub(pointer))

    def _explainer_of_part(self, pointer: str) -> Any:
        """A jsonschema validator for one ``$defs`` part: a block of a known type is explained
        by its type's definition alone, not by the thirteen ``if``s of every block (3x faster)."""
        return self._slow_type(self._sub(pointer))

    def _node(self, *keys: str) -> dict:
        node: Any = self.schema
        for k in keys:
            node = node.get(k, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}

    def errors(self, data: Any) -> list[Found]:
        """The document's errors: every top-level one, then those of the first invalid blocks."""
        if self.fast.is_valid(data):
            return []
        if not isinstance(data, dict):
            return [_found(e) for e in self.slow.iter_errors(_small(data))]
        blocks = data.get("blocks")
        top = {k: _small(v) for k, v in data.items()}
        if isinstance(blocks, list):
            top["blocks"] = []
        out = [_found(e) for e in self.slow.iter_errors(top)]
        if not isinstance(blocks, list):
            return out
        limit = self._node("properties", "blocks").get("maxItems")
        if limit is not None and len(blocks) > limit:
            return out + [Found(("blocks",), "maxItems", limit, blocks, "")]  # enough said
        valid = self._part("#/$defs/block").is_valid
        # the first invalid blocks and one more: past it, nothing is looked at (counting every
        # invalid block of a big document cost as much again as parsing it)
        bad = list(islice((i for i, b in enumerate(blocks) if not valid(b)), MAX_EXPLAINED + 1))
        for i in bad[:MAX_EXPLAINED]:
            out += self._block(blocks[i], i)
        if len(bad) > MAX_EXPLAINED:
            at = bad[-1]
            said = f"blocks/{at} is invalid too; checking stopped there (the first {MAX_EXPLAINED} are explained)"
            out.append(Found(("blocks",), "more", at, None, said))
        return out

    def _block(self, block: Any, i: int) -> list[Found]:
        if not isinstance(block, dict):
            return [
                Found(
                    ("blocks", i), "type", "object", _small(block), f"a block must be an object, not {kind_of(block)}"
                )
            ]
        own: list[Found] = []
        index: dict[tuple, list[int]] = {}
        cut = dict(block)
        for key, items_schema, limit in self._lists(block):
            cut[key] = self._cut(block[key], items_schema, limit, (key,), own, index)
        props = self._props(block)
        for key, value in block.items():  # a text far too long: said here, no repr of megabytes
            limit = props.get(key, {}).get("maxLength") if isinstance(props.get(key), dict) else None
            if isinstance(value, str) and limit is not None and len(value) > limit:
                own.append(Found((key,), "maxLength", limit, value, ""))
                cut[key] = value[:limit]
        kind = block.get("type")
        if isinstance(kind, str) and kind in self._kinds:  # what the block's "then" checks
            found = [_found(e, (), index) for e in self._slow_part(f"#/$defs/{kind}").iter_errors(cut)]
        else:  # no type, or an unknown one: the block's own schema says what is wrong
            found = [_found(e, (), index) for e in self._slow_part("#/$defs/block").iter_errors(cut)]
        return [Found(("blocks", i) + f.path, *_rest(f)) for f in found + own]

    def _props(self, block: dict) -> dict:
        """The schema's properties for this block's type ({} for an unknown type)."""
        kind = block.get("type")
        return self._node("$defs", kind, "properties") if isinstance(kind, str) else {}

    def _lists(self, block: dict) -> Iterator[tuple[str, str | None, int | None]]:
        """(key, item schema pointer, maxItems) for the block's lists too long to explain whole."""
        kind = block.get("type")
        props = self._props(block)
        for key, value in block.items():
            if isinstance(value, list) and (len(value) > SHORT or any(_long(v) for v in value)):
                got = props.get(key)
                spec: dict = got if isinstance(got, dict) else {}
                pointer = f"#/$defs/{kind}/properties/{key}/items" if isinstance(spec.get("items"), dict) else None
                yield key, pointer, spec.get("maxItems")

    def _cut(self, items: list, pointer: str | None, limit: int | None, at: tuple, own: list, index: dict) -> list:
        """A list cut down to what explains it: its first invalid items (its first items when
        nothing says which are invalid); too many items is an error of its own; lists inside
        it are cut the same way."""
        if limit is not None and len(items) > limit:
            own.append(Found(at, "maxItems", limit, items, ""))
        keep = list(range(min(len(items), SHORT)))
        if pointer is not None and len(items) > SHORT:
            valid = self._part(pointer).is_valid
            keep = [j for j, item in enumerate(items) if not valid(item)][:SHORT] or keep
        index[at] = keep
        item_limit = self._node(*pointer[2:].split("/")).get("maxItems") if pointer else None
        return [
            self._cut(items[j], None, item_limit, at + (j,), own, index) if _long(items[j]) else items[j] for j in keep
        ]


def _long(value: Any) -> bool:
    return isinstance(value, list) and len(value) > SHORT


def _rest(f: Found) -> tuple:
    return f.validator, f.validator_value, f.instance, f.message
