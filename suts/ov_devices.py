"""OpenVINO device strings and the availability check made before anything is compiled.

OpenVINO's virtual devices do not fall back by themselves: ``AUTO:GPU,CPU`` fails hard when the
GPU plugin cannot load, so every concrete device named in a device string must be available.
Pure: :func:`check_device` takes the list of available devices, so the GPU/NPU paths are tested
on machines that have neither.

Accepted forms::

    CPU  GPU  GPU.1  NPU                  a concrete device (``GPU`` matches ``GPU.0``, ``GPU.1``)
    AUTO                                  any available device
    AUTO:GPU,CPU   AUTO:-GPU              candidates (``-X`` excludes X and is not required)
    MULTI:GPU,CPU  HETERO:GPU,CPU         every listed device is required
    BATCH:GPU(4)                          the wrapped device is required
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from suts.errors import DeviceUnavailableError, SutSpecError

VIRTUAL_DEVICES = ("AUTO", "MULTI", "HETERO", "BATCH")
CONCRETE_FAMILIES = ("CPU", "GPU", "NPU")
_CONCRETE = re.compile(r"^(?P<family>[A-Z][A-Z0-9_]*)(?:\.(?P<index>\d+))?$")


@dataclass(frozen=True)
class DeviceRequest:
    """A parsed device string: the virtual wrapper (if any) and the concrete devices it needs."""

    text: str
    virtual: str | None
    required: tuple[str, ...]
    excluded: tuple[str, ...] = ()


def parse_device(text: str) -> DeviceRequest:
    """Split a device string into its virtual wrapper and concrete devices.

    Raises:
        SutSpecError: malformed device string (names the string).
    """
    name = text.strip().upper()
    if not name:
        raise SutSpecError("device is empty (expected e.g. CPU, GPU, AUTO:GPU,CPU)")
    head, colon, rest = name.partition(":")
    if head in VIRTUAL_DEVICES:
        items = [item.strip() for item in rest.split(",")] if colon else []
        if colon and (not rest or any(not item for item in items)):
            raise SutSpecError(f"device {text!r}: empty entry in the device list")
        if head in ("MULTI", "HETERO", "BATCH") and not items:
            raise SutSpecError(f"device {text!r}: {head} needs a device list, e.g. {head}:GPU,CPU")
        required: list[str] = []
        excluded: list[str] = []
        for item in items:
            bare = re.sub(r"\(\d+\)$", "", item)  # BATCH:GPU(4)
            target = excluded if bare.startswith("-") else required
            bare = bare.lstrip("-")
            if not _CONCRETE.match(bare) or bare in VIRTUAL_DEVICES:
                raise SutSpecError(f"device {text!r}: {item!r} is not a device name")
            target.append(bare)
        return DeviceRequest(name, head, tuple(required), tuple(excluded))
    if colon or not _CONCRETE.match(name):
        raise SutSpecError(
            f"device {text!r} is not a device name "
            f"(expected one of {', '.join(CONCRETE_FAMILIES + VIRTUAL_DEVICES)}, e.g. GPU.1)"
        )
    return DeviceRequest(name, None, (name,))


def is_available(device: str, available: Sequence[str]) -> bool:
    """Return whether concrete ``device`` is in ``available`` (``GPU`` matches ``GPU.0``)."""
    if device in available:
        return True
    return "." not in device and any(a.split(".", 1)[0] == device for a in available)


def check_device(text: str, available: Sequence[str]) -> DeviceRequest:
    """Check that every device ``text`` needs is in ``available``; return the parsed request.

    Raises:
        SutSpecError: malformed device string.
        DeviceUnavailableError: a needed device is missing; the message lists ``available``.
    """
    request = parse_device(text)
    shown = sorted(available)
    missing = [d for d in request.required if not is_available(d, available)]
    if missing:
        where = f" (inside {request.text})" if request.virtual else ""
        raise DeviceUnavailableError(
            f"OpenVINO device {', '.join(missing)}{where} is not available; available: {shown}"
        )
    if request.virtual == "AUTO" and not request.required:
        usable = [a for a in available if not any(is_available(x, [a]) for x in request.excluded)]
        if not usable:
            raise DeviceUnavailableError(
                f"OpenVINO device {request.text} has no device left to choose; available: {shown}"
            )
    return request
