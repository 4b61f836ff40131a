"""Charging receipts from EVerest (the open-source charger stack) over MQTT: its ``API``
module's session topics and the EvseManager's session events, one receipt per session,
printed with the OCPP side's receipt layout (:mod:`escpos809.ocpp.receipt`)."""
