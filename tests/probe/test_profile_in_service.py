"""A profile the probe wrote, named in the configuration file, is the one the print service
uses: a unit without native QR gets its QR codes as rasters, and jobs are not held for a
GS r reply that never comes."""

from __future__ import annotations

from escpos809.config import load
from escpos809.probe import result, sheet
from escpos809.profile import load_profile


def test_service_loads_the_probed_profile_from_the_config_file(tmp_path):
    from escpos809_service.app import create_app
    from escpos809_service.config import load_service_config
    from escpos809_service.jobs import receipt

    lines = sheet.plan(load_profile())
    answers = {ln.number: False for ln in lines if ln.kind == "qr"}
    changes = result.derive(lines, answers, load_profile(), None)
    changes.setdefault("commands", {})["confirm"] = "none"
    probed = tmp_path / "probed.toml"
    result.write_profile(probed, result.profile_text(changes, "ocpp-809", None, []))
    conf = tmp_path / "config.toml"
    conf.write_text(f'profile = "{probed}"\n[printers]\np = "memory://"\n[service]\ndatabase = "{tmp_path / "s.db"}"\n')

    cfg = load_service_config(load({"ESCPOS809_CONFIG": str(conf)}))
    app = create_app(cfg, start=False)
    svc = app.extensions["escpos809"]
    try:
        assert svc.profile.qr_form == "image" and svc.profile.commands["confirm"] == "none"
        doc = {"blocks": [{"type": "qr", "data": "https://example.com/r/1"}]}
        data = receipt({"document": doc}, svc.profile).data
        assert b"\x1d(k" not in data and b"\x1dv0" in data
    finally:
        svc.ocpp.close()
        svc.store.close()
