"""Answers that change nothing: status, dependents, cascades, internals."""

from __future__ import annotations

from typing import Any

from .lifecycle import Lifecycle
from .topology import HEAD


class Queries(Lifecycle):
    """Read-only views of maps and cascades."""

    def status(self, name: str) -> dict[str, Any]:
        """One map as `lsfcmap` shows it."""
        m = self.map(name)
        return {
            "state": m.state,
            "progress": m.progress,
            "type": m.type,
            "source": m.source,
            "target": m.target,
            "copy_rate": m.copy_rate,
            "clean_rate": m.clean_rate,
            "incremental": m.incremental,
            "autodelete": m.autodelete,
            "group": m.group,
            "restoring": m.restoring,
            "difference": m.difference(),
            "dependent_mappings": len(self.dependents(name)),
        }

    def dependents(self, name: str) -> list[str]:
        """The maps a forced stop of this one would also stop."""
        m = self.map(name)
        return self.dependents_of(m) if self.active(m) else []

    def cascade_list(self) -> list[dict[str, Any]]:
        """Each cascade head first, with its type and how its head reads."""
        out = []
        for cid in self.topology.cascades():
            nodes = self.topology.cascade_nodes(cid)
            attrs = [self.topology.graph.nodes[n] for n in nodes]
            out.append(
                {
                    "type": self.topology.cascade_type[cid],
                    "volumes": [a["volume"] for a in attrs],
                    "maps": [a.get("map") for a in attrs if a["role"] != HEAD],
                    "head_mode": attrs[0]["mode"],
                }
            )
        return out

    def internals(self, grains: list[int] | None) -> dict[str, Any]:
        """Bitmaps, physical grains and cascades: what the Z3 step check compares."""

        def pick(bits: bytearray) -> str:
            chosen = range(len(bits)) if grains is None else [g for g in grains if g < len(bits)]
            return "".join(str(bits[g]) for g in chosen)

        phys = {}
        for v, blocks in self.phys.items():
            chosen = range(self.grains_of(v)) if grains is None else grains
            phys[v] = {
                str(g): blocks[slice(*self.grain_bounds(v, g))]
                for g in chosen
                if g < self.grains_of(v)
            }
        return {
            "cascades": self.cascade_list(),
            "maps": {
                m.name: {"state": m.state, "split": pick(m.split), "diff": pick(m.diff)}
                for m in self.maps.values()
            },
            "phys": phys,
        }
