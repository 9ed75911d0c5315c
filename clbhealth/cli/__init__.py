"""The command line (typer): one module per command group, registered in main.py.

Each command parses its options, calls one use case in app/ (or an import or export) and renders
the result; nothing else. The only package that imports typer and rich.

May import: every package below it (app, imports, exports, scheduler, protocols, samples,
workspace, readers, core).
"""
