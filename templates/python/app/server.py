"""The HTTP service. The platform's gateway forwards `/service/<name>/<path>` here as `/<path>`,
with the caller's Authorization header unchanged."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Tuple, TypeVar, Union
from urllib.parse import urlsplit

from .config import Credentials
from .log import Log
from .platform import Auth, Platform, PlatformError, basic_auth, caller_auth
from .service_users import FixedServiceUser, SubscribedServiceUsers

ServiceUsers = Union[SubscribedServiceUsers, FixedServiceUser]
T = TypeVar("T")


class Service(ThreadingHTTPServer):
    # Each request runs in its own thread, counted, so that a stop waits for the requests in
    # flight but not forever: daemon threads do not keep the process alive past wait_idle().
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: Tuple[str, int], platform: Platform, service_users: ServiceUsers, log: Log) -> None:
        super().__init__(address, Handler)
        self.platform = platform
        self.service_users = service_users
        self.log = log
        self._in_flight = 0
        self._idle = threading.Condition()

    def process_request(self, request: Any, client_address: Any) -> None:
        # Counted here, in the accepting thread, so a request accepted just before a stop is waited for.
        with self._idle:
            self._in_flight += 1
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._finished()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True when no request is in flight, waiting at most `timeout` seconds for that."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)


class Handler(BaseHTTPRequestHandler):
    server: Service
    # A client that stops sending cannot hold a thread (and the shutdown) forever.
    timeout = 30
    _status = 0

    def do_GET(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    do_PUT = do_DELETE = do_PATCH = do_POST

    def _route(self) -> None:
        started = time.monotonic()
        path = urlsplit(self.path).path
        routes = {"/health": self._health, "/hello": self._hello}
        route = routes.get(path)
        try:
            if route is None:
                self._send(404, {"error": f"Nothing at {path}."})
            elif self.command not in ("GET", "HEAD"):
                self._send(405, {"error": f"{path} answers GET only."}, {"Allow": "GET, HEAD"})
            else:
                route()
        except PlatformError as error:
            self.server.log("WARN", str(error))
            self._send(502, {"error": "The platform did not answer as expected; try again."})
        except Exception as error:  # noqa: BLE001 - answer 500 and keep serving
            self.server.log("ERROR", repr(error))
            self._send(500, {"error": "Internal error."})
        # Probes call /health every few seconds; logging each would drown everything else.
        if path != "/health" or self._status != 200:
            self.server.log("INFO", f"{self.command} {path} {self._status} {round((time.monotonic() - started) * 1000)}ms")

    def _health(self) -> None:
        self._send(200, {"status": "UP"})

    def _hello(self) -> None:
        """The example endpoint: checks the caller with the platform, then acts in the caller's tenant as
        that tenant's service user (which holds the manifest's requiredRoles, whatever the caller may do)."""
        platform = self.server.platform
        auth = caller_auth(self.headers)
        if auth is None:
            return self._send(401, {"error": "Sign in: this endpoint needs the caller's platform credentials."})
        try:
            caller = platform.current_user(auth)
            tenant = platform.current_tenant(auth)["name"]
        except PlatformError as error:
            if error.status in (401, 403):
                return self._send(401, {"error": "The platform did not accept these credentials."})
            raise
        acted = _as_service_user(self.server.service_users, tenant, platform.current_tenant)
        if acted is None:
            return self._send(403, {"error": f"Tenant {tenant} is not subscribed to this service."})
        user, seen = acted
        self._send(200, {
            "message": f"Hello {caller['userName']} of tenant {tenant}!",
            "caller": {"tenant": tenant, "user": caller["userName"]},
            "serviceUser": {"tenant": seen["name"], "user": user.user, "domain": seen.get("domainName")},
        })

    def _send(self, status: int, body: Any, headers: Optional[dict] = None) -> None:
        self._status = status
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # Requests are logged by _route, one line each, without headers.
        pass


def _as_service_user(service_users: ServiceUsers, tenant: str, call: Callable[[Auth], T]) -> Optional[Tuple[Credentials, T]]:
    """Runs `call` as the tenant's service user; on 401 (a resubscribed tenant gets a new password) reloads once and retries."""
    user = service_users.for_tenant(tenant)
    if user is None:
        return None
    try:
        return user, call(basic_auth(user))
    except PlatformError as error:
        if error.status != 401:
            raise
    renewed = service_users.for_tenant(tenant, reload=True)
    if renewed is None:
        return None
    return renewed, call(basic_auth(renewed))
