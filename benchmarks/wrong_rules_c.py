"""Batch C of the self-audit's wrong rules (stop 22, after batch B was all caught): the parts of
`model/` neither batch touched — the shape's own operations (`model/shape.py`), the
point-in-time rules the ghost is stepped by (`model/pointintime.py`), the invariant
(`model/invariant.py`) — and copies whose value comes from the wrong place. A patch of a
function replaces it everywhere it was imported by name, as an edit of its file would.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from wrong_rules import _set, wrong

import model.invariant
import model.pointintime
from model.logic import select, store
from model.rules.cleaning import CleaningRules
from model.rules.writes import WriteRules
from model.shape import IMAGE, PHYSICAL, Chain, Shape


def _everywhere(module: Any, name: str, fn: Any) -> None:
    """Replace a module-level function in its module and wherever it was imported by name."""
    original = getattr(module, name)
    for loaded in list(sys.modules.values()):
        if getattr(loaded, name, None) is original:
            setattr(loaded, name, fn)


def _load_importers() -> None:
    """Import every module that imports the patched functions, so `_everywhere` reaches them."""
    import proofs.obligations
    import proofs.refinement
    import proofs.steps
    import proofs.suite
    import proofs.sweep  # noqa: F401


# -- the shape's own operations ------------------------------------------------------------


@wrong("frozen-snapshots-only", "only a snapshot cascade's head can be frozen")
def _frozen_snapshots() -> None:
    right = Shape.is_frozen
    _set(
        Shape,
        "is_frozen",
        lambda self, node: right(self, node) and self.chains[node[0]].kind == "snapshot",
    )


@wrong("write-reach-no-fill", "the write bound does not count the written target's own fill")
def _reach_no_fill() -> None:
    right = Shape.write_reach

    def reach(self: Shape, volume: str) -> set:
        return right(self, volume) - {self.position(volume)}

    _set(Shape, "write_reach", reach)


@wrong("cut-keeps-target-above", "a split leaves the target in the cascade above as well")
def _cut_keeps_above() -> None:
    def cut(self: Shape, target: str) -> Shape:
        ci, place = self.position(target)  # type: ignore[misc]
        c = self.chains[ci]
        above = replace(c, targets=c.targets[:place])
        below = Chain(c.kind, target, PHYSICAL, c.targets[place:])
        chains = [replace(x, head_mode=PHYSICAL) if x.head == target else x for x in self.chains]
        chains[ci] = above
        chains.append(below)
        return replace(self, chains=tuple(x for x in chains if x.targets))

    _set(Shape, "cut", cut)


@wrong("image-source-one-up", "a head presenting a target's image presents its upstream's")
def _image_source_up() -> None:
    def image_source(self: Shape, head: Any) -> Any:
        ci, place = self.position(self.chains[head[0]].head)  # type: ignore[misc]
        return (ci, max(place - 1, 0))

    _set(Shape, "image_source", image_source)


@wrong("remove-drops-linked", "a target's removal drops the cascades its image heads")
def _remove_drops_linked() -> None:
    def remove(self: Shape, target: str) -> Shape:
        chains = []
        for c in self.chains:
            if c.head == target and c.head_mode == IMAGE:
                continue
            c = replace(c, targets=tuple(t for t in c.targets if t != target))
            if c.targets:
                chains.append(c)
        return replace(self, chains=tuple(chains))

    _set(Shape, "remove", remove)


# -- copies from the wrong place -----------------------------------------------------------


@wrong("fill-from-source", "a partial write fills the target from its source's grain")
def _fill_from_source() -> None:
    right = WriteRules.fill

    def fill(self: Any, st: Any, volume: str, grain: Any, whole: bool) -> Any:
        if whole or st.shape.position(volume) is None:
            return right(self, st, volume, grain, whole)
        source = st.shape.map_of(volume).source
        held = select(st.split[volume], grain)
        value = select(st.phys[source], grain)
        from model.logic import ite

        old = select(st.phys[volume], grain)
        return st.evolve(
            phys={**st.phys, volume: store(st.phys[volume], grain, ite(held, old, value))},
            split={**st.split, volume: store(st.split[volume], grain, True)},
        )

    _set(WriteRules, "fill", fill)


@wrong("cow-after-write", "a host write lands before the copy-on-write into its readers")
def _cow_after_write() -> None:
    def host_write(self: Any, st: Any, volume: str, grain: Any, payload: Any, whole: bool) -> Any:
        from model.logic import merge

        st = self.fill(st, volume, grain, whole)
        old = select(st.phys[volume], grain)
        new = payload if whole else merge(old, payload)
        st = st.evolve(phys={**st.phys, volume: store(st.phys[volume], grain, new)})
        for reader in self.write_readers(st, volume):
            st = self.copy_into(st, reader, grain, "cow")
        return self.record_difference(st, volume, grain)

    _set(WriteRules, "host_write", host_write)


@wrong("clean-skips-restored-next", "cleaning never copies into a restored source next in line")
def _clean_skips_restored() -> None:
    right = CleaningRules.clean_targets

    def clean_targets(self: Any, st: Any, target: str, grain: Any) -> list:
        out = right(self, st, target, grain)
        return [(n, c) for n, c in out if not st.shape.heads_of(st.shape.volume_at(n))]

    _set(CleaningRules, "clean_targets", clean_targets)


# -- the point-in-time rules and the invariant ------------------------------------------------


@wrong("stop-keeps-image", "a target stopped before completing keeps its image")
def _stop_keeps_image() -> None:
    _load_importers()
    _everywhere(model.pointintime, "lose_image", lambda images, volume: dict(images))


@wrong("revive-has-no-image", "a revived target is online with no image (nothing it must read)")
def _revive_no_image() -> None:
    _load_importers()
    _everywhere(
        model.pointintime,
        "revive_image",
        lambda images, volume, contents: {v: a for v, a in images.items() if v != volume},
    )


@wrong("partial-write-image-replaces", "a partial write replaces the image's whole grain")
def _partial_image() -> None:
    _load_importers()
    right = model.pointintime.write_image

    def write_image(images: Any, volume: str, grain: Any, payload: Any, whole: bool) -> Any:
        if whole:
            return right(images, volume, grain, payload, whole)
        return {**images, volume: store(images[volume], grain, payload)}

    _everywhere(model.pointintime, "write_image", write_image)


@wrong("invariant-without-incremental", "the invariant without incremental agreement")
def _invariant_no_incremental() -> None:
    _load_importers()
    _everywhere(model.invariant, "invariant", model.invariant.refinement)


@wrong("invariant-held-grains-only", "incremental agreement only about grains the target holds")
def _invariant_held_only() -> None:
    _load_importers()
    from model.logic import all_of, and_, eq, implies, not_

    def agreement(st: Any, grain: Any) -> Any:
        out = []
        for target in st.diff:
            source = st.shape.map_of(target).source
            if source in st.ref:
                same = not_(select(st.diff[target], grain))
                out.append(
                    implies(
                        and_(same, select(st.split[target], grain)),
                        eq(select(st.phys[target], grain), select(st.ref[source], grain)),
                    )
                )
        return all_of(out)

    _everywhere(model.invariant, "incremental_agreement", agreement)

    def invariant(spec: Any, st: Any, grain: Any) -> Any:
        return and_(model.invariant.refinement(spec, st, grain), agreement(st, grain))

    _everywhere(model.invariant, "invariant", invariant)
