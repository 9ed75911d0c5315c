"""The use cases: import, due list, plan, re-plan, weekly lists, report, purge, doctor, demo.

Each wires the workspace to the domain: reads through workspace/, decides with protocols/ and
scheduler/, writes files with exports/. No SQL here, no typer, no rich.

May import: imports, exports, scheduler, protocols, samples, workspace, readers, core.
"""
