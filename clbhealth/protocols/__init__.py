"""The Flemish rules as versioned data, and the code that applies them.

May import: core.
"""

from clbhealth.protocols.model import Protocol, Rule, load_protocol

__all__ = ["Protocol", "Rule", "load_protocol"]
