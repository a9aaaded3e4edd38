import json
import socket
import threading
import time
import unittest
import urllib.error
import urllib.request
from typing import Dict, Optional, Tuple

from app.config import Credentials
from app.platform import Platform, basic_auth
from app.server import Service
from app.service_users import FixedServiceUser, SubscribedServiceUsers

from .fake_platform import FakePlatform


def quiet(level: str, message: str) -> None:
    pass


def start(service: Service) -> str:
    # A short poll interval makes shutdown() return at once.
    threading.Thread(target=service.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return f"http://127.0.0.1:{service.server_address[1]}"


def stop(service: Service) -> None:
    service.shutdown()
    service.server_close()


def call(url: str, headers: Optional[Dict[str, str]] = None, method: str = "GET") -> Tuple[int, Dict[str, str], dict]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.load(error)


class MultiTenantTest(unittest.TestCase):
    def setUp(self) -> None:
        self.platform = FakePlatform()
        self.addCleanup(self.platform.close)
        client = Platform(self.platform.url)
        self.users = SubscribedServiceUsers(lambda: client.service_users(self.platform.bootstrap), quiet)
        self.users.reload()
        self.service = Service(("127.0.0.1", 0), client, self.users, quiet)
        self.url = start(self.service)
        self.addCleanup(stop, self.service)
        self.alice, self.bob, self.carol = self.platform.users
        self.platform.requests.clear()

    def test_health_answers_up_as_json_without_asking_the_platform(self) -> None:
        status, headers, body = call(f"{self.url}/health")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(body, {"status": "UP"})
        self.assertEqual(self.platform.requests, [])

    def test_hello_checks_the_caller_and_acts_as_the_service_user_of_its_tenant(self) -> None:
        status, _, body = call(f"{self.url}/hello", basic_auth(self.alice))
        self.assertEqual(status, 200)
        self.assertEqual(body, {
            "message": "Hello alice of tenant t100!",
            "caller": {"tenant": "t100", "user": "alice"},
            "serviceUser": {"tenant": "t100", "user": "service_my-service", "domain": "t100.example.com"},
        })
        self.assertIn("GET /user/currentUser as t100/alice", self.platform.requests)
        self.assertIn("GET /tenant/currentTenant as t100/service_my-service", self.platform.requests)

    def test_hello_without_credentials_is_401_and_never_reaches_the_platform(self) -> None:
        status, _, _ = call(f"{self.url}/hello")
        self.assertEqual(status, 401)
        self.assertEqual(self.platform.requests, [])

    def test_hello_with_a_wrong_password_is_401(self) -> None:
        status, _, body = call(f"{self.url}/hello", basic_auth(Credentials("t100", "alice", "wrong")))
        self.assertEqual(status, 401)
        self.assertEqual(body, {"error": "The platform did not accept these credentials."})

    def test_the_browser_cookie_is_forwarded_as_a_bearer_token(self) -> None:
        self.platform.tokens["jwt-of-alice"] = self.alice
        status, _, body = call(f"{self.url}/hello", {"Cookie": "XSRF-TOKEN=abc; authorization=jwt-of-alice"})
        self.assertEqual(status, 200)
        self.assertEqual(body["caller"]["user"], "alice")

    def test_a_tenant_subscribed_after_start_is_served_at_once(self) -> None:
        self.platform.service_users.append(Credentials("t200", "service_my-service", "service-t200"))
        status, _, body = call(f"{self.url}/hello", basic_auth(self.bob))
        self.assertEqual(status, 200)
        self.assertEqual(body["serviceUser"], {"tenant": "t200", "user": "service_my-service", "domain": "t200.example.com"})
        self.assertIn("GET /application/currentApplication/subscriptions as t100/servicebootstrap_my-service", self.platform.requests)

    def test_a_tenant_that_is_not_subscribed_gets_403(self) -> None:
        status, _, body = call(f"{self.url}/hello", basic_auth(self.carol))
        self.assertEqual(status, 403)
        self.assertEqual(body, {"error": "Tenant t300 is not subscribed to this service."})

    def test_a_renewed_service_user_password_is_read_again_and_the_call_retried(self) -> None:
        self.platform.service_users[0] = Credentials("t100", "service_my-service", "service-t100-renewed")
        status, _, _ = call(f"{self.url}/hello", basic_auth(self.alice))
        self.assertEqual(status, 200)
        self.assertIn("GET /tenant/currentTenant as anonymous", self.platform.requests, "the old password was tried first")

    def test_unknown_paths_are_404_and_other_methods_405(self) -> None:
        status, _, body = call(f"{self.url}/nothing")
        self.assertEqual((status, body), (404, {"error": "Nothing at /nothing."}))
        status, headers, _ = call(f"{self.url}/health", method="POST")
        self.assertEqual((status, headers["Allow"]), (405, "GET, HEAD"))


class PerTenantTest(unittest.TestCase):
    def test_acts_with_the_one_service_user_it_was_given_and_refuses_other_tenants(self) -> None:
        platform = FakePlatform()
        self.addCleanup(platform.close)
        service = Service(("127.0.0.1", 0), Platform(platform.url), FixedServiceUser(platform.service_users[0]), quiet)
        url = start(service)
        self.addCleanup(stop, service)
        self.assertEqual(call(f"{url}/hello", basic_auth(platform.users[0]))[0], 200)
        self.assertEqual(call(f"{url}/hello", basic_auth(platform.users[1]))[0], 403)
        self.assertFalse(any("/subscriptions" in r for r in platform.requests), "PER_TENANT never lists subscriptions")


class UnreachablePlatformTest(unittest.TestCase):
    def test_a_platform_that_cannot_be_reached_gives_502_not_a_crash(self) -> None:
        platform = FakePlatform()
        platform.close()
        service = Service(("127.0.0.1", 0), Platform(platform.url), FixedServiceUser(platform.service_users[0]), quiet)
        url = start(service)
        self.addCleanup(stop, service)
        status, _, body = call(f"{url}/hello", basic_auth(platform.users[0]))
        self.assertEqual((status, body), (502, {"error": "The platform did not answer as expected; try again."}))


class StopTest(unittest.TestCase):
    def test_a_stop_waits_for_requests_in_flight_but_not_for_a_client_that_stopped_sending(self) -> None:
        platform = FakePlatform()
        self.addCleanup(platform.close)
        service = Service(("127.0.0.1", 0), Platform(platform.url), FixedServiceUser(platform.service_users[0]), quiet)
        start(service)
        self.addCleanup(service.server_close)
        stuck = socket.create_connection(service.server_address)
        self.addCleanup(stuck.close)
        stuck.sendall(b"GET /health HTTP/1.1\r\nHost: service\r\n")  # never the blank line that ends it
        deadline = time.monotonic() + 5
        while service.wait_idle(0) and time.monotonic() < deadline:
            time.sleep(0.01)

        service.shutdown()
        started = time.monotonic()
        self.assertFalse(service.wait_idle(0.3), "the half-sent request is still in flight")
        self.assertLess(time.monotonic() - started, 2)
        stuck.close()
        self.assertTrue(service.wait_idle(5), "the request ends when its client goes")


if __name__ == "__main__":
    unittest.main()
