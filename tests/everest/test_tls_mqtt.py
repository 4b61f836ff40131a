"""mqtts:// with a private CA, a client certificate and a user name + password file, against a
real Mosquitto that requires all three; a wrong password is refused by the broker and said."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.everest.conftest import Broker, payload_bytes, receipts, sample, wait_for
from tests.service.conftest import vprinter  # noqa: F401 - fixture


def _cert(name: str, issuer_key, issuer_name, key, ca: bool, san: str | None = None) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key) -> None:
    path.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@pytest.fixture
def tls_broker(tmp_path, broker):
    """The plain broker stopped and restarted as TLS + client certificates + passwords."""
    broker.stop()
    d = tmp_path / "pki"
    d.mkdir()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "escpos809 test CA")])
    ca = _cert("escpos809 test CA", ca_key, ca_name, ca_key, True)
    _write(d / "ca", ca, ca_key)
    for name, san in (("server", "localhost"), ("client", None)):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(d / name, _cert(name, ca_key, ca_name, key, False, san), key)
    (d / "passwd").write_text("")
    subprocess.run([shutil.which("mosquitto_passwd") or "mosquitto_passwd", "-b", str(d / "passwd"), "printer", "pw-1"])
    (d / "pw").write_text("pw-1\n")
    b = Broker(broker.root)
    b.port = broker.port
    b.extra = (
        f"cafile {d / 'ca.crt'}\ncertfile {d / 'server.crt'}\nkeyfile {d / 'server.key'}\n"
        f"require_certificate true\nallow_anonymous false\npassword_file {d / 'passwd'}\n"
    )
    b.start()
    yield b, d
    b.stop()


def _publisher(port: int, d: Path) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="everest-sim-tls")
    c.tls_set(ca_certs=str(d / "ca.crt"), certfile=str(d / "client.crt"), keyfile=str(d / "client.key"))
    c.tls_insecure_set(False)
    c.username_pw_set("printer", "pw-1")
    c.connect("localhost", port)
    c.loop_start()
    return c


def test_mqtts_with_client_certificate_and_password(tmp_path, tls_broker, vprinter, listeners):  # noqa: F811
    b, d = tls_broker
    tls = ["--ca", str(d / "ca.crt"), "--cert", str(d / "client.crt"), "--key", str(d / "client.key")]
    lst = listeners(tmp_path, b, vprinter.uri, "--username", "printer", "--password-file", str(d / "pw"), *tls)
    lst.broker_url = f"mqtts://localhost:{b.port}"
    lst.start()
    pub = _publisher(b.port, d)
    seq = sample("session_info.jsonl")
    before = lst.text().count("EVerest subscribed")
    pub.publish(seq[0]["topic"], payload_bytes(seq[0]), qos=1).wait_for_publish(5)
    wait_for(lambda: lst.text().count("EVerest subscribed") > before, what="the connector topics")
    for line in seq[1:]:
        pub.publish(line["topic"], payload_bytes(line), qos=1).wait_for_publish(5)
    wait_for(lambda: receipts(vprinter.out_dir), what="the receipt over TLS")
    pub.loop_stop()
    pub.disconnect()
    lst.stop()
    assert len(receipts(vprinter.out_dir)) == 1


def test_wrong_password_is_refused_and_said(tmp_path, tls_broker, vprinter, listeners):  # noqa: F811
    b, d = tls_broker
    (d / "bad").write_text("nope\n")
    tls = ["--ca", str(d / "ca.crt"), "--cert", str(d / "client.crt"), "--key", str(d / "client.key")]
    lst = listeners(tmp_path, b, vprinter.uri, "--username", "printer", "--password-file", str(d / "bad"), *tls)
    lst.broker_url = f"mqtts://localhost:{b.port}"
    with pytest.raises(AssertionError, match="timed out"):
        lst.start(wait_s=3)
    assert "refused the connection: Not authorized" in lst.text()
    assert lst.stop() == 0  # it keeps retrying until stopped; SIGTERM ends it cleanly
