"""The abstract model run on concrete blocks: the image every volume must read as.

This is `pointintime` with tokens: a volume is a list of blocks, grouped into
grains only so the same rule functions apply. A block may be *unconstrained*
(None): after a stopped target is deleted with force the product brings it back
online "with possibly inconsistent data"; the first read pins what it holds.
"""

from __future__ import annotations

from .logic import BlockPatch, GrainArray
from .pointintime import lose_image, start_images, write_image

Token = str | None


class ImageModel:
    """Expected images of every volume, updated by the abstract rules only."""

    def __init__(self, grain_size: int) -> None:
        self.grain_size = grain_size
        self.sizes: dict[str, int] = {}
        self.images: dict[str, GrainArray] = {}

    def _filled(self, size: int, token: Token) -> GrainArray:
        """A volume of `size` blocks all holding `token`, grain by grain (the last may be
        short); grains share one tuple, so a million-block volume is built at once."""
        whole, last = divmod(size, self.grain_size)
        grains = dict.fromkeys(range(whole), (token,) * self.grain_size)
        if last:
            grains[whole] = (token,) * last
        return GrainArray(grains)

    def create(self, volume: str, size: int) -> None:
        """A new volume reads as never written."""
        self.sizes[volume] = size
        self.images[volume] = self._filled(size, "")

    def delete(self, volume: str) -> None:
        """A deleted volume has no image."""
        self.sizes.pop(volume, None)
        self.images.pop(volume, None)

    def write(self, volume: str, block: int, data: list[str]) -> None:
        """Rule 2, grain by grain."""
        gs = self.grain_size
        by_grain: dict[int, list[tuple[int, str]]] = {}
        for i, token in enumerate(data):
            b = block + i
            by_grain.setdefault(b // gs, []).append((b % gs, token))
        for grain, blocks in by_grain.items():
            width = len(self.images[volume][grain])
            if len(blocks) == width:
                payload: object = tuple(token for _, token in sorted(blocks))
                self.images = write_image(self.images, volume, grain, payload, whole=True)
            else:
                patch = BlockPatch(tuple(blocks))
                self.images = write_image(self.images, volume, grain, patch, whole=False)

    def start(self, pairs: list[tuple[str, str]]) -> None:
        """Rule 1 for one map or a whole group."""
        self.images = start_images(self.images, pairs)

    def lose(self, volume: str) -> None:
        """Rule 3: the volume's image is gone."""
        self.images = lose_image(self.images, volume)

    def unconstrain(self, volume: str) -> None:
        """Online again with whatever it holds: every block unconstrained until read."""
        self.images[volume] = self._filled(self.sizes[volume], None)

    def defined(self, volume: str) -> bool:
        """The volume has an image (it was not lost)."""
        return volume in self.images

    def expected(self, volume: str, block: int = 0, count: int | None = None) -> list[Token]:
        """The volume's image, block by block (a range of it when asked)."""
        arr, gs = self.images[volume], self.grain_size
        end = self.sizes[volume] if count is None else block + count
        out: list[Token] = []
        for g in range(block // gs, -(-end // gs)):
            out.extend(arr[g])
        skip = block - (block // gs) * gs
        return out[skip : skip + end - block]

    def pin(self, volume: str, observed: list[str], block: int = 0) -> None:
        """Unconstrained blocks take the values first observed (a read from `block`)."""
        gs, arr = self.grain_size, self.images[volume]
        end = block + len(observed)
        pinned = {}
        for g in range(block // gs, -(-end // gs)):
            old = arr[g]
            if None in old:
                first = g * gs
                pinned[g] = tuple(
                    observed[first + i - block] if t is None and block <= first + i < end else t
                    for i, t in enumerate(old)
                )
        if pinned:
            self.images[volume] = arr.store_many(pinned)
