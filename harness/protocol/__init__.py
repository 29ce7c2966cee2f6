"""The vocabulary's contract as schemas: every answer and trace operation is validated here."""

from __future__ import annotations

from .schema import (
    answer_problem,
    json_schemas,
    request_problem,
)

__all__ = ["answer_problem", "json_schemas", "request_problem"]
