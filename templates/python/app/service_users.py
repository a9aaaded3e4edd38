"""The credentials the service uses to act in a tenant: that tenant's service user."""

import threading
from typing import Callable, Dict, List, Optional

from .config import Credentials
from .log import Log

# The platform's Java SDK polls every 10 s; a minute is enough because unknown tenants reload at once.
REFRESH_INTERVAL_SECONDS = 60.0


class SubscribedServiceUsers:
    """MULTI_TENANT: one instance serves every subscribed tenant. The list of service users is read
    at start, every `interval` seconds, and whenever a request comes from a tenant not in it. A
    failed read keeps the last list: the platform being briefly unreachable must not lock tenants out."""

    def __init__(self, load: Callable[[], List[Credentials]], log: Log, interval: float = REFRESH_INTERVAL_SECONDS) -> None:
        self._load = load
        self._log = log
        self._interval = interval
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
        if reload or tenant not in self._users:
            self.reload()
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
