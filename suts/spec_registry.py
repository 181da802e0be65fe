"""A registry of factories keyed by the scheme of a spec string, with lazily imported backends.

Both SUTs (``openvino:...``) and workloads (``digits``) are named this way: backends register a
factory under a name with :meth:`SpecRegistry.register`; names whose module has heavy
dependencies are listed in ``lazy_modules`` and imported only when asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from suts.errors import SutSpecError
from suts.spec import SutSpec

F = TypeVar("F", bound=Callable[..., object])


class SpecRegistry(Generic[F]):
    """Factories by name.

    Args:
        kind: what the names denote, for error messages ("SUT scheme", "workload").
        lazy_modules: name -> module that registers it when imported.
    """

    def __init__(self, kind: str, lazy_modules: Mapping[str, str]) -> None:
        self.kind = kind
        self._factories: dict[str, F] = {}
        self._lazy = dict(lazy_modules)

    def register(self, name: str) -> Callable[[F], F]:
        """Register the decorated factory under ``name``."""

        def deco(factory: F) -> F:
            self._factories[name] = factory
            return factory

        return deco

    def known(self) -> list[str]:
        """Return every name that can be resolved."""
        return sorted(set(self._factories) | set(self._lazy))

    def resolve(self, spec: SutSpec) -> F:
        """Return the factory for ``spec.scheme``, importing its module if needed.

        Raises:
            SutSpecError: unknown name, naming the spec and listing the known ones.
        """
        if spec.scheme not in self._factories and spec.scheme in self._lazy:
            importlib.import_module(self._lazy[spec.scheme])
        factory = self._factories.get(spec.scheme)
        if factory is None:
            raise SutSpecError(
                f"unknown {self.kind} {spec.scheme!r} in {spec.text!r}; "
                f"known: {', '.join(self.known())}"
            )
        return factory
