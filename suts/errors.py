"""Exceptions raised by :mod:`suts`.

Tree::

    SutError (loadgen.errors.SutError)
    ├── SutSpecError         a SUT spec string is malformed or names an unknown backend
    ├── DeviceUnavailableError  the requested device is not among those available
    ├── ModelError           a model file is missing, corrupt or has the wrong inputs
    └── DatasetError         dataset files are missing or corrupt
"""

from __future__ import annotations

from loadgen.errors import SutError


class SutSpecError(SutError):
    """A SUT spec string is malformed or names an unknown backend."""


class DeviceUnavailableError(SutError):
    """The requested inference device is not available on this machine."""


class ModelError(SutError):
    """A model file is missing, corrupt, or does not fit the data."""


class DatasetError(SutError):
    """Dataset files are missing or corrupt."""
