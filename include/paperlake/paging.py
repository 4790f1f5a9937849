"""Paginated results: a page of a longer result and the query reading it (the page's views and the search share them).

Apart from the dashboard's own queries, so a caller that pages (the search, which the DAG files load) does not load
the page's nine view dataclasses with it."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil


@dataclass(frozen=True)
class Page:
    """One page of a longer result: `rows`, page `number` (from 1) of `size` rows, `total` rows in all."""

    rows: list
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))


def page_bounds(number: int, size: int) -> tuple[int, int]:
    """(LIMIT, OFFSET) of page `number` (pages below 1 count as 1)."""
    return size, (max(number, 1) - 1) * size


def paged_rows(
    con, columns: str, rows_from: str, order: str, params: list, page: int, size: int
) -> tuple[list[tuple], int]:
    """Page `page` of `SELECT columns FROM rows_from ORDER BY order` (`rows_from`: a mart and WHERE), and the total."""
    limit, offset = page_bounds(page, size)
    total = con.execute(f"SELECT count(*) FROM {rows_from}", params).fetchone()[0]
    rows = con.execute(
        f"SELECT {columns} FROM {rows_from} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]
    ).fetchall()
    return rows, total
