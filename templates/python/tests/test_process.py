import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.request
from pathlib import Path
from typing import Callable, Dict, List

from app.platform import basic_auth

from .fake_platform import FakePlatform

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningService:
    """`python3 -m app` as the container runs it, its output collected line by line."""

    def __init__(self, env: Dict[str, str]) -> None:
        self.lines: List[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=PROJECT,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1", **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 10
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not condition():
            raise AssertionError(f"timed out waiting for {what}:\n{self.output()}")


class ProcessTest(unittest.TestCase):
    def setUp(self) -> None:
        self.platform = FakePlatform()
        self.addCleanup(self.platform.close)

    def test_starts_on_server_port_and_on_sigterm_answers_the_request_in_flight_then_exits_0(self) -> None:
        port = free_port()
        service = RunningService({
            "SERVER_PORT": str(port),
            "APPLICATION_NAME": "my-service",
            "C8Y_BASEURL": self.platform.url,
            "C8Y_MICROSERVICE_ISOLATION": "MULTI_TENANT",
            "C8Y_BOOTSTRAP_TENANT": self.platform.bootstrap.tenant,
            "C8Y_BOOTSTRAP_USER": self.platform.bootstrap.user,
            "C8Y_BOOTSTRAP_PASSWORD": self.platform.bootstrap.password,
        })
        self.addCleanup(service.process.kill)
        service.wait_for(lambda: "Subscribed tenants: t100" in service.output(), "the service users")
        service.wait_for(lambda: f"listening on port {port}" in service.output(), "the listening line")

        self.platform.delay = 0.5
        answers: List[int] = []
        request = urllib.request.Request(f"http://127.0.0.1:{port}/hello", headers=basic_auth(self.platform.users[0]))
        in_flight = threading.Thread(target=lambda: answers.append(urllib.request.urlopen(request, timeout=10).status))
        in_flight.start()
        service.wait_for(lambda: "GET /user/currentUser as t100/alice" in self.platform.requests, "the request to reach the platform")
        service.process.send_signal(signal.SIGTERM)
        in_flight.join()

        self.assertEqual(answers, [200])
        self.assertEqual(service.process.wait(timeout=10), 0)
        self.assertRegex(service.output(), r"INFO SIGTERM: finishing requests in flight\n.*INFO GET /hello 200 \d+ms\n.*INFO Stopped\n")
        self.assertNotIn(self.platform.bootstrap.password, service.output())

    def test_without_the_platform_variables_it_exits_1_and_names_them(self) -> None:
        service = RunningService({"SERVER_PORT": str(free_port())})
        self.assertEqual(service.process.wait(timeout=10), 1)
        service.wait_for(lambda: "ERROR" in service.output(), "the error line")
        self.assertIn(
            "ERROR Missing environment variables C8Y_BASEURL, C8Y_BOOTSTRAP_TENANT, C8Y_BOOTSTRAP_USER, C8Y_BOOTSTRAP_PASSWORD.",
            service.output(),
        )


if __name__ == "__main__":
    unittest.main()
