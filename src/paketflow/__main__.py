"""``python -m paketflow``: the command line (see :mod:`paketflow._cli`)."""

from __future__ import annotations

import sys

from paketflow._cli import main

if __name__ == "__main__":
    sys.exit(main())
