"""A test that hangs names where every thread and task was, in the report and at the very end of the run's output.

pytest-timeout's signal method (pyproject) fails a test still running after its limit, but prints the threads'
stacks on the process's own terminal: under pytest-xdist that is a worker's, which reaches no one. This plugin
takes over the signal timer: the failure's message itself holds every thread's stack, so it travels with the
report to the controller, and the controller prints each thread's innermost frames once more after the summary,
where the tail of a CI log shows them. The running event loop's tasks come too: an async test's loop closes only
once every task has ended, so a task that outlives its cancellation hangs the test with every thread idle.
"""

import asyncio
import re
import signal
import sys
import threading
import traceback
from pathlib import Path

import pytest

MESSAGE = "Timeout (>{seconds}s) from pytest-timeout."
INNERMOST_FRAMES = 5
FRAME = re.compile(r'File "(.*)", line (\d+), in (.*)')
IDLE = re.compile(r"  (concurrent/futures/thread\.py:\d+ _worker|execnet/)")  # a pool's worker waiting for work
SHORT_PATH = re.compile(r"^.*/(site-packages|python3\.\d+)/|^" + re.escape(str(Path.cwd())) + "/")
_hung: list[tuple[str, str]] = []  # (test id, its report's text), on the controller


def thread_stacks(current_frame) -> str:
    """Every thread's stack; the current thread's from `current_frame` (where the signal found it)."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    frames = sys._current_frames()
    frames[threading.get_ident()] = current_frame
    return "\n".join(f"--- thread {names.get(ident, '?')} ---\n" + "".join(traceback.format_stack(frame))
                     for ident, frame in frames.items())


def task_stacks() -> str:
    """Every unfinished task of the running event loop, each as the chain of coroutines it awaits (innermost
    last): a task that ignores its cancellation holds a loop's close, with every thread idle."""
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:  # no loop running in this thread
        return ""
    return "\n".join(f"--- task {task.get_name()} (cancellations asked: {task.cancelling()}) ---\n"
                     + "".join(_awaiting(task.get_coro())) for task in tasks)


def _awaiting(awaitable) -> list[str]:
    lines = []
    while awaitable is not None:
        frame = next((getattr(awaitable, name) for name in ("cr_frame", "ag_frame", "gi_frame")
                      if getattr(awaitable, name, None) is not None), None)
        if frame is None:  # a future, or a coroutine already finished
            lines.append(f"  (awaiting {type(awaitable).__name__})\n")
            break
        lines.append(f'  File "{frame.f_code.co_filename}", line {frame.f_lineno}, in {frame.f_code.co_name}\n')
        awaitable = next((getattr(awaitable, name) for name in ("cr_await", "ag_await", "gi_yieldfrom")
                          if getattr(awaitable, name, None) is not None), None)
    return lines


def innermost(report_text: str) -> list[str]:
    """Each busy thread's header and its innermost frames (path, line, function), from a timeout's report text;
    idle pool workers and pytest-xdist's own threads left out."""
    lines, header, frames = [], "", []

    def flush():
        if header and frames and not IDLE.match(frames[-1]):
            lines.extend([header, *frames[-INNERMOST_FRAMES:]])
        frames.clear()

    for line in report_text.splitlines():
        line = line.removeprefix("E").strip()  # pytest marks a failure's message with "E"
        if line.startswith(("--- thread ", "--- task ")):
            flush()
            header = line
        elif frame := FRAME.match(line):
            path, number, function = frame.groups()
            frames.append(f"  {SHORT_PATH.sub('', path)}:{number} {function}")
        elif line.startswith("(awaiting "):
            frames.append(f"  {line}")
    flush()
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
        return None  # pytest-timeout's own

    def handler(signum, frame):
        __tracebackhide__ = True
        pytest.fail(MESSAGE.format(seconds=settings.timeout) + "\n" + thread_stacks(frame) + "\n" + task_stacks())

    def cancel():
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel  # what pytest-timeout's pytest_timeout_cancel_timer calls
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, settings.timeout)
    return True


def pytest_runtest_logreport(report):
    if report.failed and "from pytest-timeout." in report.longreprtext:
        _hung.append((f"{report.nodeid} ({report.when})", report.longreprtext))


def pytest_unconfigure(config):
    if _hung and not hasattr(config, "workerinput"):
        out = sys.__stdout__
        for name, text in _hung:
            frames = "\n".join(innermost(text))
            out.write(f"\nHUNG: {name}; the innermost frames of each thread and task:\n{frames}\n")
        out.flush()
