"""The SUT registry: spec scheme -> factory.

Backends register with :func:`register_sut`; :func:`open_sut` resolves a spec string. Backends
with heavy dependencies (OpenVINO) live in modules imported only when their scheme is asked for,
listed in ``_LAZY_MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from loadgen.interfaces import QuerySampleLibrary, SystemUnderTest
from suts.errors import SutSpecError
from suts.spec import SutSpec, parse_sut_spec

SutFactory = Callable[[SutSpec, QuerySampleLibrary], SystemUnderTest]
"""Build a SUT from its spec and the QSL whose samples it will receive."""

_FACTORIES: dict[str, SutFactory] = {}
# scheme -> module that registers it on import (keeps optional heavy imports lazy)
_LAZY_MODULES: dict[str, str] = {
    "null": "suts.null",
    "null-threaded": "suts.null",
    "openvino": "suts.openvino_sut",
}


def register_sut(scheme: str) -> Callable[[SutFactory], SutFactory]:
    """Register ``factory`` for ``scheme`` (decorator)."""

    def deco(factory: SutFactory) -> SutFactory:
        _FACTORIES[scheme] = factory
        return factory

    return deco


def known_schemes() -> list[str]:
    """Return every scheme that can be opened."""
    return sorted(set(_FACTORIES) | set(_LAZY_MODULES))


def open_sut(spec: str | SutSpec, qsl: QuerySampleLibrary) -> SystemUnderTest:
    """Build the SUT named by ``spec`` for ``qsl``."""
    parsed = parse_sut_spec(spec) if isinstance(spec, str) else spec
    if parsed.scheme not in _FACTORIES and parsed.scheme in _LAZY_MODULES:
        importlib.import_module(_LAZY_MODULES[parsed.scheme])
    factory = _FACTORIES.get(parsed.scheme)
    if factory is None:
        raise SutSpecError(
            f"unknown SUT scheme {parsed.scheme!r} in {parsed.text!r}; "
            f"known: {', '.join(known_schemes())}"
        )
    return factory(parsed, qsl)
