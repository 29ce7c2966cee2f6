"""Refusals: every refused operation raises one of these before it changes anything."""

from __future__ import annotations

# code -> the product refusal it mirrors (docs/protocol.md has the full table)
ERROR_CODES: dict[str, str] = {
    "bad_request": "malformed operation: missing or mistyped field, unknown op or flag, "
    "mutually exclusive flags, rate outside 0-150 (CMMVC5707E/5709E/5713E)",
    "unknown_volume": "no such volume (CMMVC5753E/5754E)",
    "unknown_map": "no such mapping (CMMVC5753E/5754E)",
    "unknown_group": "no such consistency group (CMMVC5753E/5754E)",
    "exists": "the name is already taken",
    "size_mismatch": "source and target sizes differ (CMMVC5924E)",
    "same_volume": "source and target are the same volume (CMMVC6303E)",
    "already_target": "the volume is already the target of a mapping (mkfcmap)",
    "bad_state": "the mapping or group is in another state (CMMVC5903E)",
    "group_member": "map-level prepare/start/stop on a consistency-group member",
    "group_in_use": "deleting a consistency group that still has members, without force",
    "volume_in_use": "deleting a volume that is in a mapping or a cascade (CMMVC5840E)",
    "restore_required": "the target is the source of active maps; needs restore",
    "restore_in_progress": "another map linked to this one is already restoring",
    "offline": "host I/O or a start on a volume that is offline or refuses I/O",
    "out_of_range": "block range outside the volume",
    "limit": "256 maps per source, 256 maps per connected tree, or a size limit",
    "unsupported": "the implementation does not support this operation",
}


class OpError(Exception):
    """A refusal with a code from ERROR_CODES and a human message."""

    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_CODES:  # a programming error, never user input
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def answer(self) -> dict[str, object]:
        """The refusal as a protocol answer."""
        return {"ok": False, "error": self.code, "message": self.message}
