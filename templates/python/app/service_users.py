"""The credentials the service uses to act in a tenant: that tenant's service user."""

import threading
import time
from typing import Callable, Dict, List, Optional

from .config import Credentials
from .log import Log

# The platform's Java SDK polls every 10 s; a minute is enough because unknown tenants reload at once.
REFRESH_INTERVAL_SECONDS = 60.0
# A tenant that was not in the list, or whose password was refused, makes the list be read again
# at most this often: callers from a tenant that is not subscribed cannot make every request a
# call to the platform.
TENANT_RECHECK_SECONDS = 5.0


class SubscribedServiceUsers:
    """MULTI_TENANT: one instance serves every subscribed tenant. The list of service users is read
    at start, every `interval` seconds, and when a request comes from a tenant not in it (at most
    every TENANT_RECHECK_SECONDS per tenant). A failed read keeps the last list: the platform being
    briefly unreachable must not lock tenants out."""

    def __init__(
        self,
        load: Callable[[], List[Credentials]],
        log: Log,
        interval: float = REFRESH_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._log = log
        self._interval = interval
        self._clock = clock
        self._rechecked: Dict[str, float] = {}
        self._users: Dict[str, Credentials] = {}
        self._reload_lock = threading.Lock()
        self._reloads = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._refresh, name="service-users", daemon=True)

    def start(self) -> "SubscribedServiceUsers":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def for_tenant(self, tenant: str, reload: bool = False) -> Optional[Credentials]:
        """The service user of `tenant`. An unknown tenant (just subscribed?) or `reload` reads the list again first."""
        def wanted() -> bool:
            return reload or tenant not in self._users

        if not wanted():
            return self._users.get(tenant)
        last = self._rechecked.get(tenant)
        if last is not None and self._clock() - last < TENANT_RECHECK_SECONDS:
            with self._reload_lock:  # a read in progress is still worth waiting for
                pass
        else:
            self.reload()
            # Still unknown, or its password needed a fresh read: not again for a while.
            if wanted():
                self._rechecked[tenant] = self._clock()
            else:
                self._rechecked.pop(tenant, None)
        return self._users.get(tenant)

    def reload(self) -> None:
        seen = self._reloads
        with self._reload_lock:
            # Requests that waited while another thread read the list use that fresh list.
            if self._reloads != seen:
                return
            try:
                users = {user.tenant: user for user in self._load()}
                if sorted(users) != sorted(self._users):
                    self._log("INFO", f"Subscribed tenants: {', '.join(sorted(users)) or 'none'}")
                self._users = users
            except Exception as error:  # noqa: BLE001 - any failure keeps the last list
                self._log("WARN", f"Could not read the service users ({error}); keeping the {len(self._users)} known.")
            finally:
                self._reloads += 1

    def _refresh(self) -> None:
        self.reload()
        while not self._stopped.wait(self._interval):
            self.reload()


class FixedServiceUser:
    """PER_TENANT: the platform runs one instance per tenant and hands it that tenant's service user."""

    def __init__(self, user: Credentials) -> None:
        self._user = user

    def for_tenant(self, tenant: str, reload: bool = False) -> Optional[Credentials]:
        return self._user if tenant == self._user.tenant else None

    def stop(self) -> None:
        pass
