"""What a training run runs on: the hardware line of a model card, and whether bf16 pays.

bf16 autocast halves the cost of a step only where the hardware computes in bf16: a GPU that
supports it, or a CPU with AVX-512 BF16 or AMX. Elsewhere PyTorch emulates it, and a step got
slower, not faster: the base fine-tune (batch 4 of 8 x 128^2) took 31 s a step with bf16 and
1.3 s in fp32 on a 2-core AMD EPYC with AVX2 only, where an AVX-512 BF16 machine had taken 0.8 s.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import torch

#: /proc/cpuinfo flags of CPUs that compute in bf16
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def describe(device: str) -> str:
    """The hardware line of a model card."""
    if device == "cuda":
        return torch.cuda.get_device_name()
    return f"{platform.machine()} CPU, {os.cpu_count()} cores"


def cpu_flags() -> set[str]:
    """This CPU's feature flags (Linux; empty where /proc/cpuinfo is absent)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def use_bf16(wanted: bool, device: str) -> bool:
    """bf16 autocast where it was asked for and the hardware computes in it; says so on
    stderr when it falls back to fp32."""
    if not wanted:
        return False
    if device == "cuda":
        fast = torch.cuda.is_bf16_supported()
    else:
        fast = bool(cpu_flags() & BF16_CPU_FLAGS)
    if not fast:
        print(f"note: no bf16 arithmetic on this {device}: training in fp32", file=sys.stderr)
    return fast
