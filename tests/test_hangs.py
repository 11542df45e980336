"""A hung test names where its threads and tasks were, at the end of a run spread over xdist workers (hangs.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_free

HANGING = '''
import asyncio, threading, time
import pytest

def wait_for_the_lock(lock):
    lock.acquire()

@pytest.fixture
def a_lock_never_released():
    lock = threading.Lock()
    lock.acquire()
    waiter = threading.Thread(target=wait_for_the_lock, args=(lock,), name="waiter", daemon=True)
    waiter.start()
    yield
    waiter.join()

def test_that_hangs_in_its_teardown(a_lock_never_released):
    pass

def test_that_passes():
    pass

@pytest.mark.asyncio
async def test_whose_task_outlives_its_cancellation():
    async def stubborn():
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass
    asyncio.ensure_future(stubborn())
'''


def test_a_hung_test_names_each_threads_and_tasks_innermost_frames_after_the_summary(tmp_path):
    (tmp_path / "test_hanging.py").write_text(HANGING)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.hangs", "-p", "no:cacheprovider", "-n", "2", "-q",
         "-o", "timeout=2", "-o", "timeout_method=signal", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PATH": "/usr/bin:/bin"})
    output = run.stdout
    assert run.returncode == 1 and "2 errors" in output and "3 passed" in output, output
    tail = output[output.rindex("=====") :]  # after the summary line, where a CI log's tail shows it
    assert "HUNG: test_hanging.py::test_that_hangs_in_its_teardown (teardown)" in tail
    waiter = tail[tail.index("--- thread waiter ---"):]
    assert "test_hanging.py:6 wait_for_the_lock" in waiter.split("--- thread MainThread ---")[0]
    assert "test_hanging.py:15 a_lock_never_released" in tail
    # An async test's loop waits for its tasks as it closes: the one that ignores its cancellation is named.
    assert "HUNG: test_hanging.py::test_whose_task_outlives_its_cancellation (teardown)" in tail
    assert "(cancellations asked: 1) ---\n  test_hanging.py:28 stubborn" in tail
