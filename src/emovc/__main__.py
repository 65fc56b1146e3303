"""``python -m emovc ...``: the ``emovc`` command (:func:`emovc.cli.main.main`)."""

import sys

from emovc.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
