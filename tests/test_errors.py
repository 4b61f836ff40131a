"""Errors carry their codes: the table of every error class (CLI exit code, HTTP status and
problem title, CUPS backend status), and the three front ends answering with what the class
carries — a command through the CLI's group, the CUPS backend's job, and the print service."""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import escpos809
import escpos809_service
from escpos809.errors import EXIT_CODES, CupsStatus, Escpos809Error

ROOT = Path(__file__).resolve().parents[1]
F, H, S, R = CupsStatus.FAILED, CupsStatus.HOLD, CupsStatus.STOP, CupsStatus.RETRY

#: class → (exit code, HTTP status, problem title, CUPS backend status)
TABLE = {
    "Escpos809Error": (1, 500, "Internal error", F),
    "InvalidInput": (7, 422, "Invalid input", F),
    "InvalidURI": (7, 422, "Invalid printer URI", S),
    "InvalidData": (7, 422, "Invalid data", S),
    "InvalidDocument": (7, 422, "Invalid document", F),
    "ProfileError": (7, 500, "Profile error", S),
    "UnsupportedCommand": (7, 422, "Unsupported command", F),
    "PrinterNotFound": (3, 503, "Printer not found", R),
    "NotAPrinter": (3, 503, "Printer not found", R),
    "PrinterOffline": (4, 503, "Printer offline", R),
    "JobNotConfirmed": (4, 503, "Job not confirmed", R),
    "PrinterTimeout": (5, 504, "Printer timeout", R),
    "JobUnconfirmed": (5, 504, "Job not confirmed", H),
    "PrinterPermissionDenied": (6, 503, "Printer permission denied", S),
    "JsonRefused": (7, 400, "Malformed JSON", F),
    "JsonBeyondLimits": (7, 400, "JSON beyond limits", F),
    "FrameError": (7, 422, "Invalid OCPP frame", F),
    "BadValue": (7, 422, "Unreadable value", F),
    "OcmfError": (7, 422, "Unreadable OCMF record", F),
    "OcppConfigError": (7, 500, "Internal error", F),
    "PayloadError": (7, 422, "Unusable EVerest message", F),
    "EverestConfigError": (7, 500, "Internal error", F),
    "TlsSetupError": (7, 500, "Internal error", F),
    "RasterError": (7, 422, "Invalid CUPS raster", F),
    "CupsError": (1, 500, "Internal error", F),
    "BadSubmission": (7, 422, "Invalid job", F),
    "PdfRefused": (7, 422, "Invalid PDF", F),
    "PagesError": (7, 422, "Invalid PDF", F),
    "DrawRefused": (7, 422, "Invalid PDF", F),
    "ChildFailed": (7, 422, "Invalid input", F),
    "PreviewTooLong": (7, 422, "Preview too long", F),
    "Problem": (1, 500, "Internal error", F),  # its HTTP status and title are given per refusal
}
#: exceptions that are not the project's errors, and why
OUTSIDE = {
    "CliError": "click's way to show a failure; made from an error's exit code",
    "BadSetting": "raised and caught within service/websafety.py, never reaches a front end",
    "PowerLost": "the virtual printer's simulated power cut: raised and caught inside its mechanism",
    "_Bad": "a firmware file's bad entry: raised and caught in firmware_from_dict, which raises ProfileError",
    "Finished": "the OCPP assembler's signal that a frame's session is already printed: raised and caught in feed()",
    "_NotPlain": "jsonkeep's member walk meeting text it does not follow: raised and caught in parse_keeping",
}


def _classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in the two packages."""
    found = {}
    for pkg in (escpos809, escpos809_service):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                    found[name] = obj
    return found


CLASSES = _classes()
ERRORS = sorted((c for c in CLASSES.values() if issubclass(c, Escpos809Error)), key=lambda c: c.__name__)


def make(cls: type[Escpos809Error]) -> Escpos809Error:
    """An instance with a message a user can act on."""
    if cls.__name__ == "Problem":
        return cls(409, "Cannot cancel", "job 1 is done")
    if cls.__name__ in ("InvalidDocument", "BadSubmission"):
        return cls([("/blocks/0/text", "must be a string")])
    return cls(f"something about {cls.__name__}")


def test_every_exception_class_is_one_of_ours():
    strays = {n for n, c in CLASSES.items() if not issubclass(c, Escpos809Error)} - set(OUTSIDE)
    assert not strays, f"exception classes outside escpos809.errors.Escpos809Error: {strays}"


def test_the_table_is_complete_and_every_class_carries_its_codes():
    assert {c.__name__ for c in ERRORS} == set(TABLE)
    for cls in ERRORS:
        codes = (cls.exit_code, cls.http_status, cls.http_title, cls.cups_status)
        assert codes == TABLE[cls.__name__], cls
        assert cls.exit_code in EXIT_CODES and 400 <= cls.http_status < 600
        assert isinstance(cls.cups_status, CupsStatus)


def test_the_exit_codes_in_the_readme_are_the_table():
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n\n")[1]
    assert [int(c) for c in re.findall(r"^\| (\d+) \|", table, re.M)] == list(EXIT_CODES)


def test_the_cups_readme_names_every_backend_status():
    doc = (ROOT / "packaging/cups/README.md").read_text("utf-8").split("## Backend exit codes", 1)[1]
    for status in {c.cups_status for c in ERRORS} | {CupsStatus.OK}:
        assert f"| {int(status)} (" in doc or f"| {int(status)} |" in doc, status


# --- the three front ends --------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_cli_exits_with_the_class_code(cls):
    from escpos809.cli import Group

    exc = make(cls)
    group = Group(name="escpos809")

    @group.command()
    def fail() -> None:
        raise exc

    res = CliRunner().invoke(group, ["fail"])
    assert res.exit_code == cls.exit_code
    assert res.stderr == f"escpos809: {exc}\n"


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_cups_backend_exits_with_the_class_status(cls, monkeypatch):
    from escpos809.cups import backend

    exc = make(cls)

    class Refusing:
        uri = "tcp://127.0.0.1:9"

        def open(self):
            raise exc

        def close(self):
            pass

    def refused(uri):
        raise exc

    for opening in (lambda uri: Refusing(), refused):  # fails on open, fails at once
        monkeypatch.setattr(backend, "_open_printer", opening)
        lines: list[str] = []
        code = backend.run_job("escpos809:tcp://127.0.0.1:9", 1, None, io.BytesIO(b"x"), lines.append)
        assert code == cls.cups_status
        assert any(line.startswith(f"ERROR: {exc}") for line in lines), lines
        assert ("STATE: +offline-report" in lines) == (cls.cups_status == R)


@pytest.fixture(scope="module")
def service_app(tmp_path_factory):
    from escpos809_service.app import create_app
    from escpos809_service.config import ServiceConfig

    app = create_app(
        ServiceConfig(printers={"p": "memory://"}, database=tmp_path_factory.mktemp("svc") / "j.db"), start=False
    )
    raised: list[Exception] = []

    def fail():
        raise raised[0]

    app.add_url_rule("/api/v1/fail", "fail", fail, methods=["POST"])
    yield app, raised
    svc = app.extensions["escpos809"]
    svc.ocpp.close()
    svc.store.close()


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_service_answers_with_the_class_status_and_title(cls, service_app):
    app, raised = service_app
    exc = make(cls)
    raised[:] = [exc]
    r = app.test_client().post("/api/v1/fail")
    assert r.status_code == exc.http_status and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["title"] == exc.http_title and body["detail"] == str(exc) and body["status"] == r.status_code
    assert body.get("errors") == ([{"path": p, "message": m} for p, m in exc.errors] if exc.errors else None)
    if cls.__name__ == "Problem":
        assert (r.status_code, body["title"]) == (409, "Cannot cancel")


def test_json_refusals_carry_their_path_to_the_problem_body(service_app):
    from escpos809.safejson import JsonRefused, loads

    app, raised = service_app
    with pytest.raises(JsonRefused) as err:
        loads(b'{"text": "a\\ud800"}')
    raised[:] = [err.value]
    body = app.test_client().post("/api/v1/fail").get_json()
    assert body["errors"] == [{"path": "/text", "message": str(err.value)}]


def test_cups_statuses_are_named_ints_from_backend_h():
    from escpos809.errors import CUPS_STATUSES

    assert [int(s) for s in CUPS_STATUSES] == list(range(8))  # CUPS_BACKEND_OK … RETRY_CURRENT
    assert (CupsStatus.OK, CupsStatus.STOP, CupsStatus.RETRY, CupsStatus.RETRY_CURRENT) == (0, 4, 6, 7)
    assert CupsStatus.HOLD.name == "HOLD" and repr(CupsStatus.HOLD) == "<CupsStatus.HOLD: 3>"
    assert all(isinstance(s, CupsStatus) and isinstance(s, int) for s in CUPS_STATUSES)
