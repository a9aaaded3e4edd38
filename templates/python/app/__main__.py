"""Start and graceful stop: `python3 -m app`."""

import os
import signal
import sys
import threading

from .config import ConfigError, read_config
from .log import create_log
from .platform import Platform
from .server import Service, ServiceUsers
from .service_users import FixedServiceUser, SubscribedServiceUsers

# The platform kills a container 30 s after SIGTERM: finish in time, whatever is still running.
STOP_GRACE_SECONDS = 20


def main() -> int:
    log = create_log()
    try:
        config = read_config(os.environ)
    except ConfigError as error:
        log("ERROR", str(error))
        return 1

    platform = Platform(config.base_url)
    service_users: ServiceUsers
    if config.service_user is not None:
        service_users = FixedServiceUser(config.service_user)
    else:
        bootstrap = config.bootstrap
        service_users = SubscribedServiceUsers(lambda: platform.service_users(bootstrap), log).start()

    try:
        service = Service(("", config.port), platform, service_users, log)
    except OSError as error:
        log("ERROR", f"Cannot listen on port {config.port}: {error.strerror}")
        return 1

    stop = threading.Event()
    received = []

    def on_signal(number: int, _frame: object) -> None:
        received.append(signal.Signals(number).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    threading.Thread(target=service.serve_forever, name="http", daemon=True).start()
    log("INFO", f"{config.application_name or 'Service'} listening on port {config.port} ({config.isolation})")
    stop.wait()

    log("INFO", f"{received[0]}: finishing requests in flight")
    service_users.stop()
    service.shutdown()  # no new requests
    if not service.wait_idle(STOP_GRACE_SECONDS):
        log("WARN", f"Requests still running after {STOP_GRACE_SECONDS}s: stopping anyway")
    service.server_close()
    log("INFO", "Stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
