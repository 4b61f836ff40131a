"""cupsd starts the raster filter and the backend once per job: what they import is their
start-up time. These are structural checks, not timings (benchmarks/bench_cups_filter.py
times the process): the wrappers `escpos809 cups install` writes start Python with ``-IS``;
the filter, run as they run it on a real page, and the backend, on a whole job to the virtual
printer, load only the modules listed here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from escpos809.cups.install import install_files, layout
from escpos809.profile import load_profile

from .test_filter import ESC_AT_FS_DOT, header, stream

ROOT = Path(__file__).resolve().parents[2]

#: every escpos809 module the filter may load for a job (adding one here is a decision)
FILTER_MODULES = {
    "escpos809",
    "escpos809.cups",
    "escpos809.cups.filter",
    "escpos809.cups.options",
    "escpos809.cups.raster",
    "escpos809.errors",
    "escpos809.escpos",
    "escpos809.escpos._check",
    "escpos809.escpos.commands",
    "escpos809.escpos.vendor",
    "escpos809.profile",
    "escpos809.profilekeep",
    "escpos809.record",
}
#: standard-library modules that cost a per-job process milliseconds each (python -X importtime)
HEAVY_STDLIB = {
    "typing",
    "dataclasses",
    "enum",
    "re",
    "tomllib",
    "importlib.resources",
    "importlib.metadata",
    "pathlib",
    "logging",
    "inspect",
    "collections",
    "functools",
    "ipaddress",
    "json",
    "site",
}
#: every escpos809 module the backend may load for a job (adding one here is a decision)
BACKEND_MODULES = {
    "escpos809",
    "escpos809.cups",
    "escpos809.cups.backend",
    "escpos809.cups.device_uri",
    "escpos809.errors",
    "escpos809.escpos",
    "escpos809.escpos._check",
    "escpos809.escpos.commands",
    "escpos809.escpos.status",
    "escpos809.plugins",
    "escpos809.printer",
    "escpos809.profile",
    "escpos809.profilekeep",
    "escpos809.record",
    "escpos809.transport",
    "escpos809.transport.base",
    "escpos809.transport.tcp",
    "escpos809.transport.uri",
}
#: what the backend's link needs beyond the filter: socket (enum, selectors, collections,
#: functools) and urllib.parse for the printer URI (re, ipaddress); the rest stays out, and so
#: does the IDNA codec (unicodedata) a str host name would bring in at connect
BACKEND_STDLIB = {"re", "collections", "functools", "enum", "ipaddress"}
BACKEND_NEVER = (HEAVY_STDLIB - BACKEND_STDLIB) | {"contextlib", "encodings.idna", "unicodedata"}
#: third-party packages neither program may import
THIRD_PARTY = {"numpy", "PIL", "jsonschema", "jsonschema_rs", "click", "flask", "qrcode", "barcode", "fontTools"}

# run as the wrapper runs it (-IS, the checkout first on the path); the modules go to stdout
# after the page's ESC/POS went to a file, so the check sees a whole job, not only the imports
PROBE = """
import os, sys
sys.path.insert(0, sys.argv[1])
from escpos809.cups.filter import main
saved, out = os.dup(1), os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT)
os.dup2(out, 1)
code = main(["rastertoescpos809", "1", "user", "title", "1", "", sys.argv[3]])
sys.stdout.flush()
os.dup2(saved, 1)
modules = sorted(sys.modules)
import json
print(json.dumps({"code": code, "modules": modules}))
"""


def _run_filter(tmp_path: Path) -> tuple[int, set[str], bytes]:
    load_profile()  # the kept built-in profile exists, as `cups install` leaves it
    page = tmp_path / "page.ras"
    page.write_bytes(stream(b"3SaR", (header(height=2, ints={2: 1, 3: 2}), b"\xff" * 72 + bytes(72))))
    out = tmp_path / "out.bin"
    proc = subprocess.run(
        [sys.executable, "-IS", "-c", PROBE, str(ROOT), str(out), str(page)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    return got["code"], set(got["modules"]), out.read_bytes()


def test_the_filter_runs_a_job_with_only_its_modules(tmp_path):
    code, modules, out = _run_filter(tmp_path)
    assert code == 0 and out.startswith(ESC_AT_FS_DOT) and b"\x1dv0" in out and b"\x1bB\x01\x02" in out
    ours = {m for m in modules if m.split(".")[0] == "escpos809"}
    assert ours == FILTER_MODULES, f"new: {ours - FILTER_MODULES}, gone: {FILTER_MODULES - ours}"
    assert not modules & HEAVY_STDLIB, modules & HEAVY_STDLIB
    assert not {m.split(".")[0] for m in modules} & THIRD_PARTY


BACKEND_PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
from escpos809.cups.backend import main
code = main(["escpos809", "1", "user", "title", "1", ""])
modules = sorted(sys.modules)
import json
print(json.dumps({"code": code, "modules": modules}))
"""


def test_the_backend_runs_a_job_with_only_its_modules(tmp_path):
    """The backend as its wrapper runs it (-IS), a whole job: connect, status, send, the
    GS r confirmation from the virtual printer over TCP."""
    from escpos809.emulator import VirtualPrinter
    from tests.service.conftest import printed_texts

    with VirtualPrinter(tmp_path / "paper") as vp:
        proc = subprocess.run(
            [sys.executable, "-IS", "-c", BACKEND_PROBE, str(ROOT)],
            input=b"\x1b@BACKEND START-UP\n\x1dVB\x00",
            capture_output=True,
            env={"DEVICE_URI": f"escpos809:{vp.uri}", "ESCPOS809_BACKEND_WAIT": "5"},
        )
        assert proc.returncode == 0, proc.stderr
        vp.wait_idle()
        texts = printed_texts(vp)
    got = json.loads(proc.stdout)
    assert got["code"] == 0 and b"INFO: printed" in proc.stderr and "BACKEND START-UP" in texts, proc.stderr
    modules = set(got["modules"])
    ours = {m for m in modules if m.split(".")[0] == "escpos809"}
    assert ours == BACKEND_MODULES, f"new: {ours - BACKEND_MODULES}, gone: {BACKEND_MODULES - ours}"
    assert not modules & BACKEND_NEVER, modules & BACKEND_NEVER
    assert not {m.split(".")[0] for m in modules} & THIRD_PARTY


def test_the_backend_loads_no_third_party_package_but_its_link(tmp_path):
    """The backend talks to a printer (printer, transport): it may load more of the standard
    library than the filter, never the imaging, schema or CLI packages."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1])\n"
        "from escpos809.cups import backend\n"
        "backend._open_printer(backend._printer_uri('escpos809:tcp://127.0.0.1:9'))\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-IS", "-c", code, str(ROOT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    modules = {m.split(".")[0] for m in json.loads(proc.stdout)}
    assert not modules & THIRD_PARTY, modules & THIRD_PARTY


def test_the_installed_wrappers_start_python_without_site(tmp_path):
    lay = layout(str(tmp_path / "bin"), str(tmp_path / "etc"), str(tmp_path / "lib"))
    install_files(lay, log=lambda line: None)
    for program in (lay.filter, lay.backend):
        lines = program.read_text().splitlines()
        interpreter, flags = lines[0][2:].split(" ")
        assert flags == "-IS" and Path(interpreter).exists()  # one shebang argument: -I -S would be one word
        assert any(line.startswith("sys.path += [") for line in lines)  # site-packages, found at install
    # the installed filter itself, as cupsd starts it: a page in, ESC/POS out
    page = stream(b"3SaR", (header(height=1), b"\xff" * 72))
    proc = subprocess.run([str(lay.filter), "1", "user", "title", "1", ""], input=page, capture_output=True)
    assert proc.returncode == 0 and proc.stdout.startswith(ESC_AT_FS_DOT), proc.stderr


def test_a_copied_package_is_compiled_and_its_profiles_kept_for_lp(tmp_path, monkeypatch):
    """When lp cannot read this checkout, install copies the package; lp cannot write in the
    copy, so the bytecode and the checked profiles are made there at install time."""
    from escpos809.cups import install

    monkeypatch.setattr(install, "_readable_tree", lambda root: False)
    lay = layout(str(tmp_path / "bin"), str(tmp_path / "etc"), str(tmp_path / "lib"))
    install_files(lay, log=lambda line: None)
    copy = tmp_path / "lib" / "escpos809"
    assert f"sys.path.insert(0, {str(tmp_path / 'lib')!r})" in lay.filter.read_text()
    assert (copy / "cups" / "__pycache__").is_dir() and list((copy / "cups" / "__pycache__").glob("filter.*.pyc"))
    assert list((copy / "profiles" / "__pycache__").glob("ocpp-809.*.profile"))
    page = stream(b"3SaR", (header(height=1), b"\xff" * 72))
    proc = subprocess.run([str(lay.filter), "1", "user", "title", "1", ""], input=page, capture_output=True)
    assert proc.returncode == 0 and proc.stdout.startswith(ESC_AT_FS_DOT), proc.stderr
