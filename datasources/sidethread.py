import threading


class SideThread:
    """Calls `tick()` every `interval` seconds on a daemon thread for as long as a `with` block lasts."""

    def __init__(self, *, interval: float, name: str):
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name=name)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()

    def _loop(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                self.tick()
        finally:
            self.finish()

    def tick(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Runs on the side thread after its last tick (to close what the thread opened)."""
