import pytest

from tests.interop.printer import VirtualPrinter


@pytest.fixture(scope="session")
def virtual_printer(tmp_path_factory):
    """One virtual printer for every interop test (a real process on a real TCP port)."""
    vp = VirtualPrinter(tmp_path_factory.mktemp("interop-paper"))
    yield vp
    vp.close()
