"""Disclosure auditing: can an insider who keeps every published cell work out a small group?

A cell is the sum of answers (score counts and the people count) over a set of people. Anyone
who keeps the cells of one week and dimension can add and subtract them, with any rational
weights, so what they learn is the span of the cells' indicator vectors. People who belong to
exactly the same cells can never be told apart, so the cells are linear equations over *atoms*
(a membership pattern and how many people share it). A group of 1..minimum-1 people leaks when
its indicator vector is in that span: its total, and for one person their answer, is known.

Only atoms with fewer than `minimum` people can be part of a leaking group (a group holding a
bigger atom is not small), so the search is over unions of small atoms. The span is worked
out exactly: Gaussian elimination modulo a 61-bit prime, lifted back to rationals and then
checked exactly against every cell, with exact `Fraction` elimination whenever the check fails.

Pure functions, standard library only: no Slack, no database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

# Two primes of about 61 bits: 2**61 - 1 and 2**62 - 57.
FIRST_PRIME = (1 << 61) - 1
SECOND_PRIME = (1 << 62) - 57

# Python's default recursion limit is 1000; a deeper search gives up (and is then conservative)
# instead of crashing. Depth only grows while a group stays under the minimum, so this binds
# only for minimums in the hundreds.
_MAX_DEPTH = 800

_V = TypeVar("_V")
_ZERO = Fraction(0)


@dataclass(frozen=True)
class Candidate:
    """A cell that may be published: its key and the ids of the people summed in it."""

    key: Hashable
    members: frozenset[Hashable]

    @property
    def people(self) -> int:
        """How many people the cell sums."""
        return len(self.members)


def atoms_of(candidates: Sequence[Candidate]) -> dict[frozenset[Hashable], int]:
    """Each membership pattern (the keys of the cells a person is in) with its number of people."""
    _require_unique_keys(candidates)
    patterns, members = _fine_atoms([candidate.members for candidate in candidates])
    return {
        frozenset(candidates[index].key for index in pattern): len(people)
        for pattern, people in zip(patterns, members, strict=True)
    }


def find_leak(
    published: Sequence[Candidate],
    minimum: int,
    *,
    search_limit: int = 200_000,
    already_published: Sequence[Candidate] = (),
) -> frozenset[Hashable] | None:
    """None if no new group of 1..minimum-1 people is determined, else one such group's ids."""
    # `already_published` cells are held too: a group they determined on their own is old news
    # and not reported, one they determine together with `published` is. A search cut off after
    # `search_limit` nodes returns every small atom it could not clear, never a wrong None, so
    # that answer can hold `minimum` people or more.
    old = [candidate.members for candidate in already_published]
    ledger = _Ledger([*old, *(candidate.members for candidate in published)])
    cells = range(len(old) + len(published))
    atoms = ledger.leak(cells, frozenset(range(len(old))), minimum, search_limit)
    if atoms is None:
        return None
    return frozenset(person for atom in atoms for person in ledger.members[atom])


def safe_cells(
    candidates: Sequence[Candidate],
    minimum: int,
    *,
    forced: Collection[Hashable] = (),
    already_published: Sequence[Candidate] = (),
    search_limit: int = 200_000,
) -> list[Hashable]:
    """The keys of the candidates that may be published together, in input order."""
    # Cells under the minimum are never shown, forced or not. While the kept cells (with the
    # already published ones) determine a small group, hide the smallest non-forced kept cell
    # holding someone of it, or the smallest non-forced one at all if none does. When only
    # forced cells are left and a group is still determined, nothing may be shown.
    _require_unique_keys(candidates)
    forced_keys = set(forced)
    eligible = [index for index, cell in enumerate(candidates) if cell.people >= minimum]
    old = range(len(already_published))
    # Ledger cell numbers: the old cells first, then the eligible candidates in input order.
    cell_of = {index: len(already_published) + n for n, index in enumerate(eligible)}
    ledger = _Ledger(
        [
            *(cell.members for cell in already_published),
            *(candidates[index].members for index in eligible),
        ]
    )
    kept = list(eligible)
    while True:
        active = [*old, *(cell_of[index] for index in kept)]
        atoms = ledger.leak(active, frozenset(old), minimum, search_limit)
        if atoms is None:
            return [candidates[index].key for index in kept]
        hideable = [index for index in kept if candidates[index].key not in forced_keys]
        if not hideable:
            return []
        # Atoms lie wholly inside or outside each cell, so a cell holds someone of the group
        # exactly when its number is in the pattern of one of the group's atoms.
        touched = {cell for atom in atoms for cell in ledger.patterns[atom]}
        holding = [index for index in hideable if cell_of[index] in touched]
        ordered = sorted(
            holding or hideable,
            key=lambda index: (candidates[index].people, repr(candidates[index].key), index),
        )
        kept.remove(
            _victim(
                ledger,
                ordered=ordered,
                active=active,
                cell_of=cell_of,
                atoms=atoms,
                old=old,
                minimum=minimum,
                search_limit=search_limit,
            )
        )


# How many of the smallest suspects are tried before simply hiding the smallest: enough to
# find the cell that actually completes a combination (org minus "others" is "leaders" however
# many teams are hidden first), cheap enough for hundreds of teams.
LOOKAHEAD = 6


def _victim(
    ledger: _Ledger,
    *,
    ordered: Sequence[int],
    active: Sequence[int],
    cell_of: Mapping[int, int],
    atoms: Sequence[int],
    old: Collection[int],
    minimum: int,
    search_limit: int,
) -> int:
    """The cell to hide next: the smallest whose hiding leaves nothing determined, else the
    smallest that at least stops this group from being determined, else the smallest."""
    stops_this: int | None = None
    for index in ordered[:LOOKAHEAD]:
        trial = [cell for cell in active if cell != cell_of[index]]
        found = ledger.leak(trial, frozenset(old), minimum, search_limit)
        if found is None:
            return index
        if stops_this is None and sorted(found) != sorted(atoms):
            stops_this = index
    return ordered[0] if stops_this is None else stops_this


def _require_unique_keys(candidates: Sequence[Candidate]) -> None:
    """Refuse two candidates with one key: keys are how results name cells."""
    keys = [candidate.key for candidate in candidates]
    if len(set(keys)) != len(keys):
        raise ValueError("candidate keys must be unique")


def _fine_atoms(
    cells: Sequence[frozenset[Hashable]],
) -> tuple[list[tuple[int, ...]], list[list[Hashable]]]:
    """Membership patterns (ascending cell numbers), sorted, with the people sharing each."""
    membership: dict[Hashable, list[int]] = {}
    for index, members in enumerate(cells):
        for person in members:
            found = membership.get(person)
            if found is None:
                membership[person] = [index]
            else:
                found.append(index)
    grouped: dict[tuple[int, ...], list[Hashable]] = {}
    for person, pattern in membership.items():
        grouped.setdefault(tuple(pattern), []).append(person)
    # Sorted patterns, not hash order, so atoms (and everything after) come out the same on
    # every run whatever PYTHONHASHSEED is.
    patterns = sorted(grouped)
    return patterns, [grouped[pattern] for pattern in patterns]


class _Ledger:
    """The finest atoms over a fixed list of cells, audited for any subset of those cells."""

    def __init__(self, cells: Sequence[frozenset[Hashable]]) -> None:
        self.patterns, self.members = _fine_atoms(cells)

    def leak(
        self, active: Sequence[int], old: Collection[int], minimum: int, search_limit: int
    ) -> list[int] | None:
        """Fine atoms of one small group the `active` cells determine and the `old` ones did not."""
        if minimum <= 1 or all(cell in old for cell in active):
            return None
        # Atoms of the active cells: fine atoms that differ only in inactive cells merge.
        shown = set(active)
        grouped: dict[tuple[int, ...], list[int]] = {}
        for atom, pattern in enumerate(self.patterns):
            key = tuple(cell for cell in pattern if cell in shown)
            if key:
                grouped.setdefault(key, []).append(atom)
        people = {key: sum(len(self.members[a]) for a in atoms) for key, atoms in grouped.items()}
        big = sorted(key for key in grouped if people[key] >= minimum)
        small = sorted(key for key in grouped if people[key] < minimum)
        if not small:
            return None
        # Big atoms get the low column numbers, so in echelon form every row whose pivot is a
        # small atom has only small atoms in it, and those rows span exactly the combinations
        # of cells that involve small atoms only: the only place a small group can be.
        order = [*big, *small]
        rows: dict[int, list[int]] = {cell: [] for cell in active}
        for column, key in enumerate(order):
            for cell in key:
                rows[cell].append(column)
        basis = _exact_basis(list(rows.values()))
        small_rows = {pivot: row for pivot, row in basis.items() if pivot >= len(big)}
        if not small_rows:
            return None
        old_rows = [rows[cell] for cell in active if cell in old]
        old_basis: dict[int, dict[int, Fraction]] | None = None

        def is_new(group: Sequence[int]) -> bool:
            """Whether the old cells alone did not already determine this group."""
            nonlocal old_basis
            if not old_rows:
                return True
            if old_basis is None:
                old_basis = _exact_basis(old_rows)
            return not _in_span(group, old_basis)

        search = _Search(small_rows, [people[key] for key in order], minimum, search_limit, is_new)
        found = search.run()
        if found is None:
            return None
        return sorted(atom for column in found for atom in grouped[order[column]])


class _Field(Generic[_V]):
    """Sparse row arithmetic in one field, so one elimination serves both kinds of number."""

    one: _V

    def inverse(self, value: _V) -> _V:
        """The multiplicative inverse of a non-zero value."""
        raise NotImplementedError

    def scaled(self, row: Mapping[int, _V], factor: _V) -> dict[int, _V]:
        """A new row: `row` times `factor`."""
        raise NotImplementedError

    def subtract(self, target: dict[int, _V], factor: _V, source: Mapping[int, _V]) -> None:
        """target -= factor * source, in place, dropping entries that become zero."""
        raise NotImplementedError


class _ModPrime(_Field[int]):
    """Integers modulo a prime: exact-size numbers, fast, but only a shadow of the rationals."""

    def __init__(self, prime: int) -> None:
        self.prime = prime
        self.one = 1

    def inverse(self, value: int) -> int:
        """The inverse modulo the prime."""
        return pow(value, -1, self.prime)

    def scaled(self, row: Mapping[int, int], factor: int) -> dict[int, int]:
        """A new row: `row` times `factor`, modulo the prime."""
        return {column: value * factor % self.prime for column, value in row.items()}

    def subtract(self, target: dict[int, int], factor: int, source: Mapping[int, int]) -> None:
        """target -= factor * source modulo the prime, dropping zeros."""
        prime = self.prime
        for column, value in source.items():
            result = (target.get(column, 0) - factor * value) % prime
            if result:
                target[column] = result
            else:
                target.pop(column, None)


class _Rationals(_Field[Fraction]):
    """Exact rationals: always right, slower, the fallback."""

    def __init__(self) -> None:
        self.one = Fraction(1)

    def inverse(self, value: Fraction) -> Fraction:
        """The exact inverse."""
        return 1 / value

    def scaled(self, row: Mapping[int, Fraction], factor: Fraction) -> dict[int, Fraction]:
        """A new row: `row` times `factor`."""
        return {column: value * factor for column, value in row.items()}

    def subtract(
        self, target: dict[int, Fraction], factor: Fraction, source: Mapping[int, Fraction]
    ) -> None:
        """target -= factor * source, dropping zeros."""
        for column, value in source.items():
            result = target.get(column, _ZERO) - factor * value
            if result:
                target[column] = result
            else:
                target.pop(column, None)


def _echelon(rows: Sequence[Sequence[int]], field: _Field[_V]) -> dict[int, dict[int, _V]]:
    """Reduced row echelon form of 0/1 rows (given as their columns), as pivot column -> row."""
    # Each row's pivot is its lowest column with pivot value one, and no row has an entry in
    # another row's pivot column: `_Ledger.leak` and `_in_span` rely on both.
    basis: dict[int, dict[int, _V]] = {}
    # Sparse rows first (teams before the org): fewer entries to carry through elimination.
    for columns in sorted(rows, key=len):
        row = dict.fromkeys(columns, field.one)
        # Basis rows are zero in each other's pivot columns, so one pass over the pivots this
        # row starts with clears them all without bringing in new ones.
        for pivot in [column for column in row if column in basis]:
            field.subtract(row, row[pivot], basis[pivot])
        if not row:
            continue
        pivot = min(row)
        row = field.scaled(row, field.inverse(row[pivot]))
        for other in basis.values():
            factor = other.get(pivot)
            if factor is not None:
                field.subtract(other, factor, row)
        basis[pivot] = row
    return basis


def _rational(residue: int, modulus: int) -> Fraction | None:
    """The fraction n/d with |n|, d <= sqrt(modulus / 2) congruent to `residue`, if any."""
    bound = math.isqrt(modulus // 2)
    if residue <= bound:
        return Fraction(residue)
    if modulus - residue <= bound:
        return Fraction(residue - modulus)
    # Half an extended Euclid: r_k = t_k * residue (mod modulus) all along.
    r0, r1, t0, t1 = modulus, residue, 0, 1
    while r1 > bound:
        quotient = r0 // r1
        r0, r1 = r1, r0 - quotient * r1
        t0, t1 = t1, t0 - quotient * t1
    if t1 == 0 or abs(t1) > bound or math.gcd(r1, t1) != 1:
        return None
    return Fraction(r1, t1)


def _lift(basis: Mapping[int, Mapping[int, int]], modulus: int) -> dict[int, dict[int, Fraction]]:
    """Rational guesses for a modular echelon form; raises ArithmeticError if one has none."""
    lifted: dict[int, dict[int, Fraction]] = {}
    for pivot, row in basis.items():
        lifted[pivot] = {}
        for column, residue in row.items():
            value = _rational(residue, modulus)
            if value is None:
                raise ArithmeticError("no small fraction for a residue")
            lifted[pivot][column] = value
    return lifted


def _combine(
    first: Mapping[int, Mapping[int, int]], second: Mapping[int, Mapping[int, int]]
) -> dict[int, dict[int, int]]:
    """Chinese remaindering of two echelon forms with the same pivots, modulo both primes."""
    inverse = pow(FIRST_PRIME, -1, SECOND_PRIME)
    combined: dict[int, dict[int, int]] = {}
    for pivot, row in first.items():
        other = second[pivot]
        combined[pivot] = {}
        for column in row.keys() | other.keys():
            a, b = row.get(column, 0), other.get(column, 0)
            combined[pivot][column] = a + FIRST_PRIME * ((b - a) * inverse % SECOND_PRIME)
    return combined


def _spans(rows: Sequence[Sequence[int]], basis: Mapping[int, Mapping[int, Fraction]]) -> bool:
    """Whether every 0/1 row is, exactly, the sum of the basis rows of the pivots it holds."""
    for columns in rows:
        total: dict[int, Fraction] = {}
        for column in columns:
            for target, value in basis.get(column, {}).items():
                total[target] = total.get(target, _ZERO) + value
        if {column for column, value in total.items() if value} != set(columns):
            return False
        if any(total[column] != 1 for column in columns):
            return False
    return True


def _exact_basis(rows: Sequence[Sequence[int]]) -> dict[int, dict[int, Fraction]]:
    """The exact reduced echelon form of 0/1 rows, through modular arithmetic when it can."""
    # Why this is exact. Reducing modulo a prime p can only lose rank (a minor that is zero over
    # the rationals stays zero mod p), so rank_p <= rank. The lifted rows have the echelon shape
    # (one at their own pivot, zero at the others), so they are independent, as many as rank_p.
    # `_spans` checks exactly that every cell row is a rational combination of them, so the
    # cells' span sits inside theirs; with rank >= rank_p the two spans are equal and the
    # lifted rows are the true echelon form. No probability is involved: a bad prime or a
    # wrong lift fails the check and we go on to the next method. Agreeing ranks under two
    # primes would only make a rank deficiency unlikely; the check rules it out.
    first = _echelon(rows, _ModPrime(FIRST_PRIME))
    try:
        lifted = _lift(first, FIRST_PRIME)
    except ArithmeticError:
        pass
    else:
        if _spans(rows, lifted):
            return lifted
    # Entries too big for one prime (fractions past ~2**30) may fit under both (~2**61). If the
    # two ranks or pivots differ, one prime lost rank, so only exact arithmetic can be trusted.
    second = _echelon(rows, _ModPrime(SECOND_PRIME))
    if second.keys() == first.keys():
        try:
            lifted = _lift(_combine(first, second), FIRST_PRIME * SECOND_PRIME)
        except ArithmeticError:
            pass
        else:
            if _spans(rows, lifted):
                return lifted
    return _echelon(rows, _Rationals())


def _in_span(group: Sequence[int], basis: Mapping[int, Mapping[int, Fraction]]) -> bool:
    """Whether the 0/1 vector on `group` is a combination of the echelon `basis` rows."""
    vector: dict[int, Fraction] = dict.fromkeys(group, Fraction(1))
    # Basis rows are zero in each other's pivots: one pass over the pivots present suffices.
    for pivot in [column for column in vector if column in basis]:
        factor = vector[pivot]
        for column, value in basis[pivot].items():
            result = vector.get(column, _ZERO) - factor * value
            if result:
                vector[column] = result
            else:
                vector.pop(column, None)
    return not vector


class _Exhausted(Exception):
    """The search spent its node budget (or depth) before clearing a component."""


class _Search:
    """Looks for a 0/1 combination of small-atom rows with fewer than `minimum` people."""

    def __init__(
        self,
        rows: Mapping[int, Mapping[int, Fraction]],
        people: Sequence[int],
        minimum: int,
        limit: int,
        is_new: Callable[[Sequence[int]], bool],
    ) -> None:
        self.rows = rows
        self.people = people
        self.minimum = minimum
        self.limit = limit
        self.is_new = is_new
        self.nodes = 0

    def run(self) -> list[int] | None:
        """Columns of one determined small group; every column of a component it gave up on."""
        for component in self._components():
            try:
                found = self._search(component)
            except _Exhausted:
                return sorted({column for pivot in component for column in self.rows[pivot]})
            if found is not None:
                return found
        return None

    def _components(self) -> list[list[int]]:
        """Pivots grouped by rows that share columns, fewest rows first."""
        # A 0/1 vector x in the span is sum(x[p] * row_p) over pivots p. Rows of different
        # groups touch disjoint columns, so x restricted to one group is again a 0/1 vector in
        # the span, with no more people: a smallest leak always lies inside one group.
        parent: dict[int, int] = {}

        def root(column: int) -> int:
            """The representative of a column's group, halving paths on the way."""
            parent.setdefault(column, column)
            while parent[column] != column:
                parent[column] = parent[parent[column]]
                column = parent[column]
            return column

        for pivot, row in self.rows.items():
            for column in row:
                parent[root(column)] = root(pivot)
        groups: dict[int, list[int]] = {}
        for pivot in sorted(self.rows):
            groups.setdefault(root(pivot), []).append(pivot)
        return sorted(groups.values(), key=lambda pivots: (len(pivots), pivots[0]))

    def _search(self, component: Sequence[int]) -> list[int] | None:
        """Depth-first over subsets of the component's pivots, pruned by people and 0/1-ness."""
        people = self.people
        # Cheapest pivots first: once one is too big to add, every later one is too.
        pivots = sorted(component, key=lambda pivot: (people[pivot], pivot))
        scale = 1
        for pivot in pivots:
            for value in self.rows[pivot].values():
                scale = math.lcm(scale, value.denominator)
        free = sorted({column for pivot in pivots for column in self.rows[pivot]} - set(pivots))
        local = {column: index for index, column in enumerate(free)}
        # Integer rows scaled to a common denominator: x is 0/1 where the sum is 0 or `scale`.
        terms = [
            [
                (local[column], int(value * scale))
                for column, value in self.rows[pivot].items()
                if column != pivot
            ]
            for pivot in pivots
        ]
        # A free column is settled once the search has passed the last pivot whose row has it.
        settles: list[list[int]] = [[] for _ in pivots]
        last: dict[int, int] = {}
        for position, row in enumerate(terms):
            for index, _ in row:
                last[index] = position
        for index, position in last.items():
            settles[position].append(index)
        state = _State(
            scale=scale,
            terms=terms,
            settles=settles,
            pivot_columns=pivots,
            free_columns=free,
            people=people,
            minimum=self.minimum,
            spend=self._spend,
            is_new=self.is_new,
        )
        return state.visit(0, 0, 0, 0)

    def _spend(self, depth: int) -> None:
        """Count one node; give up past the budget or the recursion depth."""
        self.nodes += 1
        if self.nodes > self.limit or depth > _MAX_DEPTH:
            raise _Exhausted


@dataclass
class _State:
    """The running sum of chosen rows over one component's free columns, with its tallies."""

    scale: int
    terms: list[list[tuple[int, int]]]
    settles: list[list[int]]
    pivot_columns: list[int]
    free_columns: list[int]
    people: Sequence[int]
    minimum: int
    spend: Callable[[int], None]
    is_new: Callable[[Sequence[int]], bool]

    def __post_init__(self) -> None:
        self.pivot_people = [self.people[column] for column in self.pivot_columns]
        self.free_people = [self.people[column] for column in self.free_columns]
        self.sums = [0] * len(self.free_columns)
        self.chosen: list[int] = []
        # Free columns whose sum is neither 0 nor `scale`, and the people of those at `scale`.
        self.bad = 0
        self.ones_people = 0

    def group(self) -> list[int]:
        """Columns of the current sum's group: chosen pivots and free columns at one."""
        ones = [
            column
            for column, value in zip(self.free_columns, self.sums, strict=True)
            if value == self.scale
        ]
        return sorted([self.pivot_columns[position] for position in self.chosen] + ones)

    def add(self, position: int, sign: int) -> None:
        """Add (sign 1) or take back (sign -1) one pivot's row, keeping the tallies."""
        scale, sums, people = self.scale, self.sums, self.free_people
        for index, value in self.terms[position]:
            before = sums[index]
            after = before + sign * value
            sums[index] = after
            if before == scale:
                self.ones_people -= people[index]
            elif before:
                self.bad -= 1
            if after == scale:
                self.ones_people += people[index]
            elif after:
                self.bad += 1

    def settled(self, position: int, settled_people: int) -> int | None:
        """People settled at one once `position` is passed; None if one settles outside 0/1."""
        for index in self.settles[position]:
            value = self.sums[index]
            if value == self.scale:
                settled_people += self.free_people[index]
            elif value:
                return None
        return settled_people

    def visit(
        self, start: int, chosen_people: int, settled_people: int, depth: int
    ) -> list[int] | None:
        """Columns of a new small group extending the chosen pivots by pivots from `start` on."""
        for position in range(start, len(self.terms)):
            with_pivot = chosen_people + self.pivot_people[position]
            if with_pivot + settled_people >= self.minimum:
                return None
            self.spend(depth)
            self.add(position, 1)
            self.chosen.append(position)
            settled = self.settled(position, settled_people)
            if settled is not None and with_pivot + settled < self.minimum:
                if self.bad == 0 and with_pivot + self.ones_people < self.minimum:
                    group = self.group()
                    if self.is_new(group):
                        return group
                found = self.visit(position + 1, with_pivot, settled, depth + 1)
                if found is not None:
                    return found
            self.add(position, -1)
            self.chosen.pop()
            # Skipping this pivot settles its columns at their current sums for good.
            skipped = self.settled(position, settled_people)
            if skipped is None:
                return None
            settled_people = skipped
        return None
