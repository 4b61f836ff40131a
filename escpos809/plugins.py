"""Parts named, not imported: ``"package.module:attribute"`` references resolved on first use.

The core names what it may use but must not depend on at import time — the virtual printer
behind ``virtual://`` (:data:`escpos809.transport.uri.LAZY_SCHEMES`) and its interpreter, which
the preview asks what raw bytes print (:data:`escpos809.render.image.BYTES_READER`) — by such a
reference. So the emulator stays a leaf: it imports the core, the core never imports it.
"""

from __future__ import annotations

TYPE_CHECKING = False  # on the CUPS backend's path (a new process per job): no typing at run time
if TYPE_CHECKING:
    from typing import Any


def resolve(ref: str) -> Any:
    """The object ``ref`` (``"package.module:attribute"``) names, importing its module now."""
    import importlib

    module, sep, attr = ref.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"{ref!r} is not a 'package.module:attribute' reference")
    obj: Any = importlib.import_module(module)
    for name in attr.split("."):
        obj = getattr(obj, name)
    return obj
