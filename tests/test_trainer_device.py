from unittest import mock

import pytest
import torch

from core.errors import SonoClickError
from core.runtime import device as dev


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    with mock.patch("torch.cuda.is_available", return_value=True):
        assert dev.select_device("auto") == torch.device("cuda", 0)
        monkeypatch.setenv("LOCAL_RANK", "1")
        assert dev.select_device("auto") == torch.device("cuda", 1)  # one GPU per torchrun rank
    with mock.patch("torch.cuda.is_available", return_value=False), \
            mock.patch("core.runtime.device._mps_available", return_value=True):
        assert dev.select_device("auto").type == "mps"
    with mock.patch("torch.cuda.is_available", return_value=False), \
            mock.patch("core.runtime.device._mps_available", return_value=False):
        assert dev.select_device("auto").type == "cpu"


def test_explicit_device_absent_is_a_clear_error() -> None:
    with mock.patch("torch.cuda.is_available", return_value=False):
        with pytest.raises(SonoClickError, match="no CUDA GPU"):
            dev.select_device("cuda")
    with pytest.raises(SonoClickError, match="unknown device"):
        dev.select_device("tpu")
    assert dev.select_device("cpu").type == "cpu"


def test_mixed_precision_only_on_cuda() -> None:
    cpu = torch.device("cpu")
    assert not dev.needs_grad_scaler(cpu)
    with dev.autocast(cpu):
        assert not torch.is_autocast_enabled("cpu")
    cuda = torch.device("cuda", 0)
    with mock.patch("torch.cuda.is_bf16_supported", return_value=False):
        assert dev.amp_dtype(cuda) == torch.float16 and dev.needs_grad_scaler(cuda)
        assert not dev.needs_grad_scaler(cuda, enabled=False)
    with mock.patch("torch.cuda.is_bf16_supported", return_value=True):
        assert dev.amp_dtype(cuda) == torch.bfloat16 and not dev.needs_grad_scaler(cuda)


def test_thread_count_is_configurable() -> None:
    before = torch.get_num_threads()
    try:
        assert dev.set_cpu_threads(1) == 1
        assert dev.set_cpu_threads(None) == 1
    finally:
        torch.set_num_threads(before)
