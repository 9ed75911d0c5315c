"""The `clbhealth` command line: parse, call, render. One module per command group."""

from __future__ import annotations

import os

# Importing a command module registers its commands (the order is the order of `--help`).
from clbhealth.cli import setup  # noqa: F401, I001
from clbhealth.cli import due, plan, exports, imports  # noqa: F401
from clbhealth.cli import vaccination  # noqa: F401
from clbhealth.cli import schools  # noqa: F401
from clbhealth.cli.common import app


def main() -> None:
    """Console entry point: private files by default (health data about children)."""
    os.umask(0o077)
    app()


if __name__ == "__main__":
    main()
