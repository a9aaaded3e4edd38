import unittest

from app.config import ConfigError, Credentials, read_config

MULTI_TENANT = {
    "C8Y_BASEURL": "http://cumulocity:8111/",
    "C8Y_BOOTSTRAP_TENANT": "t100",
    "C8Y_BOOTSTRAP_USER": "servicebootstrap_my-service",
    "C8Y_BOOTSTRAP_PASSWORD": "secret",
    "APPLICATION_NAME": "my-service",
}


class ReadConfigTest(unittest.TestCase):
    def test_multi_tenant_is_the_default_on_port_80_unless_server_port_says_otherwise(self) -> None:
        config = read_config(MULTI_TENANT)
        self.assertEqual((config.port, config.base_url, config.isolation), (80, "http://cumulocity:8111", "MULTI_TENANT"))
        self.assertEqual(config.bootstrap, Credentials("t100", "servicebootstrap_my-service", "secret"))
        self.assertIsNone(config.service_user)
        self.assertEqual(read_config({**MULTI_TENANT, "SERVER_PORT": "8080"}).port, 8080)

    def test_per_tenant_uses_the_service_user_from_c8y_tenant_user_and_password(self) -> None:
        config = read_config({
            "C8Y_BASEURL": "http://cumulocity:8111",
            "C8Y_MICROSERVICE_ISOLATION": "PER_TENANT",
            "C8Y_TENANT": "t200",
            "C8Y_USER": "service_my-service",
            "C8Y_PASSWORD": "secret",
        })
        self.assertEqual(config.service_user, Credentials("t200", "service_my-service", "secret"))
        self.assertIsNone(config.bootstrap)

    def test_missing_variables_are_all_named_at_once(self) -> None:
        with self.assertRaisesRegex(ConfigError, r"C8Y_BASEURL, C8Y_BOOTSTRAP_TENANT, C8Y_BOOTSTRAP_PASSWORD\."):
            read_config({"C8Y_BOOTSTRAP_USER": "servicebootstrap_my-service"})

    def test_a_malformed_port_or_isolation_is_refused_with_the_value_shown(self) -> None:
        with self.assertRaisesRegex(ConfigError, 'SERVER_PORT must be a port number from 1 to 65535, not "http"'):
            read_config({**MULTI_TENANT, "SERVER_PORT": "http"})
        with self.assertRaisesRegex(ConfigError, 'MULTI_TENANT or PER_TENANT, not "SHARED"'):
            read_config({**MULTI_TENANT, "C8Y_MICROSERVICE_ISOLATION": "SHARED"})

    def test_a_password_never_shows_in_repr(self) -> None:
        self.assertNotIn("secret", repr(read_config(MULTI_TENANT)))


if __name__ == "__main__":
    unittest.main()
