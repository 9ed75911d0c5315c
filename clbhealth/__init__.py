"""clbhealth: preventive health care planning for a Flemish CLB."""

__version__ = "0.1.0"
