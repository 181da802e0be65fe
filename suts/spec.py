"""Parse SUT spec strings: ``scheme[:target][?key=value&...]``.

Examples: ``null``, ``null-threaded?workers=2``, ``openvino:models/m.xml@CPU?hint=throughput``.
The target is everything between the first ``:`` and ``?``; its meaning belongs to the scheme.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from suts.errors import SutSpecError


@dataclass(frozen=True)
class SutSpec:
    """A parsed SUT spec string."""

    scheme: str
    target: str = ""
    options: dict[str, str] = field(default_factory=dict)
    text: str = ""

    def option_int(self, key: str, default: int) -> int:
        """Return option ``key`` as an int, or ``default``; a bad value names the field."""
        raw = self.options.get(key)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise SutSpecError(
                f"SUT spec {self.text!r}: option {key}={raw!r} is not an integer"
            ) from None


def parse_sut_spec(text: str) -> SutSpec:
    """Split ``text`` into scheme, target and options."""
    if not text or text.strip() != text:
        raise SutSpecError(f"SUT spec {text!r} is empty or has surrounding spaces")
    head, _, query = text.partition("?")
    scheme, _, target = head.partition(":")
    if not scheme:
        raise SutSpecError(
            f"SUT spec {text!r} has no scheme (expected e.g. 'null' or 'openvino:...')"
        )
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise SutSpecError(
            f"SUT spec {text!r}: malformed options {query!r} (use key=value&key=value)"
        ) from None
    return SutSpec(scheme=scheme, target=target, options=dict(pairs), text=text)


def with_defaults(text: str, defaults: Mapping[str, str]) -> str:
    """Return spec ``text`` with each ``defaults`` option appended unless ``text`` sets it.

    ``with_defaults("openvino:@CPU?nireq=2", {"api": "sync"})`` is
    ``"openvino:@CPU?nireq=2&api=sync"``. Options the spec gives always win.
    """
    head, _, query = text.partition("?")
    pairs = [pair for pair in query.split("&") if pair]
    given = {pair.partition("=")[0] for pair in pairs}
    pairs += [f"{key}={value}" for key, value in defaults.items() if key not in given]
    return f"{head}?{'&'.join(pairs)}" if pairs else head
