"""``python -m paketflow``: the command line (see :mod:`paketflow.cli`)."""

from __future__ import annotations

import sys

from paketflow.cli import main

if __name__ == "__main__":
    sys.exit(main())
