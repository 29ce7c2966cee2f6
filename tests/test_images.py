"""The harness's concrete oracle (`model/images.py`) against a plain list of blocks per volume.

`ImageModel` keeps images grain by grain, so that the point-in-time rules of
`model/pointintime.py` apply to them, and answers reads of any block range. The reference here
forgets grains: a volume is a list of tokens, a write sets blocks, a start copies the source's
list, a lost image is gone, a revived volume is unconstrained (None) until a read pins it. Any
sequence of those must leave both saying the same for every range. (Mutation round I found the
harness's tests never read a range beyond the first grain, never used a volume whose size is
not a whole number of grains, and never pinned a block.)
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from model.images import ImageModel

GRAIN = 4
VOLUMES = ("A", "B", "C")
TOKENS = st.sampled_from(["a", "b", "c", "d"])

OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("write"),
            st.sampled_from(VOLUMES),
            st.integers(0, 13),
            st.lists(TOKENS, min_size=1, max_size=9),
        ),
        st.tuples(st.just("start"), st.sampled_from(VOLUMES), st.sampled_from(VOLUMES)),
        st.tuples(st.just("lose"), st.sampled_from(VOLUMES)),
        st.tuples(st.just("unconstrain"), st.sampled_from(VOLUMES)),
        st.tuples(
            st.just("pin"),
            st.sampled_from(VOLUMES),
            st.integers(0, 13),
            st.lists(TOKENS, min_size=1, max_size=9),
        ),
    ),
    max_size=12,
)


class Blocks:
    """The plain reference: a list of tokens per volume, no grains."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = dict(sizes)
        self.images: dict[str, list[str | None]] = {v: [""] * n for v, n in sizes.items()}

    def apply(self, op: tuple, model: ImageModel) -> None:
        """Apply one operation to both (skipping what the harness never asks of the oracle)."""
        kind, volume = op[0], op[1]
        if kind == "write" and volume in self.images:
            block, data = op[2], op[3][: max(0, self.sizes[volume] - op[2])]
            if data:
                self.images[volume][block : block + len(data)] = data
                model.write(volume, block, data)
        elif kind == "start" and op[1] != op[2] and op[1] in self.images:
            source, target = op[1], op[2]
            if self.sizes[source] == self.sizes[target]:
                self.images[target] = list(self.images[source])
                model.start([(source, target)])
        elif kind == "lose" and volume in self.images:
            del self.images[volume]
            model.lose(volume)
        elif kind == "unconstrain":
            self.images[volume] = [None] * self.sizes[volume]
            model.unconstrain(volume)
        elif kind == "pin" and volume in self.images:
            block, seen = op[2], op[3][: max(0, self.sizes[volume] - op[2])]
            if seen:
                image = self.images[volume]
                for i, token in enumerate(seen):
                    if image[block + i] is None:
                        image[block + i] = token
                if block:
                    model.pin(volume, seen, block)
                else:  # a read of the whole volume from its start: the default
                    model.pin(volume, seen)


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.fixed_dictionaries({v: st.sampled_from([3, 8, 11, 14]) for v in VOLUMES}),
    ops=OPS,
)
def test_the_oracle_agrees_with_a_plain_list_of_blocks(sizes: dict[str, int], ops: list) -> None:
    model = ImageModel(GRAIN)
    for volume, size in sizes.items():
        model.create(volume, size)
    plain = Blocks(sizes)
    for op in ops:
        plain.apply(op, model)
        for volume in VOLUMES:
            assert model.defined(volume) == (volume in plain.images), (op, volume)
            if volume not in plain.images:
                continue
            image, size = plain.images[volume], sizes[volume]
            assert model.expected(volume) == image, (op, volume)
            for block in range(size):
                for count in (1, GRAIN - 1, GRAIN + 1, size - block):
                    if 0 < count <= size - block:
                        got = model.expected(volume, block, count)
                        assert got == image[block : block + count], (op, volume, block, count)


def test_a_deleted_volume_is_forgotten() -> None:
    model = ImageModel(GRAIN)
    model.create("A", 6)
    model.create("B", 6)
    model.delete("A")
    assert not model.defined("A") and "A" not in model.sizes
    assert model.defined("B") and model.sizes == {"B": 6}
    model.delete("A")  # deleting twice changes nothing
    assert model.sizes == {"B": 6}
