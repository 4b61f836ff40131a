"""CUPS support for the OCPP-809: raster reader, raster filter, backend, PPD and installer.

Everything here runs under cupsd as user ``lp`` with whatever Python that user can run, so
it uses the standard library and the pure-Python core of escpos809 only (no Pillow, numpy).
"""
