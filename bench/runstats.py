"""What a run reports: one ingestion run's figures (written as JSON by the process that ran it), and
the median time of a call."""

import contextlib
import json
import os
import resource
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from datasources.sidethread import SideThread


@dataclass
class RunStats:
    pages: int = 0
    chunks: int = 0
    total_seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0  # this process
    peak_child_rss_mb: float = 0.0  # its largest child (the extraction sandbox), 0 when it has none
    cpu_seconds: float = 0.0  # user + system, this process and its children: what other load cannot inflate
    failed: list[str] = field(default_factory=list)  # "file name: why", for each file the pipeline refused

    @contextlib.contextmanager
    def timed(self, stage: str):
        started = time.monotonic()
        yield
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + time.monotonic() - started

    def record_usage(self) -> None:
        """Peak memory and CPU time of this process and its children so far; call it last."""
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        self.peak_rss_mb = own.ru_maxrss / 1024  # Linux reports KiB
        self.cpu_seconds = sum(usage.ru_utime + usage.ru_stime for usage in (own, children))

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.total_seconds

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.total_seconds

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> "RunStats":
        return cls(**json.loads(path.read_text()))


class ChildPeakMemory(SideThread):
    """The largest peak resident set of this process's children, sampled from /proc while they run.

    getrusage(RUSAGE_CHILDREN).ru_maxrss cannot tell it: when a child execs, Linux carries the
    resident set of the memory it had before (the parent's, after posix_spawn or fork) over into
    the child's ru_maxrss, so next to a worker holding the embedding model every extraction child
    looks as large as the worker. A child's own VmHWM after exec is its true peak.
    """

    def __init__(self, command_marker: str, interval: float = 0.01):
        super().__init__(interval=interval, name="child-memory")
        self.command_marker = command_marker.encode()  # names the children to watch, once they have exec'd
        self.peak_kib = 0

    @property
    def peak_mb(self) -> float:
        return self.peak_kib / 1024

    def tick(self) -> None:
        for pid in _child_pids():
            self.peak_kib = max(self.peak_kib, self._peak_after_exec(pid))

    def _peak_after_exec(self, pid: str) -> int:
        # The command line first: once it is the child's own, the memory read next is the child's too.
        try:
            if self.command_marker not in Path(f"/proc/{pid}/cmdline").read_bytes():
                return 0
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0  # it ended meanwhile
        return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def _child_pids() -> list[str]:
    pids = []
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            pids += Path(f"/proc/self/task/{task}/children").read_text().split()
    return pids


def median_ms(run: Callable, items: Iterable) -> float:
    """The median time of `run(item)` over the items, in milliseconds."""
    times = []
    for item in items:
        started = time.perf_counter()
        run(item)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000
