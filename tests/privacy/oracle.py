"""A brute-force judge of what published cells give away, independent of the auditor.

Each published cell is a linear equation over the people in it (its counts are the sums of
their answers). A group's answers are determined exactly when its indicator vector lies in
the span of the cells' indicator vectors. This checks that with exact fractions, person by
person, for every group of 1 .. minimum-1 people: slow, obviously right, for small orgs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from fractions import Fraction
from itertools import combinations


def _null_space(rows: Sequence[Sequence[int]], width: int) -> list[list[Fraction]]:
    """A basis of {v : R v = 0}, by Gauss-Jordan elimination over the rationals."""
    matrix = [[Fraction(x) for x in row] for row in rows]
    pivots: list[int] = []
    rank = 0
    for column in range(width):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][column] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        lead = matrix[rank][column]
        matrix[rank] = [x / lead for x in matrix[rank]]
        for r in range(len(matrix)):
            if r != rank and matrix[r][column] != 0:
                factor = matrix[r][column]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[rank], strict=True)]
        pivots.append(column)
        rank += 1
    free = [c for c in range(width) if c not in pivots]
    basis = []
    for f in free:
        vector = [Fraction(0)] * width
        vector[f] = Fraction(1)
        for r, p in enumerate(pivots):
            vector[p] = -matrix[r][f]
        basis.append(vector)
    return basis


def determined_groups(
    cells: Iterable[Collection[str]], minimum: int, *, limit: int | None = None
) -> list[frozenset[str]]:
    """Every group of 1 .. minimum-1 people whose answers the cells determine."""
    cells = [set(c) for c in cells if c]
    people = sorted(set().union(*cells)) if cells else []
    if not people:
        return []
    index = {p: i for i, p in enumerate(people)}
    rows = [[1 if p in cell else 0 for p in people] for cell in cells]
    basis = _null_space(rows, len(people))
    found = []
    for size in range(1, min(minimum, len(people) + 1)):
        for group in combinations(people, size):
            if all(sum(v[index[p]] for p in group) == 0 for v in basis):
                found.append(frozenset(group))
                if limit is not None and len(found) >= limit:
                    return found
    return found
