"""The reference engine: cascaded point-in-time copy on a networkx graph of positions."""

from .engine import Engine
from .errors import ERROR_CODES, OpError

__all__ = ["ERROR_CODES", "Engine", "OpError"]
