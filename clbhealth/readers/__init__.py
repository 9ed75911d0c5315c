"""Reading the files that schools and staff send: CSV in any local flavour, XLSX, XLS, ODS, and the
cell values in them (dates, INSZ, names, school ids).

May import: core.
"""
