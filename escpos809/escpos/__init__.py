"""Pure ESC/POS byte builders for the OCPP-809 family: no I/O, only ``bytes`` out."""
