"""Peak resident memory of a process, as the benchmarks report it.

getrusage's ru_maxrss is the wrong figure for a benchmark's child process: Linux keeps resource
usage across execve, so a child started (fork + exec) by a parent that had grown to 2.6 GiB
reports at least 2.6 GiB whatever it did itself. /proc/PID/status's VmHWM is the high-water
mark of the process's own address space, which exec replaces."""

from __future__ import annotations

import resource
from pathlib import Path


def hwm_mib(pid: int | str | None = "self", field: str = "VmHWM") -> float | None:
    """A process's peak RSS in MiB (VmHWM), or VmRSS (now); None where /proc cannot say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_rss_mib() -> float:
    """This process's own peak RSS in MiB (ru_maxrss only where /proc is missing)."""
    own = hwm_mib("self")
    return own if own is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
