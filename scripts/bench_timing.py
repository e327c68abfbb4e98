"""The benchmark's measuring tools: progress phases, timers, percentile summaries, peak RSS."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.eval_metrics import percentile

if TYPE_CHECKING:
    from rich.progress import Progress


@contextmanager
def phase(progress: Progress | None, label: str, total: int) -> Iterator[Callable[[], None]]:
    if progress is None:
        yield lambda: None
        return
    task = progress.add_task(label, total=total)
    try:
        yield lambda: progress.advance(task)
    finally:
        progress.update(task, completed=total)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000.0


def summary(prefix: str, samples: Sequence[float]) -> dict[str, float]:
    return {
        f"{prefix}_p50_ms": round(percentile(samples, 50), 3),
        f"{prefix}_p95_ms": round(percentile(samples, 95), 3),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    Linux's `VmHWM` belongs to the process image, while `ru_maxrss` survives `execve`: a
    child started by a 3 GB benchmark would report 3 GB whatever it used itself.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0
