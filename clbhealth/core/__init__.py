"""Domain types and rules of the world: grades, school years and dates, errors, safe file writing.

May import: nothing of clbhealth (only the standard library and small third-party packages).
"""
