"""Meter registry: names to drivers, and :func:`open_meter` resolving spec strings.

A meter spec is ``<model>[@<rest>]``. For instrument drivers ``rest`` is a transport spec
(see :mod:`power_director.transport`)::

    wt310e@serial:/dev/ttyUSB0?baud=9600
    wt310e@visa:USB0::0x0B21::0x0025::C2XX00000V::INSTR
    wt310e@tcp:meter-host:10001
    hmc8015@tcp:meter-host:5025

Software sources (``sim``, ``rapl``, ``nvml``, ``amdsmi``) register an opener that receives
``rest`` verbatim (possibly empty). Driver modules register themselves when imported; the
registry imports them lazily from :data:`LAZY_MODULES`, so importing the registry pulls in no
driver, pyserial or pyvisa.

Errors: :class:`~power_director.errors.MeterSpecError` (malformed spec, unknown model, module
that fails to import), :class:`~power_director.errors.TransportError` (port cannot be opened),
:class:`~power_director.errors.MeterUnavailableError` (nothing answers on the port).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from power_director.errors import MeterSpecError, MeterUnavailableError, TransportTimeoutError
from power_director.meters.base import PowerMeter
from power_director.transport import open_transport

log = logging.getLogger(__name__)

C = TypeVar("C", bound=type[Any])

#: Where each name is registered; imported on first use.
LAZY_MODULES: dict[str, str] = {
    **dict.fromkeys(
        ("wt310", "wt310e", "wt310eh", "wt332", "wt332e", "wt333", "wt333e"),
        "power_director.meters.yokogawa_wt300",
    ),
    **dict.fromkeys(("wt210", "wt230"), "power_director.meters.yokogawa_wt210"),
    **dict.fromkeys(("wt500", "wt1800", "wt5000"), "power_director.meters.yokogawa_wt5000"),
    **dict.fromkeys(("pw3335", "pw3336", "pw3337"), "power_director.meters.hioki_pw3335"),
    "hmc8015": "power_director.meters.rs_hmc8015",
    **dict.fromkeys(("chroma66202", "chroma66205"), "power_director.meters.chroma_662xx"),
    "lmg": "power_director.meters.zes_lmg",
    "sim": "power_director.sim.meter",
    "rapl": "power_director.meters.rapl",
    "nvml": "power_director.meters.nvml",
    "amdsmi": "power_director.meters.amd_smi",
}


@dataclass(frozen=True)
class MeterInfo:
    """What the registry knows about one meter name.

    Attributes:
        name: registry key (lower case), e.g. ``"wt310e"``.
        description: one line for listings.
        interfaces: transport schemes it works over, or ``("software",)``.
        tested: how it is tested (protocol tests, simulator, hardware).
        commands: command headers it uses (from the driver's declarations).
        opener: opens the meter from the text after ``@``.
        driver: the driver class, for instrument meters (None for software sources).
        transport_defaults: transport options used where the spec gives none.
    """

    name: str
    description: str
    interfaces: tuple[str, ...]
    tested: str
    opener: Callable[[str], PowerMeter]
    commands: tuple[str, ...] = ()
    driver: type[Any] | None = None
    transport_defaults: Mapping[str, str] = field(default_factory=dict)


_REGISTRY: dict[str, MeterInfo] = {}


def register_source(
    name: str,
    opener: Callable[[str], PowerMeter],
    *,
    description: str,
    tested: str = "",
) -> None:
    """Register a software source (or any meter not opened over a transport)."""
    _REGISTRY[name.lower()] = MeterInfo(
        name.lower(), description, ("software",), tested, opener, driver=None
    )


def register_meter(
    *names: str,
    interfaces: tuple[str, ...] = ("serial", "visa", "tcp"),
    tested: str = "protocol tests",
    transport_defaults: Mapping[str, str] | None = None,
) -> Callable[[C], C]:
    """Return a class decorator registering an instrument driver under ``names``.

    The class is built as ``cls(transport, model=name)``; its ``describe(name)`` classmethod
    (if any) gives the listing text and its ``commands()`` the command headers used.
    """

    def decorate(cls: C) -> C:
        headers: list[str] = []
        for command in cls.commands() if hasattr(cls, "commands") else []:
            headers.extend(h for h in command.mnemonics if h not in headers)
        for raw_name in names:
            name = raw_name.lower()
            description = cls.describe(name) if hasattr(cls, "describe") else cls.__name__
            defaults = dict(transport_defaults or {})

            def opener(
                rest: str, _cls: C = cls, _name: str = name, _defaults: dict[str, str] = defaults
            ) -> PowerMeter:
                return _open_driver(_cls, _name, rest, _defaults)

            _REGISTRY[name] = MeterInfo(
                name, description, interfaces, tested, opener, tuple(headers), cls, defaults
            )
        return cls

    return decorate


def _open_driver(cls: type[Any], name: str, rest: str, defaults: Mapping[str, str]) -> PowerMeter:
    if not rest:
        raise MeterSpecError(
            f"meter {name!r} needs a transport, e.g. {name}@serial:/dev/ttyUSB0 or "
            f"{name}@visa:USB0::...::INSTR or {name}@tcp:HOST:PORT"
        )
    transport = open_transport(rest, defaults=defaults)
    meter: PowerMeter = cls(transport, model=name)
    try:
        meter.open()
    except TransportTimeoutError as exc:
        transport.close()
        raise MeterUnavailableError(f"no {name} answering on {exc.resource}: {exc.reason}") from exc
    except BaseException:
        transport.close()
        raise
    return meter


def parse_meter_spec(spec: str) -> tuple[str, str]:
    """Split ``spec`` into ``(model, rest)``; the model is lower-cased.

    ``MODEL@REST`` is the general form; ``MODEL:REST`` (no ``@``) is accepted for software
    sources, e.g. ``sim:wt210``, and so is ``MODEL?OPTIONS`` (``rest`` keeps the ``?``), e.g.
    ``sim?load=cpu``.

    Raises:
        MeterSpecError: the spec has no model name.
    """
    text = spec.strip()
    if "@" in text:
        model, _, rest = text.partition("@")
    else:
        # "sim:wt210" is accepted as "sim@wt210" (no transport scheme can follow a bare model),
        # "sim?load=cpu" as "sim@?load=cpu".
        end = min((i for i in (text.find(":"), text.find("?")) if i >= 0), default=len(text))
        model = text[:end]
        rest = text[end + 1 :] if text[end : end + 1] == ":" else text[end:]
    if not model:
        raise MeterSpecError(f"meter spec {spec!r} has no model name (expected MODEL@TRANSPORT)")
    return model.lower(), rest


def meter_info(name: str) -> MeterInfo:
    """Return the registry entry for ``name``, importing its module if needed.

    Raises:
        MeterSpecError: unknown name, or its module failed to import.
    """
    key = name.lower()
    if key not in _REGISTRY and key in LAZY_MODULES:
        module = LAZY_MODULES[key]
        try:
            importlib.import_module(module)
        except Exception as exc:  # any import failure means "not available"
            raise MeterSpecError(
                f"meter {name!r} is provided by {module}, which failed to import: {exc}"
            ) from exc
    try:
        return _REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(set(LAZY_MODULES) | set(_REGISTRY)))
        raise MeterSpecError(f"unknown meter {name!r}; known: {known}") from None


def open_meter(spec: str) -> PowerMeter:
    """Open, identify and prepare the meter named by ``spec``.

    Raises:
        MeterSpecError: the spec is malformed or names an unknown model.
        TransportError: the port cannot be opened (the message names it).
        MeterUnavailableError: nothing answers on the port.
        MeterError: the meter answers but is another model.
    """
    model, rest = parse_meter_spec(spec)
    info = meter_info(model)
    log.info("opening meter %s", spec)
    return info.opener(rest)


def list_meters() -> list[MeterInfo]:
    """Return every meter that can be registered, importing driver modules as needed.

    Modules that fail to import (not written yet, or missing an optional library) are skipped.
    """
    for module in sorted(set(LAZY_MODULES.values())):
        try:
            importlib.import_module(module)
        except Exception as exc:  # listing must not fail because one module is absent
            log.debug("meter module %s unavailable: %s", module, exc)
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]
