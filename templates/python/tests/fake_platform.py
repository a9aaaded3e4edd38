"""A stand-in for the three platform endpoints the service calls, with the platform's auth rules:
users sign in as `tenant/user:password` (Basic) or with a bearer token; only the bootstrap user
may list the subscriptions."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional

from app.config import Credentials


class FakePlatform:
    def __init__(self) -> None:
        self.bootstrap = Credentials("t100", "servicebootstrap_my-service", "bootstrap-secret")
        # People who call the service.
        self.users = [
            Credentials("t100", "alice", "alice-secret"),
            Credentials("t200", "bob", "bob-secret"),
            Credentials("t300", "carol", "carol-secret"),
        ]
        # One per subscribed tenant, as GET /application/currentApplication/subscriptions lists them.
        self.service_users = [Credentials("t100", "service_my-service", "service-t100")]
        # Bearer tokens (as from the `authorization` cookie) and whom they stand for.
        self.tokens: Dict[str, Credentials] = {}
        # Delay before answering /user/currentUser, to keep a request in flight.
        self.delay = 0.0
        # Every request as "METHOD path as tenant/user" (or "anonymous").
        self.requests: List[str] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                who = platform._authenticate(self.headers.get("Authorization", ""))
                platform.requests.append(f"GET {self.path} as {f'{who.tenant}/{who.user}' if who else 'anonymous'}")
                if who is None:
                    return self._json(401, {"error": "security/Unauthorized", "message": "Invalid credentials!"})
                if self.path == "/user/currentUser":
                    time.sleep(platform.delay)
                    return self._json(200, {"id": who.user, "userName": who.user, "effectiveRoles": []})
                if self.path == "/tenant/currentTenant":
                    return self._json(200, {"name": who.tenant, "domainName": f"{who.tenant}.example.com"})
                if self.path == "/application/currentApplication/subscriptions":
                    if who != platform.bootstrap:
                        return self._json(403, {"error": "security/Forbidden", "message": "Bootstrap user only"})
                    users = [{"tenant": u.tenant, "name": u.user, "password": u.password} for u in platform.service_users]
                    return self._json(200, {"users": users})
                self._json(404, {"error": "general/notFound", "message": f"No {self.path}"})

            def _json(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def _authenticate(self, header: str) -> Optional[Credentials]:
        if header.startswith("Bearer "):
            return self.tokens.get(header[len("Bearer "):])
        if not header.startswith("Basic "):
            return None
        decoded = base64.b64decode(header[len("Basic "):]).decode()
        for c in [self.bootstrap, *self.users, *self.service_users]:
            if decoded == f"{c.tenant}/{c.user}:{c.password}":
                return c
        return None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
