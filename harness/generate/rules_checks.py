"""Rules that look and rules that provoke: queries, observations, faults, malformed requests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from model.machine import accepts
from model.vocabulary import MAX_NAME, REQUESTS

from .machine import Base, precondition, rule

# ways to make a request malformed; each must be refused with bad_request
CORRUPTIONS = (
    "unknown field",
    "missing field",
    "below range",
    "above range",
    "wrong type",
    "bad name",
    "unknown op",
    "force with split",
)


class CheckRules(Base):
    """Generated observations, injected events, malformed requests and resets."""

    # -- queries -----------------------------------------------------------------------------
    @precondition(lambda self: self.can("query", "status"))
    @rule(data=st.data())
    def status(self, data: st.DataObject) -> None:
        self.send({"op": "status", "map": self.pick(data, self.maps, "map", "map")})

    @precondition(lambda self: self.can("query", "dependents"))
    @rule(data=st.data())
    def dependents(self, data: st.DataObject) -> None:
        self.send({"op": "dependents", "map": self.pick(data, self.maps, "map", "map")})

    @precondition(lambda self: self.can("query", "cascades"))
    @rule()
    def cascades(self) -> None:
        self.send({"op": "cascades"})

    @precondition(lambda self: self.can("observe", "read"))
    @rule()
    def observe(self) -> None:
        """Look at everything now (the end of every sequence does too)."""
        self._guarded(self.s.observe)

    @precondition(
        lambda self: (
            self.can(None, "read") and self.session is not None and bool(self.s.oracle.offline())
        )
    )
    @rule(data=st.data(), write=st.booleans())
    def offline_io(self, data: st.DataObject, write: bool) -> None:
        """Host I/O to a volume the specification has offline now (the target of a prepared
        map, a stopping target, a lost bitmap's source, ...): it must be refused."""
        volume = data.draw(st.sampled_from(sorted(self.s.oracle.offline())), label="offline")
        if write and self.can(None, "write"):
            token = self.record.domain.tokens(data, 1)
            self.send({"op": "write", "volume": volume, "block": 0, "data": token})
        else:
            self.send({"op": "read", "volume": volume, "block": 0, "count": 1})

    # -- events no command causes ------------------------------------------------------------
    @precondition(lambda self: self.can("inject", "inject") and bool(self.maps))
    @rule(data=st.data())
    def inject(self, data: st.DataObject) -> None:
        event = self.record.domain.choice(data, "inject", "event", absent=False)
        if event is not None:
            name = self.pick_map(data, lambda r: accepts(event, r.state))
            self.send({"op": "inject", "map": name, "event": event})

    # -- a new system mid-sequence -----------------------------------------------------------
    @precondition(lambda self: self.can("system", "reset"))
    @rule(data=st.data())
    def reset(self, data: st.DataObject) -> None:
        """Reset with other settings: everything must be gone afterwards."""
        op: dict[str, Any] = {"op": "reset"}
        if data.draw(st.booleans(), label="grain size?"):
            op["grain_size"] = self.record.domain.integer(data, "reset", "grain_size", (1, 12))
        if data.draw(st.booleans(), label="policy?"):
            op["policy"] = data.draw(st.sampled_from(self.record.options.policies), label="p")
        answer = self.send(op)
        if answer and answer.get("ok"):
            grain = op.get("grain_size", self.s.grain_size)
            # within the declared range: a large grain size times a wide volume may exceed it
            self.size = self.declared_size(grain * self.grains_per_volume(data, grain))
            for _ in range(2):
                volume = self.fresh(data, "V")
                self.send({"op": "create_volume", "volume": volume, "size": self.size})

    # -- malformed requests ------------------------------------------------------------------
    @precondition(lambda self: self.can("invalid", "write"))
    @rule(data=st.data(), how=st.sampled_from(CORRUPTIONS))
    def malformed(self, data: st.DataObject, how: str) -> None:
        """A request made malformed in one way; the specification refuses it as bad_request
        (and the implementation must, and change nothing)."""
        ops = sorted(self.record.hello.ops - {"hello", "reset"})
        op = data.draw(st.sampled_from(ops), label="op")
        request = self._plausible(data, op)
        corrupt(data, request, how)
        self.record.domain.note("malformed", how)
        self.send(request)

    def _plausible(self, data: st.DataObject, op: str) -> dict[str, Any]:
        """A request for `op` with every required field, made of existing names."""
        request: dict[str, Any] = {"op": op}
        for key, f in REQUESTS[op].items():
            if not f.required:
                continue
            if f.kind == "name":
                pool = {
                    "volume": self.volumes,
                    "source": self.volumes,
                    "target": self.volumes,
                    "map": self.maps,
                    "group": self.groups,
                }.get(key, [])
                request[key] = pool[-1] if pool else f"x{key}"
            elif f.kind == "int":
                request[key] = max(f.low, 1) if key == "count" else f.low
            elif f.kind == "tokens":
                request[key] = ["bad"]
            elif f.kind == "choice":
                request[key] = f.choices[0]
        return request


def corrupt(data: st.DataObject, request: dict[str, Any], how: str) -> None:
    """Make a request malformed in the named way (in place)."""
    fields = REQUESTS[request["op"]]
    ints = [k for k, f in fields.items() if f.kind == "int"]
    names = [k for k, f in fields.items() if f.kind == "name"]
    if how == "unknown field" or (how in ("below range", "above range") and not ints):
        request["colour"] = "blue"
    elif how == "missing field" and any(f.required for f in fields.values()):
        required = [k for k, f in fields.items() if f.required]
        del request[data.draw(st.sampled_from(required), label="dropped")]
    elif how in ("below range", "above range"):
        key = data.draw(st.sampled_from(ints), label="field")
        f = fields[key]
        request[key] = f.low - 1 if how == "below range" else f.high + 1
    elif how == "wrong type" and fields:
        key = data.draw(st.sampled_from(sorted(fields)), label="field")
        kind = fields[key].kind
        request[key] = {"name": 7, "int": "7", "bool": "yes", "tokens": "abc"}.get(kind, [None])
    elif how == "bad name" and names:
        key = data.draw(st.sampled_from(names), label="field")
        request[key] = data.draw(st.sampled_from(["", "x" * (MAX_NAME + 1), "a\x01b"]))
    elif how == "force with split" and request["op"] == "stop":
        request.update(force=True, split=True)
    else:
        request["op"] = request["op"] + "_please"
