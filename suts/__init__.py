"""Systems under test for wattbench's LoadGen.

Modules:
    spec       parse ``scheme:target?options`` SUT spec strings
    registry   ``open_sut(spec, qsl)``, ``spec_for_scenario`` and the ``@register_sut`` decorator
    spec_registry  the scheme -> factory registry both SUTs and workloads use
    null       NullSut (inline), ThreadedNullSut (worker threads), SyntheticQsl
    errors     SutError tree

OpenVINO-backed SUTs are imported only when an ``openvino:`` spec is opened.
"""

from __future__ import annotations

from suts.errors import DatasetError, DeviceUnavailableError, ModelError, SutSpecError
from suts.registry import known_schemes, open_sut, register_sut, spec_for_scenario
from suts.spec import SutSpec, parse_sut_spec

__all__ = [
    "DatasetError",
    "DeviceUnavailableError",
    "ModelError",
    "SutSpec",
    "SutSpecError",
    "known_schemes",
    "open_sut",
    "parse_sut_spec",
    "register_sut",
    "spec_for_scenario",
]
