"""The disclosure auditor against hand-worked attacks and a brute-force oracle."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from fractions import Fraction
from itertools import combinations
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analytics import disclosure
from bot.analytics.disclosure import Candidate, atoms_of, find_leak, safe_cells

MINIMUM = 5


def cell(key: Hashable, members: Iterable[Hashable]) -> Candidate:
    return Candidate(key, frozenset(members))


def people(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def ids(*names: str) -> frozenset[Hashable]:
    return frozenset(names)


def shown(candidates: Sequence[Candidate], keys: Sequence[Hashable]) -> list[Candidate]:
    return [candidate for candidate in candidates if candidate.key in keys]


# --- the oracle: every subset of people, checked exactly with fractions -----------------------


def _echelon(vectors: Iterable[Sequence[int]]) -> list[tuple[int, list[Fraction]]]:
    basis: list[tuple[int, list[Fraction]]] = []
    for vector in vectors:
        row = _reduce([Fraction(x) for x in vector], basis)
        pivot = next((i for i, x in enumerate(row) if x), None)
        if pivot is not None:
            basis.append((pivot, [x / row[pivot] for x in row]))
    return basis


def _reduce(row: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> list[Fraction]:
    for pivot, other in basis:
        if row[pivot]:
            factor = row[pivot]
            row = [x - factor * y for x, y in zip(row, other, strict=True)]
    return row


def oracle(
    published: Sequence[Candidate], minimum: int, already: Sequence[Candidate] = ()
) -> set[frozenset[Hashable]]:
    """Every group of 1..minimum-1 people the cells determine and `already` alone did not."""
    everyone = sorted({p for c in [*published, *already] for p in c.members}, key=repr)
    assert len(everyone) <= 16, "the oracle is exponential"

    def vector(group: Iterable[Hashable]) -> list[int]:
        inside = set(group)
        return [int(person in inside) for person in everyone]

    all_basis = _echelon(vector(c.members) for c in [*already, *published])
    old_basis = _echelon(vector(c.members) for c in already)

    def in_span(group: Sequence[Hashable], basis: list[tuple[int, list[Fraction]]]) -> bool:
        return not any(_reduce([Fraction(x) for x in vector(group)], basis))

    return {
        frozenset(group)
        for size in range(1, minimum)
        for group in combinations(everyone, size)
        if in_span(group, all_basis) and not in_span(group, old_basis)
    }


def test_the_oracle_sees_the_textbook_subtraction() -> None:
    # Org minus team: the two people outside the team.
    org, team = cell("org", [*people("t", 6), "x", "y"]), cell("team", people("t", 6))
    assert oracle([org, team], MINIMUM) == {frozenset({"x", "y"})}
    assert oracle([org], MINIMUM) == set()


# --- atoms -------------------------------------------------------------------------------------


def test_atoms_group_people_by_the_cells_they_are_in() -> None:
    a, b = people("a", 3), people("b", 4)
    org, team_a, leaders = cell("org", a + b + ["x"]), cell("A", a), cell("L", ["a0", "b0"])
    assert atoms_of([org, team_a, leaders]) == {
        frozenset({"org", "A", "L"}): 1,
        frozenset({"org", "A"}): 2,
        frozenset({"org", "L"}): 1,
        frozenset({"org"}): 4,  # b1..b3 and x: in no cell but the org, still an atom
    }


def test_atoms_need_unique_keys() -> None:
    with pytest.raises(ValueError, match="unique"):
        atoms_of([cell("org", ["a"]), cell("org", ["b"])])


# --- hand-worked attacks -------------------------------------------------------------------------


def test_leader_cell_minus_an_all_leader_team_isolates_one_person() -> None:
    # Team A has one leader (a0), every member of team B is a leader: leaders minus team B is
    # a0 alone, though every cell has at least five people.
    a, b = people("a", 6), people("b", 6)
    org, team_a, team_b = cell("org", a + b), cell("A", a), cell("B", b)
    leaders, others = cell("L", ["a0", *b]), cell("O", a[1:])
    cells = [org, team_a, team_b, leaders, others]
    assert find_leak(cells, MINIMUM) == ids("a0")
    # a0 is in A (6) and L (7): A goes first. L minus B still gives a0, so L goes. Then org
    # minus B minus O does, and no cell left but the org holds a0: the smallest, O, goes.
    assert find_leak([org, team_b, leaders, others], MINIMUM) == ids("a0")
    assert find_leak([org, team_b, others], MINIMUM) == ids("a0")
    assert safe_cells(cells, MINIMUM, forced=["org"]) == ["org", "B"]


def test_the_remainder_beside_one_team_is_a_leak() -> None:
    org, team = cell("org", [*people("t", 6), "x", "y"]), cell("team", people("t", 6))
    assert find_leak([org, team], MINIMUM) == ids("x", "y")
    assert safe_cells([org, team], MINIMUM, forced=["org"]) == ["org"]


def test_teams_that_cover_the_org_are_safe() -> None:
    a, b = people("a", 5), people("b", 5)
    cells = [cell("org", a + b), cell("A", a), cell("B", b)]
    assert find_leak(cells, MINIMUM) is None
    assert safe_cells(cells, MINIMUM, forced=["org"]) == ["org", "A", "B"]


def test_the_leader_split_alone_is_safe() -> None:
    staff = people("p", 10)
    cells = [cell("org", staff), cell("L", staff[:5]), cell("O", staff[5:])]
    assert find_leak(cells, MINIMUM) is None
    assert safe_cells(cells, MINIMUM, forced=["org"]) == ["org", "L", "O"]


def test_leaders_minus_a_team_isolate_two_people() -> None:
    # Teams A (5), B (6), C (5); the leaders are all of A and two of B: L - A = {b0, b1}.
    a, b, c = people("a", 5), people("b", 6), people("c", 5)
    org, team_a, team_b, team_c = cell("org", a + b + c), cell("A", a), cell("B", b), cell("C", c)
    leaders, others = cell("L", [*a, "b0", "b1"]), cell("O", b[2:] + c)
    cells = [org, team_a, team_b, team_c, leaders, others]
    assert all(candidate.people >= MINIMUM for candidate in cells)
    assert find_leak(cells, MINIMUM) == ids("b0", "b1")
    # B (6) goes before L (7). Without B, L - A still gives b0 and b1, and O - C gives b2..b5.
    without_b = [org, team_a, team_c, leaders, others]
    assert oracle(without_b, MINIMUM) == {
        frozenset({"b0", "b1"}),
        frozenset({"b2", "b3", "b4", "b5"}),
    }
    assert find_leak(without_b, MINIMUM) == ids("b0", "b1")
    # Hiding the smallest suspect is not always best: with L gone, org - A - C - O is still b0
    # and b1, and hiding A (the smallest) would leave O - C = b2..b5 to hide O as well. Hiding
    # O instead leaves nothing determined, so O goes and A and C stay.
    assert find_leak([org, team_a, team_c, others], MINIMUM) == ids("b0", "b1")
    assert find_leak([org, team_c, others], MINIMUM) == ids("b2", "b3", "b4", "b5")
    assert find_leak([org, team_a, team_c], MINIMUM) is None
    assert safe_cells(cells, MINIMUM, forced=["org"]) == ["org", "A", "C"]


def test_halving_a_sum_of_differences_isolates_two_people() -> None:
    # Overlapping squads P+Q, Q+R, P+R (7, 10, 7): (PQ - QR + PR) / 2 = P, two people. Only a
    # rational combination gets there, so this also checks nothing is done modulo 2.
    p, q, r = people("p", 2), people("q", 5), people("r", 5)
    cells = [cell("PQ", p + q), cell("QR", q + r), cell("PR", p + r)]
    assert find_leak(cells, MINIMUM) == ids("p0", "p1")
    # PQ and PR both hold P and tie at 7: the key order decides.
    assert safe_cells(cells, MINIMUM) == ["QR", "PR"]


def test_an_old_cell_under_the_new_minimum_forces_a_new_one_out() -> None:
    # Team C (4 people) was shown under an old minimum of 3. This week it is team D = C + d0.
    c = people("c", 4)
    old = cell("C", c)
    org, team_d = cell("org", [*c, "d0", *people("x", 6)]), cell("D", [*c, "d0"])
    assert find_leak([org, team_d], MINIMUM) is None
    assert safe_cells([org, team_d], MINIMUM, forced=["org"]) == ["org", "D"]
    assert find_leak([org, team_d], MINIMUM, already_published=[old]) == ids("d0")
    assert safe_cells([org, team_d], MINIMUM, forced=["org"], already_published=[old]) == ["org"]
    # C on its own is old news, not a new leak.
    assert find_leak([org], MINIMUM, already_published=[old]) is None


def test_an_old_cell_can_force_out_a_cell_that_holds_no_one_of_the_leak() -> None:
    # Org = D + E + F with D = C + d0 and C (4) shown before. Hiding D is not enough: org - E - F
    # is D again. No kept cell holds d0, so the smallest non-forced one (E, by key) goes.
    c, e, f = people("c", 4), people("e", 5), people("f", 5)
    old = cell("C", c)
    cells = [cell("org", [*c, "d0", *e, *f]), cell("D", [*c, "d0"]), cell("E", e), cell("F", f)]
    assert safe_cells(cells, MINIMUM, forced=["org"]) == ["org", "D", "E", "F"]
    assert safe_cells(cells, MINIMUM, forced=["org"], already_published=[old]) == ["org", "F"]


def test_an_exhausted_search_is_never_wrongly_safe() -> None:
    # Here the span holds combinations of small atoms that must be searched (none is a leak).
    a, b = people("a", 6), people("b", 6)
    leaders = ["a0", "b0", "b1", "b2", "b3"]
    cells = [
        cell("org", a + b),
        cell("A", a),
        cell("B", b),
        cell("L", leaders),
        cell("O", set(a + b) - set(leaders)),
    ]
    assert find_leak(cells, MINIMUM) is None
    suspicious = find_leak(cells, MINIMUM, search_limit=0)
    assert suspicious
    assert suspicious <= set(a + b)
    assert safe_cells(cells, MINIMUM, forced=["org"], search_limit=0) != [c.key for c in cells]


def test_cells_under_the_minimum_are_never_shown_even_if_forced() -> None:
    a = people("a", 5)
    cells = [cell("org", [*a, "x"]), cell("A", a), cell("tiny", ["x"])]
    assert safe_cells(cells, MINIMUM, forced=["org", "tiny"]) == ["org"]


def test_forced_cells_that_leak_on_their_own_show_nothing() -> None:
    org, team = cell("org", [*people("t", 6), "x", "y"]), cell("team", people("t", 6))
    assert safe_cells([org, team], MINIMUM, forced=["org", "team"]) == []


def test_a_minimum_of_one_hides_nothing() -> None:
    cells = [cell("org", ["a", "b"]), cell("A", ["a"])]
    assert find_leak(cells, 1) is None
    assert safe_cells(cells, 1) == ["org", "A"]


def test_a_single_small_cell_is_its_own_leak() -> None:
    assert find_leak([cell("A", ["a", "b"])], MINIMUM) == ids("a", "b")


def test_safe_cells_need_unique_keys() -> None:
    with pytest.raises(ValueError, match="unique"):
        safe_cells([cell("org", ["a"]), cell("org", ["b"])], 1)


# --- random cases against the oracle -------------------------------------------------------------


@st.composite
def random_cells(draw: st.DrawFn) -> tuple[list[Candidate], int]:
    """Arbitrary overlapping cells over up to 10 people."""
    n = draw(st.integers(1, 10))
    masks = draw(st.lists(st.integers(1, (1 << n) - 1), min_size=1, max_size=6))
    cells = [
        cell(f"c{index}", [f"p{i}" for i in range(n) if mask >> i & 1])
        for index, mask in enumerate(masks)
    ]
    return _maybe_gated(draw, cells)


@st.composite
def org_charts(draw: st.DrawFn) -> tuple[list[Candidate], int]:
    """The shapes the bot publishes: org, teams, leaders and others, maybe one extra cell."""
    n = draw(st.integers(2, 12))
    staff = [f"p{i}" for i in range(n)]
    team_of = draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n))
    leader = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    cells = [cell("org", staff)]
    for team in sorted(set(team_of) - {-1}):
        cells.append(
            cell(("team", team), [p for p, t in zip(staff, team_of, strict=True) if t == team])
        )
    cells.append(
        cell("leaders", [p for p, is_leader in zip(staff, leader, strict=True) if is_leader])
    )
    cells.append(
        cell("others", [p for p, is_leader in zip(staff, leader, strict=True) if not is_leader])
    )
    if draw(st.booleans()):
        cells.append(cell("extra", draw(st.sets(st.sampled_from(staff), min_size=1))))
    return _maybe_gated(draw, [c for c in cells if c.members])


def _maybe_gated(draw: st.DrawFn, cells: list[Candidate]) -> tuple[list[Candidate], int]:
    """A minimum, and half the time only the cells that reach it (more cases that are safe)."""
    minimum = draw(st.integers(2, 5))
    if draw(st.booleans()):
        cells = [c for c in cells if c.people >= minimum] or cells[:1]
    return cells, minimum


cases = st.one_of(random_cells(), org_charts())


def _check_find_leak(cells: list[Candidate], minimum: int, old: list[Candidate]) -> None:
    leak = find_leak(cells, minimum, already_published=old)
    groups = oracle(cells, minimum, old)
    assert (leak is None) == (not groups)
    if leak is not None:
        assert leak in groups


def _check_safe_cells(cells: list[Candidate], minimum: int, old: list[Candidate]) -> None:
    first = cells[0].key
    keys = safe_cells(cells, minimum, forced=[first], already_published=old)
    kept = shown(cells, keys)
    assert [c.key for c in kept] == keys  # input order
    assert all(c.people >= minimum for c in kept)
    assert oracle(kept, minimum, old) == set()
    if keys and cells[0].people >= minimum:
        assert first in keys  # forced cells are never the ones hidden


@settings(max_examples=200, deadline=None)
@given(cases)
def test_find_leak_agrees_with_the_oracle(case: tuple[list[Candidate], int]) -> None:
    cells, minimum = case
    _check_find_leak(cells, minimum, [])


@settings(max_examples=200, deadline=None)
@given(cases)
def test_safe_cells_always_pass_the_oracle(case: tuple[list[Candidate], int]) -> None:
    cells, minimum = case
    _check_safe_cells(cells, minimum, [])


@settings(max_examples=200, deadline=None)
@given(cases, st.integers(0, 3), st.integers(1, 4))
def test_already_published_cells_agree_with_the_oracle(
    case: tuple[list[Candidate], int], split: int, old_minimum: int
) -> None:
    cells, minimum = case
    # The first cells were shown before, possibly under a lower minimum.
    old = [c for c in cells[:split] if c.people >= min(old_minimum, minimum)]
    new = cells[split:] or cells[:1]
    _check_find_leak(new, minimum, old)
    _check_safe_cells(new, minimum, old)


@pytest.mark.parametrize("primes", [(2, 3), (3, 5), (2, 7)])
@settings(max_examples=60, deadline=None)
@given(case=cases)
def test_tiny_primes_fall_back_to_exact_answers(
    primes: tuple[int, int], case: tuple[list[Candidate], int]
) -> None:
    # Primes this small lose rank and cannot lift most fractions, so every fallback runs: the
    # exact check must catch each bad modular answer and the answers must not change.
    cells, minimum = case
    with (
        mock.patch.object(disclosure, "FIRST_PRIME", primes[0]),
        mock.patch.object(disclosure, "SECOND_PRIME", primes[1]),
    ):
        _check_find_leak(cells, minimum, [])


def test_tiny_primes_still_halve_exactly() -> None:
    p, q, r = people("p", 2), people("q", 5), people("r", 5)
    cells = [cell("PQ", p + q), cell("QR", q + r), cell("PR", p + r)]
    # Modulo 2 the three squads have rank 2 and P is out of reach; modulo 3 they have rank 3.
    # The ranks differ, so the exact elimination has to answer.
    with (
        mock.patch.object(disclosure, "FIRST_PRIME", 2),
        mock.patch.object(disclosure, "SECOND_PRIME", 3),
        mock.patch.object(disclosure, "_Rationals", wraps=disclosure._Rationals) as exact,
    ):
        assert find_leak(cells, MINIMUM) == ids("p0", "p1")
    assert exact.called
