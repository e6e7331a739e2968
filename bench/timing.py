"""Take-turns timing: every engine runs once per round, medians over rounds."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def take_turns(engines: dict[str, Callable[[], object]], rounds: int,
               calls_per_round: int = 1, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each engine, the engines alternating A B A B ..."""
    for _ in range(warmup):
        for run in engines.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(rounds):
        for name, run in engines.items():
            start = time.perf_counter()
            for _ in range(calls_per_round):
                run()
            samples[name].append((time.perf_counter() - start) / calls_per_round)
    return {name: float(np.median(times)) for name, times in samples.items()}
