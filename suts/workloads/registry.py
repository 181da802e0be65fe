"""The workload registry: ``name[:target][?key=value&...]`` -> :class:`Workload`.

Workload specs use the SUT spec grammar (:func:`suts.spec.parse_sut_spec`), e.g. ``digits``,
``imagenet:/data/imagenet?reference=0.76456``, ``resnet50-synthetic?count=256``. Workload modules
register a factory with :func:`register_workload`; they are imported only when asked for, so
listing workloads imports neither scikit-learn nor OpenVINO.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from suts.errors import SutSpecError
from suts.spec import SutSpec, parse_sut_spec
from suts.workloads.base import Workload

WorkloadFactory = Callable[[SutSpec], Workload]

DEFAULT_WORKLOAD = "digits"
_FACTORIES: dict[str, WorkloadFactory] = {}
_LAZY_MODULES: dict[str, str] = {
    "digits": "suts.workloads.digits",
    "imagenet": "suts.workloads.imagenet",
    "resnet50-synthetic": "suts.workloads.synthetic",
}


def register_workload(name: str) -> Callable[[WorkloadFactory], WorkloadFactory]:
    """Register ``factory`` for workload ``name`` (decorator)."""

    def deco(factory: WorkloadFactory) -> WorkloadFactory:
        _FACTORIES[name] = factory
        return factory

    return deco


def known_workloads() -> list[str]:
    """Return every workload name that can be opened."""
    return sorted(set(_FACTORIES) | set(_LAZY_MODULES))


def open_workload(spec: str | SutSpec = DEFAULT_WORKLOAD) -> Workload:
    """Build the workload named by ``spec``.

    Raises:
        SutSpecError: unknown workload or bad options (the message names the spec).
    """
    parsed = parse_sut_spec(spec) if isinstance(spec, str) else spec
    if parsed.scheme not in _FACTORIES and parsed.scheme in _LAZY_MODULES:
        importlib.import_module(_LAZY_MODULES[parsed.scheme])
    factory = _FACTORIES.get(parsed.scheme)
    if factory is None:
        raise SutSpecError(
            f"unknown workload {parsed.scheme!r} in {parsed.text!r}; "
            f"known: {', '.join(known_workloads())}"
        )
    return factory(parsed)


def check_options(spec: SutSpec, known: Iterable[str], allow_target: bool = False) -> None:
    """Raise :class:`SutSpecError` for options outside ``known`` or an unexpected target."""
    known = sorted(known)
    unknown = sorted(set(spec.options) - set(known))
    if unknown:
        raise SutSpecError(
            f"workload {spec.text!r}: unknown option(s) {', '.join(unknown)}; "
            f"known: {', '.join(known) or '(none)'}"
        )
    if spec.target and not allow_target:
        raise SutSpecError(f"workload {spec.text!r} takes no ':target'")
