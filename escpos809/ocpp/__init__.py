"""Charging-session receipts from OCPP-J traffic (1.6J, 2.0.1, 2.1).

``frames`` parses and checks frames, ``values`` reads meter values and timestamps the way
real chargers send them, ``ocmf`` parses and verifies signed meter data, ``assembler`` turns
frames into sessions, ``store`` keeps them in SQLite, ``ingest`` decides when a receipt
prints, ``receipt`` lays it out, and ``tap`` / ``replay`` / the print service feed it.
Facts: ../shared/reference/ocpp-receipts.md.
"""
