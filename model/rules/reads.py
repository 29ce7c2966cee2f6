"""Read redirection: a node presents its own grain if it holds it, else what is upstream."""

from __future__ import annotations

from typing import Any, NamedTuple

import z3

from ..logic import ite, select
from ..shape import PHYSICAL, Node
from ..state import State

HEAD_KIND = 0
KIND_CODES = {"clone": 1, "snapshot": 2}


class Resolved(NamedTuple):
    """What a node presents for a grain, whose physical grain that is, and of what kind the
    position supplying it is within the node's own cascade (0 = the head)."""

    value: Any
    holder: Any  # index into shape.volumes
    kind: Any


class ReadRules:
    """The read rule and the image of a volume."""

    def resolve(self, st: State, node: Node, grain: Any) -> Resolved:
        """Nearest upstream holder: a target's own grain if split, else its upstream's."""
        # a term by its address (as model/logic.py's term cache does): no API call per read
        key = ("resolve", node, grain.ast.value if isinstance(grain, z3.AstRef) else grain)
        if key not in st.memo:
            st.memo[key] = self._resolve(st, node, grain)
        return st.memo[key]

    def _resolve(self, st: State, node: Node, grain: Any) -> Resolved:
        shape = st.shape
        volume = shape.volume_at(node)
        here = shape.volumes.index(volume)
        if node[1] > 0:
            up = self.resolve(st, (node[0], node[1] - 1), grain)
            held = select(st.split[volume], grain)
            kind = KIND_CODES[shape.map_of(volume).type]
            return Resolved(
                ite(held, select(st.phys[volume], grain), up.value),
                ite(held, here, up.holder),
                ite(held, kind, up.kind),
            )
        if shape.chains[node[0]].head_mode == PHYSICAL:
            return Resolved(select(st.phys[volume], grain), here, HEAD_KIND)
        up = self.resolve(st, shape.image_source(node), grain)
        return Resolved(up.value, up.holder, HEAD_KIND)  # outside this cascade: the head's image

    def image(self, st: State, volume: str, grain: Any) -> Any:
        """What a host read of the volume returns: through its target position, if any."""
        node = st.shape.position(volume)
        if node is None:
            return select(st.phys[volume], grain)
        return self.resolve(st, node, grain).value
