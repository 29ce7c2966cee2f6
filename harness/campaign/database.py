"""Where Hypothesis keeps examples: a local folder, or a Redis server shared by a fleet.

`--database` takes a path (Hypothesis's `DirectoryBasedExampleDatabase`; safe for the worker
processes of one host, which share it) or a `redis://` / `rediss://` / `unix://` URL
(Hypothesis's `RedisExampleDatabase`, from `hypothesis[redis]`): every run that names the same
server replays the failures any other run saved there first, whichever host found them.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

URL_SCHEMES = ("redis://", "rediss://", "unix://")
KEY_PREFIX = b"cascadecheck-example:"
KEEP_FOR = timedelta(days=30)  # a soak fleet's failures outlive a long weekend


class DatabaseError(Exception):
    """The example database named cannot be used (bad URL, server unreachable)."""


def is_url(spec: str | Path | None) -> bool:
    """Whether a `--database` value names a server rather than a folder."""
    return isinstance(spec, str) and spec.startswith(URL_SCHEMES)


def open_database(spec: str | Path) -> ExampleDatabase:
    """The example database a `--database` value names; a server is pinged first, so an
    unreachable one is a DatabaseError now rather than a failure in the middle of a run."""
    if not is_url(spec):
        return DirectoryBasedExampleDatabase(str(spec))
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError as err:
        raise DatabaseError(f"{spec}: needs the redis package ({err.name} is missing)") from None
    try:
        client = redis.Redis.from_url(str(spec), socket_connect_timeout=10)
        client.ping()
    except (ValueError, redis.RedisError) as err:
        raise DatabaseError(f"cannot use the example database {spec}: {err}") from None
    return RedisExampleDatabase(client, expire_after=KEEP_FOR, key_prefix=KEY_PREFIX)


def hypothesis_home(spec: str | Path | None) -> Path:
    """Hypothesis's own folder: beside a local database, else in the temporary folder (never
    `.hypothesis/` in the current directory)."""
    if spec is not None and not is_url(spec):
        return Path(spec).parent
    return Path(tempfile.gettempdir()) / "cascadecheck-hypothesis"
