"""OCMF signed meter data (reference §8): find it in every form chargers send, keep the
record byte for byte, read its readings, and verify its signature.

Forms: a raw ``OCMF|payload|signature`` string; the same hex-encoded; the OCA 1.6 envelope
``{"signedMeterData": base64, "encodingMethod": "OCMF", "publicKey": …}`` as a JSON string;
the 2.0.1/2.1 ``signedMeterValue`` object. The signature covers the exact payload bytes
between the first and the last ``|``: the payload is parsed only to read it, never re-encoded.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import InvalidInput
from ..safejson import loads as _loads

VALID, INVALID, NO_KEY, UNSUPPORTED = "valid", "INVALID", "no public key", "unsupported"
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
#: SA (signature algorithm) → curve name for ``cryptography``
_CURVES = {
    "ECDSA-secp256r1-SHA256": ("SECP256R1", "SHA256"),
    "ECDSA-secp384r1-SHA256": ("SECP384R1", "SHA256"),
    "ECDSA-brainpool256r11-SHA256": ("BrainpoolP256R1", "SHA256"),
    "ECDSA-brainpool384r11-SHA256": ("BrainpoolP384R1", "SHA256"),
    "ECDSA-secp192r1-SHA256": ("SECP192R1", "SHA256"),
}


class OcmfError(InvalidInput):
    """Signed data that is not a readable OCMF record."""

    http_title = "Unreadable OCMF record"


@dataclass(frozen=True)
class OcmfReading:
    time: str  # TM as written, e.g. "2019-08-13T10:03:15,000+0000 I"
    kind: str  # TX: B begin, E/L/R/A/P end, C, X, S, T
    value: Decimal  # RV
    obis: str  # RI
    unit: str  # RU
    error_flags: str  # EF
    status: str  # ST

    @property
    def sync(self) -> str:
        return self.time.rsplit(" ", 1)[-1] if " " in self.time else ""

    @property
    def wh(self) -> Decimal:
        return self.value * (1000 if self.unit.lower() == "kwh" else 1)


@dataclass(frozen=True)
class OcmfRecord:
    raw: str  # the whole record, exactly as received (decoded to text)
    payload_text: str  # the signed bytes, as text
    payload: dict
    signature: dict
    public_key: str | None = None  # hex DER as sent with the record, if it was
    readings: tuple[OcmfReading, ...] = field(default=())

    @property
    def pagination(self) -> str:
        return str(self.payload.get("PG", ""))

    @property
    def meter_serial(self) -> str:
        return str(self.payload.get("MS", "") or self.payload.get("GS", ""))

    def reading(self, kinds: str) -> OcmfReading | None:
        return next((r for r in self.readings if r.kind in kinds), None)


def _split(text: str) -> tuple[str, str]:
    if not text.startswith("OCMF|") or text.count("|") < 2:
        raise OcmfError("not OCMF|payload|signature")
    return text[5 : text.rindex("|")], text[text.rindex("|") + 1 :]


def parse_record(text: str, public_key: str | None = None) -> OcmfRecord:
    payload_text, sig_text = _split(text)
    try:
        payload = _loads(payload_text, exact=True)
        signature = _loads(sig_text)
    except ValueError as exc:
        raise OcmfError(f"OCMF section is not JSON ({exc})") from None
    if not isinstance(payload, dict) or not isinstance(signature, dict):
        raise OcmfError("OCMF sections must be JSON objects")
    readings = []
    for rd in payload.get("RD") or []:
        if not isinstance(rd, dict) or "RV" not in rd:
            continue
        try:
            value = rd["RV"] if isinstance(rd["RV"], Decimal) else Decimal(str(rd["RV"]))
        except ArithmeticError:
            raise OcmfError(f"OCMF reading value {rd['RV']!r} is not a number") from None
        readings.append(
            OcmfReading(
                str(rd.get("TM", "")),
                str(rd.get("TX", "")),
                value,
                str(rd.get("RI", "")),
                str(rd.get("RU", "kWh")),
                str(rd.get("EF", "")),
                str(rd.get("ST", "")),
            )
        )
    return OcmfRecord(text, payload_text, payload, signature, public_key, tuple(readings))


def normalise_key(key: str | bytes | None) -> str | None:
    """A public key as hex DER SubjectPublicKeyInfo, from hex, base64, the OCA
    ``oca:base16:asn1:`` form or PEM; None when there is none."""
    if key is None:
        return None
    if isinstance(key, bytes):
        key = key.decode("ascii", "replace")
    key = key.strip()
    if not key:
        return None
    if key.startswith("-----BEGIN"):
        body = "".join(line for line in key.splitlines() if not line.startswith("-----"))
        return base64.b64decode(body).hex().upper()
    if _HEX.match(key) and len(key) % 2 == 0:
        return key.upper()
    try:
        decoded = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise OcmfError("public key is neither hex, base64 nor PEM") from None
    text = decoded.decode("ascii", "replace")
    if text.startswith("oca:base16:asn1:"):
        return text[len("oca:base16:asn1:") :].upper()
    if _HEX.match(text):
        return text.upper()
    return decoded.hex().upper()


def find(value: object, version: str) -> OcmfRecord | None:
    """The OCMF record in a sampled value's ``value`` (1.6 forms) or ``signedMeterValue``
    (2.x); None when it holds no signed data."""
    key = None
    if isinstance(value, dict):  # 2.0.1 signedMeterValue
        if str(value.get("encodingMethod", "OCMF")).upper() != "OCMF":
            raise OcmfError(f"signed data encoding {value.get('encodingMethod')!r} is not OCMF")
        key = normalise_key(value.get("publicKey"))
        data = value.get("signedMeterData", "")
        text = _decode_data(str(data))
        return parse_record(text, key)
    if not isinstance(value, str):
        return None
    s = value.strip()
    if s.startswith("OCMF|"):
        return parse_record(s)
    if s.startswith("{"):
        try:
            env = _loads(s)
        except ValueError:
            raise OcmfError("signed value is neither OCMF nor a JSON envelope") from None
        if isinstance(env, dict) and "signedMeterData" in env:
            return find(env, version)
        raise OcmfError("signed JSON value has no signedMeterData")
    text = _decode_data(s)
    return parse_record(text)


def _decode_data(data: str) -> str:
    """signedMeterData → OCMF text: plain, base64 or hex."""
    data = data.strip()
    if data.startswith("OCMF|"):
        return data
    if _HEX.match(data) and len(data) % 2 == 0:
        try:
            text = bytes.fromhex(data).decode("utf-8")
            if text.startswith("OCMF|"):
                return text
        except UnicodeDecodeError:
            pass
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise OcmfError("signed data is not OCMF (plain, hex or base64)") from None
    if not text.startswith("OCMF|"):
        raise OcmfError("signed data does not start with OCMF|")
    return text


def verify(record: OcmfRecord, public_key_hex: str | None) -> str:
    """``valid`` / ``INVALID`` / ``no public key`` / ``unsupported …`` for the record."""
    key_hex = public_key_hex or record.public_key
    if not key_hex:
        return NO_KEY
    algorithm = str(record.signature.get("SA", "ECDSA-secp256r1-SHA256"))
    if algorithm not in _CURVES:
        return f"{UNSUPPORTED} ({algorithm})"
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_der_public_key
    except ImportError:
        return f"{UNSUPPORTED} (install the cryptography package)"
    sd = str(record.signature.get("SD", ""))
    try:
        sig = base64.b64decode(sd) if str(record.signature.get("SE", "hex")).lower() == "base64" else bytes.fromhex(sd)
        key = load_der_public_key(bytes.fromhex(key_hex))
    except ValueError:
        return INVALID
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return f"{UNSUPPORTED} (key is not an EC key)"
    try:
        key.verify(sig, record.payload_text.encode("utf-8"), ec.ECDSA(getattr(hashes, _CURVES[algorithm][1])()))
    except InvalidSignature:
        return INVALID
    return VALID
