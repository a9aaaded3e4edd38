import threading
import time
import unittest
from typing import List

from app.config import Credentials
from app.service_users import TENANT_RECHECK_SECONDS, SubscribedServiceUsers

T100 = Credentials("t100", "service_my-service", "one")
T200 = Credentials("t200", "service_my-service", "two")


class Recorder:
    def __init__(self) -> None:
        self.lines: List[str] = []

    def __call__(self, level: str, message: str) -> None:
        self.lines.append(f"{level} {message}")


class SubscribedServiceUsersTest(unittest.TestCase):
    def test_concurrent_requests_for_an_unknown_tenant_share_one_read(self) -> None:
        reads = []

        def load() -> List[Credentials]:
            reads.append(1)
            time.sleep(0.1)
            return [T100]

        users = SubscribedServiceUsers(load, Recorder())
        results: List[object] = []
        threads = [threading.Thread(target=lambda: results.append(users.for_tenant("t100"))) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(results, [T100, T100, T100])
        self.assertEqual(len(reads), 1)

    def test_a_tenant_that_is_not_subscribed_makes_the_list_be_read_again_at_most_every_recheck_period(self) -> None:
        reads = []
        clock = [1000.0]

        def load() -> List[Credentials]:
            reads.append(1)
            return [T100]

        users = SubscribedServiceUsers(load, Recorder(), clock=lambda: clock[0])
        self.assertEqual(users.for_tenant("t100"), T100)
        self.assertIsNone(users.for_tenant("t999"))
        self.assertIsNone(users.for_tenant("t999"))
        self.assertIsNone(users.for_tenant("t999", reload=True))
        self.assertEqual(len(reads), 2, "one read at start, one for three requests from t999")
        clock[0] += TENANT_RECHECK_SECONDS
        self.assertIsNone(users.for_tenant("t999"))
        self.assertEqual(len(reads), 3, "asked again once the pause is over")

    def test_the_list_is_read_again_every_interval_and_changes_are_logged_without_passwords(self) -> None:
        listed = [T100]
        log = Recorder()
        users = SubscribedServiceUsers(lambda: list(listed), log, interval=0.02).start()
        self.addCleanup(users.stop)
        time.sleep(0.05)
        listed.append(T200)
        deadline = time.monotonic() + 2
        while "INFO Subscribed tenants: t100, t200" not in log.lines and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertIn("INFO Subscribed tenants: t100", log.lines)
        self.assertIn("INFO Subscribed tenants: t100, t200", log.lines)
        self.assertFalse(any("one" in line or "two" in line for line in log.lines), "no password in the log")

    def test_a_failed_read_keeps_the_tenants_already_known(self) -> None:
        failing = []
        log = Recorder()

        def load() -> List[Credentials]:
            if failing:
                raise OSError("Connection refused")
            return [T100]

        users = SubscribedServiceUsers(load, log)
        self.assertEqual(users.for_tenant("t100"), T100)
        failing.append(True)
        self.assertIsNone(users.for_tenant("t200"))
        self.assertEqual(users.for_tenant("t100", reload=True), T100)
        self.assertIn("WARN Could not read the service users (Connection refused); keeping the 1 known.", log.lines)


if __name__ == "__main__":
    unittest.main()
