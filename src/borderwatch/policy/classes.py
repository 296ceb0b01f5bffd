"""Data class names the inputs use, checked against the policy.

A class the policy does not know would be judged as unprotected, so a misspelling
(`us_users_data` for `us_user_data`) would silently drop every finding about its stores.
An input may therefore only name classes the policy defines under `data_classes` or
declares as known and unprotected under `unprotected_classes`.
"""

from __future__ import annotations

from collections.abc import Iterable

from borderwatch.errors import InputError, Problem, SourceLocation
from borderwatch.model.policy import Policy
from borderwatch.policy.checks import unknown_class_hint

__all__ = ["check_class_names", "unknown_class_problems"]


def unknown_class_problems(
    policy: Policy, named: Iterable[tuple[str, SourceLocation]]
) -> list[Problem]:
    """One problem per class name the policy does not know, at the first place it is named.

    A misspelling repeated on thousands of rows is one mistake: the problem says on how
    many other rows it is repeated, so the list stays readable.
    """
    known = policy.known_classes()
    known_set = set(known)
    first: dict[str, SourceLocation] = {}
    repeats: dict[str, int] = {}
    for name, where in named:
        if name in known_set:
            continue
        if name in first:
            repeats[name] += 1
        else:
            first[name], repeats[name] = where, 0
    problems = []
    for name, where in first.items():
        more = repeats[name]
        also = f" (also on {more} other row{'' if more == 1 else 's'})" if more else ""
        hint = unknown_class_hint(name, known)
        hint = hint.rstrip(".?") + ("?" if hint.endswith("?") else ".")
        hint += (
            " If the class needs no protection, list it under unprotected_classes in "
            f"the policy {policy.source or policy.name}"
        )
        problems.append(
            Problem(where, f"data class '{name}' is not defined by the policy{also}", hint)
        )
    return problems


def check_class_names(policy: Policy, named: Iterable[tuple[str, SourceLocation]]) -> None:
    """Raise InputError listing every data class name the policy does not know."""
    problems = unknown_class_problems(policy, named)
    if problems:
        count = len(problems)
        raise InputError(
            f"{count} data class name{'' if count == 1 else 's'} in the inputs "
            f"{'is' if count == 1 else 'are'} not in the policy {policy.source or policy.name} "
            "(an unknown class would be judged unprotected):",
            problems,
        )
