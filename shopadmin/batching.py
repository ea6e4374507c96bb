"""`batched`, without the database layer's imports (the import's reading process uses it)."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last one shorter): the IN lists, inserts and groups a
    statement or a commit takes at a time. (itertools.batched, from Python 3.12, gives tuples.)"""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
