"""One line per event on stdout, which the platform keeps as the service's log. Never log credentials."""

import sys
import threading
from datetime import datetime, timezone
from typing import Callable, TextIO

Log = Callable[[str, str], None]


def create_log(stream: TextIO = sys.stdout) -> Log:
    lock = threading.Lock()

    def log(level: str, message: str) -> None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        with lock:
            stream.write(f"{stamp} {level} {message}\n")
            stream.flush()

    return log
