"""The `clbhealth` command line: parse, call, render. One module per command group."""

from __future__ import annotations

import os
import sys

INTERRUPTED = "Interrupted; nothing was changed."


def _load_app():
    """The typer app with every command registered (importing a command module registers its commands;
    the order is the order of `--help`)."""
    from clbhealth.cli import setup  # noqa: F401, I001
    from clbhealth.cli import due, plan, exports, imports  # noqa: F401
    from clbhealth.cli import vaccination  # noqa: F401
    from clbhealth.cli import schools  # noqa: F401
    from clbhealth.cli.common import app

    return app


def main() -> None:
    """Console entry point: private files by default (health data about children). Ctrl-C while the
    command line is still loading or parsing ends it like Ctrl-C in a command: one line, exit 130."""
    os.umask(0o077)
    try:
        import typer

        from clbhealth.cli import common

        command = typer.main.get_command(_load_app())
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED + "\n")
        raise SystemExit(130) from None
    try:
        command(prog_name="clbhealth")
    except SystemExit as exc:  # typer ends a Ctrl-C outside a command's body (while parsing) silently with 130
        if exc.code == 130 and not common.INTERRUPT_REPORTED:
            sys.stderr.write(INTERRUPTED + "\n")
        raise


def __getattr__(name: str):
    if name == "app":  # `from clbhealth.cli.main import app` (the tests' CliRunner)
        return _load_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
