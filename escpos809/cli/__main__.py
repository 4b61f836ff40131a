"""``python -m escpos809.cli``: the same as the ``escpos809`` command."""

from . import main

if __name__ == "__main__":  # not when a tool imports every module of the package
    main()
