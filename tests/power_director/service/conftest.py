"""Fixtures for the director service tests: an in-process director on 127.0.0.1:0."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from director_helpers import SECRET, DirectorConnection, FakeEngineFactory

from power_director.config import DirectorConfig
from power_director.server import RunningDirector, serve


@pytest.fixture
def engines() -> FakeEngineFactory:
    return FakeEngineFactory()


@pytest.fixture
def make_director(tmp_path: Path) -> Iterator[Callable[..., RunningDirector]]:
    started: list[RunningDirector] = []

    def make(factory: Any, **config: Any) -> RunningDirector:
        cfg = DirectorConfig(listen="127.0.0.1:0", data_dir=tmp_path / "data", **config)
        director = serve(
            cfg,
            factory,
            secret=SECRET,
            meter_names=["wt310e"],
            meters_info=[{"spec": "fake", "name": "wt310e"}],
        )
        started.append(director)
        return director

    yield make
    for director in started:
        director.close()


@pytest.fixture
def director(
    make_director: Callable[..., RunningDirector], engines: FakeEngineFactory
) -> RunningDirector:
    return make_director(engines)


@pytest.fixture
def connect(director: RunningDirector) -> Iterator[Callable[..., DirectorConnection]]:
    conns: list[DirectorConnection] = []

    def make(**kwargs: Any) -> DirectorConnection:
        conn = DirectorConnection(director.address, **kwargs)
        conns.append(conn)
        return conn

    yield make
    for conn in conns:
        conn.close()
