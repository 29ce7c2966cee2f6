"""The mapping state machine: which commands each state accepts, and every legal transition.

Sources: the product's state table (shared/product.md §1.3) with the decisions in
docs/semantics.md where it is silent. A transition is (from, cause, to); an
implementation that exposes states may only ever show these.
"""

from __future__ import annotations

IDLE = "idle_or_copied"
PREPARING = "preparing"
PREPARED = "prepared"
COPYING = "copying"
STOPPING = "stopping"
STOPPED = "stopped"
SUSPENDED = "suspended"
DELETED = "deleted"
STATES = (IDLE, PREPARING, PREPARED, COPYING, STOPPING, STOPPED, SUSPENDED)

# command -> states in which it is accepted (every other state refuses with bad_state)
ACCEPTS: dict[str, frozenset[str]] = {
    "prepare": frozenset({IDLE, STOPPED}),
    "start": frozenset({IDLE, STOPPED, PREPARED}),
    "stop": frozenset({IDLE, PREPARED, COPYING, STOPPING, SUSPENDED}),
    "stop_force": frozenset({IDLE, PREPARED, COPYING, STOPPING, SUSPENDED}),
    "stop_split": frozenset({IDLE, COPYING, STOPPING}),  # and only at progress 100
    "delete": frozenset({IDLE}),
    "delete_force": frozenset({IDLE, STOPPED}),
    "copy": frozenset({PREPARING, COPYING, STOPPING}),
    "flush_failed": frozenset({PREPARING}),
    "bitmap_offline": frozenset({COPYING, STOPPING}),
    "bitmap_online": frozenset({SUSPENDED}),
    "io_error": frozenset({COPYING, STOPPING}),
}

TRANSITIONS: frozenset[tuple[str, str, str]] = frozenset(
    {
        (IDLE, "prepare", PREPARING),
        (STOPPED, "prepare", PREPARING),
        (PREPARING, "flushed", PREPARED),
        (PREPARING, "flush_failed", STOPPED),
        (PREPARED, "start", COPYING),
        (PREPARED, "stop", STOPPED),
        (COPYING, "stop", STOPPING),
        (COPYING, "completed", IDLE),
        (COPYING, "split", IDLE),
        (STOPPING, "split", IDLE),
        (COPYING, "bitmap_offline", SUSPENDED),
        (STOPPING, "bitmap_offline", SUSPENDED),
        (SUSPENDED, "bitmap_online", COPYING),
        (SUSPENDED, "bitmap_online", STOPPING),
        (STOPPING, "cleaned", STOPPED),
        (STOPPING, "cleaned", IDLE),
        (IDLE, "deleted", DELETED),
        (STOPPED, "deleted", DELETED),
        (IDLE, "autodelete", DELETED),
    }
    # a forced stop (or an I/O error) ends at stopped, or idle_or_copied if the copy was complete;
    # the maps that depended on it never held every grain, so they always end stopped
    | {(s, "forced", to) for s in (COPYING, STOPPING, SUSPENDED) for to in (STOPPED, IDLE)}
    | {(s, "io_error", to) for s in (COPYING, STOPPING) for to in (STOPPED, IDLE)}
    | {(s, "dependent", STOPPED) for s in (COPYING, STOPPING, SUSPENDED)}
)

# -- what the states and causes mean, for the proofs that pin the two tables above ---------

# states in which the target holds a cascade position: other targets may read its grains
HOLDS_POSITION = frozenset({COPYING, STOPPING, SUSPENDED})
# the only causes that may take a position away: every reader was cleaned or the copy is whole
# (completed, split, cleaned), or a forced stop that takes its dependents down with it
ENDS_POSITION = frozenset({"completed", "split", "cleaned", "forced", "io_error", "dependent"})
# the only way into a position: a start of a prepared map (its target's cache was discarded)
BEGINS_POSITION = frozenset({(PREPARED, "start")})

# the command that sets off each cause (`copy` lets time pass); the follow-ons `autodelete`
# (after completion) and `dependent` (after a forced stop) are set off by another transition
COMMAND_OF: dict[str, str] = {
    "prepare": "prepare",
    "start": "start",
    "stop": "stop",
    "forced": "stop_force",
    "split": "stop_split",
    "deleted": "delete_force",  # plain delete accepts a subset of its states
    "flushed": "copy",
    "completed": "copy",
    "cleaned": "copy",
    "flush_failed": "flush_failed",
    "bitmap_offline": "bitmap_offline",
    "bitmap_online": "bitmap_online",
    "io_error": "io_error",
}
FOLLOW_ONS = frozenset({"autodelete", "dependent"})

# what an accepted command may set off first, by cause: a start of an idle or stopped map
# prepares first (docs/semantics.md L3); a stop of a suspended map is forced and a forced stop
# of a prepared map a plain one (L4)
FIRST_CAUSES: dict[str, frozenset[str]] = {
    "prepare": frozenset({"prepare"}),
    "start": frozenset({"start", "prepare"}),
    "stop": frozenset({"stop", "forced"}),
    "stop_force": frozenset({"forced", "stop"}),
    "stop_split": frozenset({"split"}),
    "delete": frozenset({"deleted"}),
    "delete_force": frozenset({"deleted"}),
    "copy": frozenset({"flushed", "completed", "cleaned"}),
    "flush_failed": frozenset({"flush_failed"}),
    "bitmap_offline": frozenset({"bitmap_offline"}),
    "bitmap_online": frozenset({"bitmap_online"}),
    "io_error": frozenset({"io_error"}),
}
# accepted commands that may change nothing (product.md §1.3: a stop of an idle map, a stop of
# a stopping map; a split of an idle map; time passing with nothing left to copy or clean)
NO_OPS = frozenset(
    {
        ("stop", IDLE),
        ("stop_force", IDLE),
        ("stop", STOPPING),
        ("stop_split", IDLE),
        ("copy", COPYING),
        ("copy", STOPPING),
    }
)

# which states a target may be read in, and whether its image is the map's point in time
TARGET_ONLINE = frozenset({IDLE, COPYING})  # plus STOPPING at progress 100
# the source refuses I/O only while the map is suspended (its bitmap is unreachable: §1.1)
SOURCE_OFFLINE = frozenset({SUSPENDED})


def accepts(command: str, state: str) -> bool:
    """Whether a state accepts a command."""
    return state in ACCEPTS[command]


def legal(transition: tuple[str, str, str]) -> bool:
    """Whether a (from, cause, to) transition is one the machine allows."""
    return transition in TRANSITIONS
