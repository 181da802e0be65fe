"""The SUT registry: spec scheme -> factory.

Backends register with :func:`register_sut`; :func:`open_sut` resolves a spec string. Backends
with heavy dependencies (OpenVINO) live in modules imported only when their scheme is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from loadgen.interfaces import QuerySampleLibrary, SystemUnderTest
from suts.spec import SutSpec, parse_sut_spec, with_defaults
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

#: scheme -> pure module (no heavy imports) whose ``SCENARIO_DEFAULTS`` maps a scenario name to
#: the options that scenario implies for that backend
_SCENARIO_DEFAULTS_MODULES = {"openvino": "suts.ov_config"}


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


def spec_for_scenario(spec: str, scenario: str) -> str:
    """Return ``spec`` with the options its backend prefers for ``scenario`` filled in.

    Only options the spec does not set are added, so a user's choice always wins; e.g.
    ``openvino:@CPU`` for SingleStream becomes
    ``openvino:@CPU?hint=latency&api=sync&threads=auto``.
    """
    module = _SCENARIO_DEFAULTS_MODULES.get(parse_sut_spec(spec).scheme)
    if module is None:
        return spec
    table: Mapping[str, Mapping[str, str]] = importlib.import_module(module).SCENARIO_DEFAULTS
    return with_defaults(spec, table.get(scenario, {}))
