"""``escpos809 cups install|uninstall``: put the backend, filter and PPD where cupsd finds
them, and add or remove queues with ``lpadmin``.

cupsd runs a 0755 backend and every filter as ``lp``, and checks that each program and its
directory are root-owned and not writable by others. ``lp`` must also be able to run the
Python and read the package: when this interpreter or checkout is private (a venv or
checkout in a home directory), the system ``python3`` and a copy of the package under
``--lib-dir`` are used. The backend and filter need only the standard library (plus pyserial
or pyusb for those links).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import Escpos809Error, InvalidURI, PrinterPermissionDenied
from .backend import SCHEME
from .ppd import ESCPOS_MIME, FILTER_NAME, generate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .backend import Log

SYSTEM_PYTHON = "/usr/bin/python3"
DEFAULT_LIB_DIR = "/usr/local/lib/escpos809"
TYPES_FILE = "escpos809.types"


class CupsError(Escpos809Error):
    """lpadmin or cups-config failed, or CUPS is not installed."""

    exit_code = 1


@dataclass(frozen=True)
class Layout:
    server_bin: Path
    server_root: Path
    lib_dir: Path

    @property
    def backend(self) -> Path:
        return self.server_bin / "backend" / SCHEME

    @property
    def filter(self) -> Path:
        return self.server_bin / "filter" / FILTER_NAME

    @property
    def types(self) -> Path:
        return self.server_root / TYPES_FILE


def _cups_config(flag: str, fallback: str) -> Path:
    try:
        out = subprocess.run(["cups-config", flag], capture_output=True, text=True, check=True).stdout.strip()
        return Path(out or fallback)
    except (OSError, subprocess.CalledProcessError):
        return Path(fallback)


def layout(server_bin: str | None = None, server_root: str | None = None, lib_dir: str | None = None) -> Layout:
    return Layout(
        Path(server_bin) if server_bin else _cups_config("--serverbin", "/usr/lib/cups"),
        Path(server_root) if server_root else _cups_config("--serverroot", "/etc/cups"),
        Path(lib_dir or DEFAULT_LIB_DIR),
    )


def world_usable(path: Path, execute: bool = False) -> bool:
    """Whether any user (``lp``) can reach and read (and run) ``path``."""
    real = Path(os.path.realpath(path))
    try:
        for parent in real.parents:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return False
        mode = real.stat().st_mode
    except OSError:
        return False
    need = stat.S_IROTH | (stat.S_IXOTH if execute or real.is_dir() else 0)
    return mode & need == need


def _package_root() -> Path:
    import escpos809

    return Path(escpos809.__file__).resolve().parent.parent


def _interpreter() -> str:
    exe = Path(sys.executable)
    if world_usable(exe, execute=True):
        return str(exe)
    if world_usable(Path(SYSTEM_PYTHON), execute=True):
        return SYSTEM_PYTHON
    raise CupsError(f"neither {exe} nor {SYSTEM_PYTHON} can be run by the lp user; install python3")


def _readable_tree(root: Path) -> bool:
    pkg = root / "escpos809"
    if not world_usable(pkg):
        return False
    return all(world_usable(p) for p in pkg.rglob("*") if "__pycache__" not in p.parts)


def _library(lay: Layout, log: Log, interpreter: str) -> Path:
    """Where the wrappers import escpos809 from: this copy if lp can read it, else a copy."""
    root = _package_root()
    if _readable_tree(root):
        _prepare_library(interpreter, root, compile_all=False)  # the built-in profiles kept, if it may write
        return root
    dest = lay.lib_dir / "escpos809"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(root / "escpos809", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for p in [lay.lib_dir, *lay.lib_dir.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    _prepare_library(interpreter, lay.lib_dir)
    log(f"copied the package to {lay.lib_dir} (the lp user cannot read {root})")
    return lay.lib_dir


def _site_dirs(interpreter: str) -> list[str]:
    """The interpreter's site-packages directories (pyserial and pyusb live there), asked of
    it once at install time: the wrappers run it with ``-S``, without the site module."""
    code = "import sys; print('\\n'.join(p for p in sys.path if p.endswith(('site-packages', 'dist-packages'))))"
    try:
        out = subprocess.run([interpreter, "-I", "-c", code], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in out.splitlines() if line]


def _wrapper(interpreter: str, lib: Path, site_dirs: list[str], module: str, what: str) -> str:
    """The script cupsd starts for every job. ``-I`` keeps the user's environment and the
    current directory out; ``-S`` skips the site module and the ``.pth`` files it would run
    (an editable install's finder alone costs more than the filter): the package comes first
    on the path, the site directories last, as they were found at install time. The flags
    are written ``-IS``: a shebang line passes one argument."""
    return (
        f"#!{interpreter} -IS\n"
        f"# {what} installed by `escpos809 cups install`; remove with `escpos809 cups uninstall`.\n"
        "import sys\n"
        f"sys.path.insert(0, {str(lib)!r})\n"
        f"sys.path += {site_dirs!r}\n"
        f"from escpos809.cups.{module} import main\n"
        "sys.exit(main())\n"
    )


def _prepare_library(interpreter: str, lib: Path, compile_all: bool = True) -> None:
    """Compile the package and check the built-in profiles once, with the wrappers'
    interpreter, so that the ``lp`` user (who cannot write there) finds the bytecode and the
    profiles' marshal files instead of compiling and parsing TOML on every job. A package used
    in place (not copied) is not compiled here: Python and pip did that."""
    load = (
        "import sys; sys.path.insert(0, sys.argv[1]); from escpos809.profile import builtin_profiles as b, load_profile"
    )
    steps = [["-c", f"{load}\n[load_profile(n) for n in b()]", str(lib)]]
    if compile_all:
        steps.insert(0, ["-m", "compileall", "-q", str(lib / "escpos809")])
    for args in steps:
        subprocess.run([interpreter, "-I", "-S", *args], capture_output=True, timeout=120)


def _install_file(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    if os.geteuid() == 0:
        os.chown(tmp, 0, 0)
    tmp.replace(path)


def install_files(lay: Layout, log: Log = print) -> None:
    """Backend (0755: cupsd runs it as lp), filter and the ESC/POS MIME type."""
    try:
        interpreter = _interpreter()
        lib, site_dirs = _library(lay, log, interpreter), _site_dirs(interpreter)
        _install_file(lay.backend, _wrapper(interpreter, lib, site_dirs, "backend", "CUPS backend"), 0o755)
        _install_file(lay.filter, _wrapper(interpreter, lib, site_dirs, "filter", "CUPS raster filter"), 0o755)
        types_new = not lay.types.exists()
        _install_file(lay.types, f"# escpos809: ready-made ESC/POS, passed through the queue\n{ESCPOS_MIME}\n", 0o644)
    except PermissionError as exc:
        raise PrinterPermissionDenied(
            f"cannot write {exc.filename}: run as root (sudo escpos809 cups install …)"
        ) from None
    log(f"backend {lay.backend}, filter {lay.filter} (python {interpreter})")
    if types_new:
        log(
            f"added {ESCPOS_MIME} in {lay.types}: restart cupsd once (systemctl restart cups) "
            "so queues accept ready-made ESC/POS"
        )


def _lpadmin(*args: str) -> str:
    try:
        proc = subprocess.run(["lpadmin", *args], capture_output=True, text=True)
    except FileNotFoundError:
        raise CupsError("lpadmin not found: install CUPS (apt install cups cups-client cups-filters)") from None
    lines = [ln for ln in proc.stderr.splitlines() if "deprecated" not in ln]
    if proc.returncode != 0:
        raise CupsError(f"lpadmin {' '.join(args)}: {' '.join(lines) or f'exit {proc.returncode}'}")
    return "\n".join(lines)


def check_printer_uri(printer_uri: str) -> None:
    """Raise :class:`InvalidURI` for a URI the backend would refuse."""
    from ..transport import open_transport
    from .device_uri import check_printer_uri as allowed

    open_transport(allowed(printer_uri))


def add_queue(
    queue: str, printer_uri: str, raw: bool = False, info: str | None = None, location: str | None = None
) -> str:
    """Add (or change) a queue for ``printer_uri``; returns the device URI."""
    if not queue or any(c in queue for c in " /\\#\t") or len(queue) > 127:
        raise InvalidURI(f"queue name {queue!r}: use letters, digits, '-' and '_' (at most 127)")
    check_printer_uri(printer_uri)
    device = f"{SCHEME}:{printer_uri}"
    args = [
        "-p",
        queue,
        "-E",
        "-v",
        device,
        "-D",
        info or "OCOM OCPP-809 receipt printer",
        "-o",
        "printer-error-policy=retry-job",
    ]
    if location:
        args += ["-L", location]
    if raw:
        _lpadmin(*args)
        return device
    with tempfile.NamedTemporaryFile("w", suffix=".ppd", delete=False) as f:
        f.write(generate())
    try:
        _lpadmin(*args, "-P", f.name)
    finally:
        os.unlink(f.name)
    return device


def escpos809_queues() -> list[str]:
    """Queues whose device URI is an escpos809: one (``lpstat -v``)."""
    try:
        out = subprocess.run(["lpstat", "-v"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return []
    queues = []
    for line in out.splitlines():
        # "device for NAME: escpos809:tcp://…"
        head, _, uri = line.partition(": ")
        if uri.startswith(f"{SCHEME}:") and head.startswith("device for "):
            queues.append(head[len("device for ") :])
    return queues


def remove_queue(queue: str) -> None:
    _lpadmin("-x", queue)


def uninstall_files(lay: Layout) -> list[Path]:
    gone = []
    for path in (lay.backend, lay.filter, lay.types):
        if path.exists():
            path.unlink()
            gone.append(path)
    if (lay.lib_dir / "escpos809").exists():
        shutil.rmtree(lay.lib_dir / "escpos809")
        gone.append(lay.lib_dir / "escpos809")
    return gone
