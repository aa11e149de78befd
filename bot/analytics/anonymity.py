"""The anonymity gate: which groups may be shown at all.

A group is shown only when enough distinct people answered in it. Showing subgroups beside their
parent leaks the remainder by subtraction, so the hidden remainder must itself be empty or large
enough; when it is not, the next-smallest shown groups are hidden too until it is.
"""

from __future__ import annotations

from collections.abc import Mapping


def may_show(respondents: int, minimum: int) -> bool:
    return respondents >= minimum


def visible_groups(counts: Mapping[str, int], minimum: int, *, parent_total: int) -> set[str]:
    """Subgroups that may be shown next to a parent of `parent_total` respondents.

    `counts` gives distinct respondents per subgroup; people in no listed subgroup are part of
    the remainder too (parent_total minus the listed counts).
    """
    if sum(counts.values()) > parent_total:
        raise ValueError("subgroups cannot hold more people than their parent")
    shown = {name for name, n in counts.items() if may_show(n, minimum)}
    while shown:
        remainder = parent_total - sum(counts[name] for name in shown)
        if remainder == 0 or remainder >= minimum:
            break
        smallest = min(shown, key=lambda name: (counts[name], name))
        shown.discard(smallest)
    # A single subgroup shown beside its parent reveals the rest unless the rest is big enough,
    # which the loop above has already checked.
    return shown
