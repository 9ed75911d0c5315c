"""The format of what a command writes: --format, the -o file's extension, and the two agreeing."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from clbhealth.core.errors import ClbError
from clbhealth.core.privacy import shown_path

FORMAT_OF_EXTENSION = {".xlsx": "xlsx", ".csv": "csv", ".json": "json", ".html": "html", ".htm": "html",
                       ".txt": "table"}
EXTENSIONS_OF_FORMAT = {"xlsx": (".xlsx",), "csv": (".csv",), "json": (".json",), "html": (".html", ".htm"),
                        "table": (".txt",)}


def output_format(fmt: str | None, output: Path | None, allowed: Sequence[str], default: str = "table") -> str:
    """The format to write: --format, else the extension of the -o file (`-o due.xlsx` writes a
    workbook), else `default`; a --format that contradicts the extension, or an unknown one, is refused."""
    from clbhealth.core.closest import closest

    from_extension = FORMAT_OF_EXTENSION.get(output.suffix.lower()) if output is not None else None
    chosen = fmt if fmt is not None else (from_extension if from_extension in allowed else default)
    if chosen not in allowed:
        close = closest(chosen, allowed, n=1)
        raise ClbError(f"--format {chosen!r} is not a format here" + (f"; did you mean {close[0]}?" if close else "."),
                       hint=f"Use {', '.join(allowed[:-1])} or {allowed[-1]}.")
    if fmt is not None and from_extension is not None and from_extension != fmt:
        raise ClbError(f"--format {fmt} does not match the file {shown_path(output, name_only=True)}: "
                       f"a {output.suffix} file is {from_extension}.",
                       hint="Leave out --format (the extension decides), or give the file the right extension.")
    return chosen


def check_extension(output: Path | None, given: str | None, chosen: str, allowed: Sequence[str]) -> None:
    """Refuse an -o file whose extension is not the format written (`export attendance -o x.csv` would be a
    workbook named .csv, `due -o x.pdf` a text table named .pdf). A --format given with an extension of no
    known format (`--format csv -o list.tsv`) is taken as asked. Called after the workspace guard."""
    if output is None:
        return
    suffix = output.suffix.lower()
    if suffix in EXTENSIONS_OF_FORMAT.get(chosen, ()) or (given is not None and suffix not in FORMAT_OF_EXTENSION):
        return
    endings = [e for f in allowed for e in EXTENSIONS_OF_FORMAT[f][:1]]
    what = f"a {suffix} file" if suffix else "a file without an extension"
    raise ClbError(f"{shown_path(output, name_only=True)}: {what} is not what this command writes "
                   f"({', '.join('a text table' if f == 'table' else f for f in allowed)}).",
                   hint=f"Give a file name ending in {', '.join(endings[:-1]) + ' or ' if endings[1:] else ''}{endings[-1]}"
                        + (", or --format with the format you want." if len(allowed) > 1 else "."))
