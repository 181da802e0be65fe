"""threads=auto: the chooser with fake compiled models (known latencies), then through OpenVINO."""

import time

import numpy as np
import pytest

pytest.importorskip("openvino")

from suts import open_sut, spec_for_scenario
from suts.null import SyntheticQsl
from suts.ov_models import build_tiny_cnn, save_model_atomic
from suts.ov_threads import AUTO_MAX_LATENCY_S, ThreadChoice, choose_threads

pytestmark = pytest.mark.openvino


class FakeCompiled:
    """A compiled model whose inference busy-waits ``latency_s`` (the device default: 4)."""

    def __init__(self, threads: int | None, latency_s: float) -> None:
        self.threads = 4 if threads is None else threads
        self.latency_s = latency_s
        self.inferences = 0

    def get_property(self, key: str) -> int:
        assert key == "INFERENCE_NUM_THREADS"
        return self.threads

    def create_infer_request(self) -> "FakeCompiled":
        return self

    def set_input_tensor(self, tensor: object) -> None:
        assert list(tensor.shape) == [1, 3]  # type: ignore[attr-defined]

    def infer(self) -> None:
        self.inferences += 1
        end = time.perf_counter() + self.latency_s
        while time.perf_counter() < end:
            pass


def compiler(latency_by_threads: dict[int, float]):
    compiled: list[FakeCompiled] = []

    def compile_model(threads: int | None) -> FakeCompiled:
        model = FakeCompiled(threads, latency_by_threads[4 if threads is None else threads])
        compiled.append(model)
        return model

    return compile_model, compiled


QUERY = np.zeros((1, 3), np.float32)


def test_picks_the_clearly_fastest_candidate():
    compile_model, compiled = compiler({4: 400e-6, 2: 200e-6, 1: 20e-6})
    chosen, choice = choose_threads(compile_model, QUERY)
    assert [c.threads for c in compiled] == [4, 1, 2]  # default first, then 1, 2, 4, ... below it
    assert chosen is compiled[1]
    assert choice.threads == 1 and choice.default_threads == 4
    assert set(choice.median_latency_s) == {1, 2, 4}
    assert choice.median_latency_s[1] < 100e-6 < 350e-6 < choice.median_latency_s[4]
    assert all(c.inferences > 10 for c in compiled)  # every candidate was timed after warm-up


def test_slow_model_keeps_the_default_without_compiling_again():
    compile_model, compiled = compiler({4: 2 * AUTO_MAX_LATENCY_S})
    chosen, choice = choose_threads(compile_model, QUERY)
    assert compiled == [chosen] and choice.threads == 4
    assert list(choice.median_latency_s) == [4]
    assert "device default 4)" in choice.describe()


def test_a_tie_keeps_the_default():
    compile_model, compiled = compiler({4: 50e-6, 2: 50e-6, 1: 50e-6})
    chosen, choice = choose_threads(compile_model, QUERY)
    assert chosen is compiled[0] and choice.threads == 4


def test_describe_names_every_candidate():
    choice = ThreadChoice(1, 2, {1: 22.1e-6, 2: 33.04e-6})
    assert choice.describe() == "1 thread(s): median 22.1 us (device default 2; tried 2: 33.0 us)"


def test_singlestream_default_through_openvino(tmp_path, monkeypatch):
    """Through OpenVINO: a fast model gets every candidate timed, a slow one only the default.

    "Fast" and "slow" are set by the threshold, not by this machine's speed.
    """
    from suts import ov_threads

    tiny = save_model_atomic(build_tiny_cnn(), tmp_path / "tiny" / "model.xml")
    spec = spec_for_scenario(f"openvino:{tiny}@CPU", "SingleStream")
    monkeypatch.setattr(ov_threads, "AUTO_MAX_LATENCY_S", float("inf"))
    sut = open_sut(spec, SyntheticQsl(8))
    info = sut.describe()
    assert sut.thread_choice is not None
    assert info["INFERENCE_NUM_THREADS"] == str(sut.thread_choice.threads)
    assert info["threads_auto"] == sut.thread_choice.describe()
    default = sut.thread_choice.default_threads
    candidates = {1 << k for k in range(default.bit_length()) if 1 << k < default}
    assert set(sut.thread_choice.median_latency_s) == candidates | {default}

    monkeypatch.setattr(ov_threads, "AUTO_MAX_LATENCY_S", 0.0)
    sut = open_sut(spec, SyntheticQsl(8))
    assert sut.thread_choice is not None
    assert sut.thread_choice.threads == default
    assert list(sut.thread_choice.median_latency_s) == [default]


def test_threads_auto_is_ignored_off_cpu():
    tiny_spec = "openvino:digits@AUTO?threads=auto&precision=f32"
    from suts.workloads import open_workload

    sut = open_sut(tiny_spec, open_workload("digits").qsl())
    assert sut.thread_choice is None
