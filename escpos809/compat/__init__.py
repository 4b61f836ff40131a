"""Compatibility with other libraries' APIs: :mod:`.python_escpos` (python-escpos 3.x code
printing on the OCPP-809 through escpos809's transports). Optional: ``pip install
'escpos809[python-escpos]'``."""
