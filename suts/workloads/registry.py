"""The workload registry: ``name[:target][?key=value&...]`` -> :class:`Workload`.

Workload specs use the SUT spec grammar (:func:`suts.spec.parse_sut_spec`), e.g. ``digits``,
``imagenet:/data/imagenet?reference=0.76456``, ``resnet50-synthetic?count=256``. Workload modules
register a factory with :func:`register_workload`; they are imported only when asked for, so
listing workloads imports neither scikit-learn nor OpenVINO.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from suts.errors import SutSpecError
from suts.spec import SutSpec, parse_sut_spec
from suts.spec_registry import SpecRegistry
from suts.workloads.base import Workload

WorkloadFactory = Callable[[SutSpec], Workload]

DEFAULT_WORKLOAD = "digits"
_REGISTRY: SpecRegistry[WorkloadFactory] = SpecRegistry(
    "workload",
    {
        "digits": "suts.workloads.digits",
        "imagenet": "suts.workloads.imagenet",
        "resnet50-synthetic": "suts.workloads.synthetic",
    },
)


def register_workload(name: str) -> Callable[[WorkloadFactory], WorkloadFactory]:
    """Register ``factory`` for workload ``name`` (decorator)."""
    return _REGISTRY.register(name)


def known_workloads() -> list[str]:
    """Return every workload name that can be opened."""
    return _REGISTRY.known()


def open_workload(spec: str | SutSpec = DEFAULT_WORKLOAD) -> Workload:
    """Build the workload named by ``spec``.

    Raises:
        SutSpecError: unknown workload or bad options (the message names the spec).
    """
    parsed = parse_sut_spec(spec) if isinstance(spec, str) else spec
    return _REGISTRY.resolve(parsed)(parsed)


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
