import pytest


def h(text: str) -> bytes:
    """Bytes from the reference's hex notation, e.g. ``h("1B 40 1C 2E")``."""
    return bytes.fromhex(text)


@pytest.fixture
def hexb():
    return h
