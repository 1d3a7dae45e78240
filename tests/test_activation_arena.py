"""The activation cache's arena: the smallest free range that holds an array, used memory before fresh, ranges
merged when released, None when fragmented, never past its size."""

from __future__ import annotations

import numpy as np

from stitchc.evolve.activation_arena import ALIGN, Arena


def test_an_array_is_carved_aligned_with_its_shape_and_dtype():
    arena = Arena(1024)
    first, second = arena.carve((3,), np.uint8), arena.carve((2, 5), np.float32)
    assert second.shape == (2, 5) and second.dtype == np.float32
    assert arena.extent(first) == (0, ALIGN) and arena.extent(second) == (ALIGN, ALIGN)
    second[:] = 7
    assert not np.shares_memory(first, second) and arena.used() == 2 * ALIGN


def test_the_smallest_free_range_that_holds_it_is_used_and_released_ranges_merge():
    arena = Arena(10 * ALIGN)
    blocks = [arena.carve((size * ALIGN,), np.uint8) for size in (3, 1, 2, 4)]
    arena.release(blocks[0])
    arena.release(blocks[2])
    assert arena.free == [(0, 3 * ALIGN), (4 * ALIGN, 2 * ALIGN)]
    assert arena.extent(arena.carve((2 * ALIGN,), np.uint8)) == (4 * ALIGN, 2 * ALIGN)  # the tighter range
    arena.release(blocks[1])  # merges with the free range before it
    assert arena.free == [(0, 4 * ALIGN)]


def test_used_memory_serves_before_fresh_pages_are_touched():
    arena = Arena(64 * ALIGN)
    low = arena.carve((8 * ALIGN,), np.uint8)
    arena.carve((ALIGN,), np.uint8)
    arena.release(low)
    touched = arena.touched
    assert arena.extent(arena.carve((2 * ALIGN,), np.uint8))[0] == 0  # not the larger, untouched range above
    assert arena.touched == touched


def test_a_request_no_free_range_holds_is_refused_even_when_enough_bytes_are_free():
    arena = Arena(4 * ALIGN)
    blocks = [arena.carve((ALIGN,), np.uint8) for _ in range(4)]
    assert arena.carve((1,), np.uint8) is None
    arena.release(blocks[0])
    arena.release(blocks[2])
    assert arena.carve((2 * ALIGN,), np.uint8) is None and arena.used() == 2 * ALIGN
    assert arena.touched <= arena.size
