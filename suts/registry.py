"""The SUT registry: spec scheme -> factory.

Backends register with :func:`register_sut`; :func:`open_sut` resolves a spec string. Backends
with heavy dependencies (OpenVINO) live in modules imported only when their scheme is asked for.
"""

from __future__ import annotations

from collections.abc import Callable

from loadgen.interfaces import QuerySampleLibrary, SystemUnderTest
from suts.spec import SutSpec, parse_sut_spec
from suts.spec_registry import SpecRegistry

SutFactory = Callable[[SutSpec, QuerySampleLibrary], SystemUnderTest]
"""Build a SUT from its spec and the QSL whose samples it will receive."""

_REGISTRY: SpecRegistry[SutFactory] = SpecRegistry(
    "SUT scheme",
    {
        "null": "suts.null",
        "null-threaded": "suts.null",
        "openvino": "suts.openvino_sut",
    },
)


def register_sut(scheme: str) -> Callable[[SutFactory], SutFactory]:
    """Register ``factory`` for ``scheme`` (decorator)."""
    return _REGISTRY.register(scheme)


def known_schemes() -> list[str]:
    """Return every scheme that can be opened."""
    return _REGISTRY.known()


def open_sut(spec: str | SutSpec, qsl: QuerySampleLibrary) -> SystemUnderTest:
    """Build the SUT named by ``spec`` for ``qsl``."""
    parsed = parse_sut_spec(spec) if isinstance(spec, str) else spec
    return _REGISTRY.resolve(parsed)(parsed, qsl)
