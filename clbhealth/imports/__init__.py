"""Imports: files as schools and staff send them, validated row by row (errors name file, row and
column), stored in one transaction through workspace/. No SQL here.

May import: protocols, exports, scheduler, samples (the packages of its own floor, without circles),
workspace, readers, core.
"""
