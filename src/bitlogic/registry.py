"""``Registry``: the one lookup table every family of named things uses.

Parametrizations, connections, encoders, optimizers, schedules, datasets,
ternary layers, export backends and synth flows are each one ``Registry``.
Names are registered once (a duplicate raises), lookups of unknown names
raise an error that lists the valid ones, and ``names()`` is what config
validation, argparse ``choices`` and the docs read. Stdlib only, so the
torch-free parts (netlist, backends) use it too.

Example:
    >>> flows = Registry("synth flow")
    >>> @flows.register("generic")
    ... def generic(): return "lut6"
    >>> flows.get("generic")()
    'lut6'
    >>> flows.names()
    ['generic']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one family.

    Args:
        family: what the entries are, used in error messages ("parametrization").
        error: exception type raised for unknown names (``KeyError`` where the
            public API documents it, ``ValueError`` otherwise).
    """

    def __init__(self, family: str, error: type[Exception] = ValueError):
        self.family = family
        self.error = error
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, entry: T | None = None, *,
                 aliases: tuple[str, ...] = ()) -> Any:
        """Add ``entry`` under ``name`` (and ``aliases``); usable as a decorator.

        Raises:
            ValueError: ``name`` or an alias is already taken, or is not a
                non-empty string.
        """
        def add(obj: T) -> T:
            keys = (name, *aliases)
            if len(set(keys)) != len(keys):
                raise ValueError(f"{self.family} {name!r} lists a name twice: {keys}")
            for key in keys:
                if not isinstance(key, str) or not key:
                    raise ValueError(f"{self.family} names must be non-empty strings, "
                                     f"got {key!r}")
                if key in self._entries or key in self._aliases:
                    raise ValueError(f"{self.family} {key!r} is already registered")
            self._entries[name] = obj
            for alias in aliases:
                self._aliases[alias] = name
            return obj

        return add if entry is None else add(entry)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (or the entry an alias names) and all its aliases.

        Meant for tests that register toys.
        """
        target = self.canonical(name)
        del self._entries[target]
        self._aliases = {a: n for a, n in self._aliases.items() if n != target}

    def copy(self) -> Registry[T]:
        """An independent registry with the same entries (tests patch one in)."""
        twin: Registry[T] = Registry(self.family, self.error)
        twin._entries = dict(self._entries)
        twin._aliases = dict(self._aliases)
        return twin

    def canonical(self, name: str) -> str:
        """The registered name ``name`` refers to (itself or the target of an alias).

        Raises:
            self.error: unknown name; the message lists the valid names.
        """
        if isinstance(name, str):
            if name in self._entries:
                return name
            if name in self._aliases:
                return self._aliases[name]
        raise self.error(f"unknown {self.family} {name!r}; valid names: "
                         f"{', '.join(self.names(aliases=True))}")

    def get(self, name: str) -> T:
        """The entry registered under ``name`` (or an alias of it)."""
        return self._entries[self.canonical(name)]

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``get(name)(*args, **kwargs)`` for entries that are classes or factories."""
        factory: Callable[..., Any] = self.get(name)  # type: ignore[assignment]
        return factory(*args, **kwargs)

    def names(self, aliases: bool = False) -> list[str]:
        """Registered names, sorted; with ``aliases=True`` the aliases too."""
        keys = list(self._entries) + (list(self._aliases) if aliases else [])
        return sorted(keys)

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs sorted by name."""
        return sorted(self._entries.items())

    def __contains__(self, name: object) -> bool:
        # Only strings are names; this keeps ``[..] in registry`` False, not a TypeError.
        return isinstance(name, str) and (name in self._entries or name in self._aliases)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.family!r}, names={self.names()})"
