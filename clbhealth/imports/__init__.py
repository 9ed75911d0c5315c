"""Imports: files as schools and staff send them, validated row by row, stored in one transaction."""
