"""The memory of the activation cache: one block of `size` bytes, reserved once, from which arrays are carved
and to which they return, so the cache never maps fresh memory after its first fill.

Why: on a VM like the one this was measured on, fresh memory costs 0.6-2 s per GiB in page faults, and a cache
that unmapped the blocks of dropped values and mapped new ones faulted in 2.7 GiB over an MNIST search with a
2 GiB budget. Here every byte is faulted in at most once: the block is reserved without being touched, and the
pages of a range are mapped in one call (MADV_POPULATE_WRITE, else one write per page) the first time a range
reaches past `touched`, the highest offset used so far.

Rule: `carve` gives the smallest free range that holds the request (ranges below `touched` first, so no fresh
page is touched while used memory can serve), or None when no free range does (the caller keeps that value out:
it is recomputed, not cached); `release` returns a range and merges it with its free neighbours. Guarantee: the
carved ranges never overlap and never pass `size`.
"""

from __future__ import annotations

import bisect
import mmap

import numpy as np

ALIGN = 64  # bytes: a cache line, and every dtype's alignment
MADV_POPULATE_WRITE = 23  # Linux 5.14: map (and zero) the pages of a range as a write would, in one call
PAGE = mmap.PAGESIZE


class Arena:
    def __init__(self, size: int):
        self.size = size - size % ALIGN
        self._memory: mmap.mmap | None = None
        self.bytes: np.ndarray | None = None  # the whole block, reserved on first use
        self.free: list[tuple[int, int]] = [(0, self.size)]  # (offset, length), sorted by offset, never adjacent
        self.touched = 0

    def carve(self, shape: tuple[int, ...], dtype) -> np.ndarray | None:
        """An array of `shape` and `dtype` in a free range (the smallest that holds it, used memory first), or
        None when no free range is large enough."""
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        length = _aligned(nbytes)
        fitting = [i for i, (_, free) in enumerate(self.free) if free >= length]
        if not fitting:
            return None
        index = min(fitting, key=lambda i: (self.free[i][0] + length > self.touched, self.free[i][1]))
        offset, free = self.free[index]
        self.free[index : index + 1] = [(offset + length, free - length)] if free > length else []
        self._populate(offset + length)
        return self.bytes[offset : offset + nbytes].view(dtype).reshape(shape)

    def release(self, array: np.ndarray) -> None:
        """Returns the range of an array `carve` gave, merged with the free ranges beside it."""
        offset, length = self.extent(array)
        index = bisect.bisect(self.free, (offset, 0))
        if index < len(self.free) and self.free[index][0] == offset + length:  # the next range follows it
            length += self.free.pop(index)[1]
        if index and sum(self.free[index - 1]) == offset:  # the previous range ends where it starts
            offset, previous = self.free.pop(index - 1)
            length += previous
            index -= 1
        self.free.insert(index, (offset, length))

    def extent(self, array: np.ndarray) -> tuple[int, int]:
        """(offset, length) of the range an array `carve` gave."""
        start = array.__array_interface__["data"][0] - self.bytes.__array_interface__["data"][0]
        return start, _aligned(array.nbytes)

    def used(self) -> int:
        return self.size - sum(length for _, length in self.free)

    def _populate(self, end: int) -> None:
        """Maps the pages of [touched, end) in one call, where the system can."""
        if self.bytes is None:
            self._reserve()
        if end <= self.touched:
            return
        start = self.touched - self.touched % PAGE
        try:
            self._memory.madvise(MADV_POPULATE_WRITE, start, min(self.size, _round_up(end, PAGE)) - start)
        except (AttributeError, OSError, ValueError):  # no madvise, an older kernel: one write per page
            self.bytes[start:end:PAGE] = 0
        self.touched = end

    def _reserve(self) -> None:
        if hasattr(mmap, "MAP_ANONYMOUS"):
            self._memory = mmap.mmap(-1, max(self.size, 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            self.bytes = np.frombuffer(self._memory, np.uint8)
        else:  # Windows: no mmap flags; pages are committed as they are written
            self.bytes = np.empty(max(self.size, 1), np.uint8)


def _aligned(length: int) -> int:
    return _round_up(max(length, 1), ALIGN)


def _round_up(length: int, unit: int) -> int:
    return -(-length // unit) * unit
