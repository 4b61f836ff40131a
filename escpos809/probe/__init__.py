"""``escpos809 probe``: find out what one real unit does, and write it down as a profile.

``ask`` asks what needs no paper (status forms, ``GS r``, ``ESC v``, ``GS I``, the receive
buffer, network settings); ``sheet`` prints numbered lines for what only eyes can judge;
``result`` turns the answers into a profile with only the differences (``extends`` the base).
"""
