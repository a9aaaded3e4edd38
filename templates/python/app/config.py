"""What the platform tells the service through its environment (Cumulocity's runtime contract):
the port to listen on, where the platform is, and whose credentials to use."""

import re
from dataclasses import dataclass, field
from typing import List, Mapping, Optional


@dataclass(frozen=True)
class Credentials:
    tenant: str
    user: str
    # Kept out of repr() so that a logged object never shows it.
    password: str = field(repr=False)


@dataclass(frozen=True)
class Config:
    port: int
    # The platform as seen from inside the cluster, without a trailing slash.
    base_url: str
    application_name: str
    isolation: str
    # MULTI_TENANT: the bootstrap user, which reads the service users of all subscribed tenants.
    bootstrap: Optional[Credentials]
    # PER_TENANT: the service user of the one tenant this instance serves.
    service_user: Optional[Credentials]


class ConfigError(Exception):
    """A variable is missing or malformed: the service cannot run and says which one."""


def read_config(env: Mapping[str, str]) -> Config:
    missing: List[str] = []

    def need(name: str) -> str:
        value = env.get(name, "")
        if not value:
            missing.append(name)
        return value

    def credentials(tenant: str, user: str, password: str) -> Credentials:
        return Credentials(need(tenant), need(user), need(password))

    port = _read_port(env.get("SERVER_PORT", ""))
    isolation = _read_isolation(env.get("C8Y_MICROSERVICE_ISOLATION", ""))
    base_url = need("C8Y_BASEURL").rstrip("/")
    bootstrap = service_user = None
    if isolation == "PER_TENANT":
        service_user = credentials("C8Y_TENANT", "C8Y_USER", "C8Y_PASSWORD")
    else:
        bootstrap = credentials("C8Y_BOOTSTRAP_TENANT", "C8Y_BOOTSTRAP_USER", "C8Y_BOOTSTRAP_PASSWORD")
    if missing:
        plural = len(missing) > 1
        raise ConfigError(
            f"Missing environment variable{'s' if plural else ''} {', '.join(missing)}. "
            f"The platform sets {'them' if plural else 'it'} when it runs the service; "
            "to run it yourself, see README.md (Run it locally)."
        )
    return Config(port, base_url, env.get("APPLICATION_NAME", ""), isolation, bootstrap, service_user)


def _read_port(value: str) -> int:
    if value == "":
        return 80
    if not re.fullmatch(r"\d+", value) or not 1 <= int(value) <= 65535:
        raise ConfigError(f'SERVER_PORT must be a port number from 1 to 65535, not "{value}".')
    return int(value)


def _read_isolation(value: str) -> str:
    if value in ("", "MULTI_TENANT"):
        return "MULTI_TENANT"
    if value == "PER_TENANT":
        return value
    raise ConfigError(f'C8Y_MICROSERVICE_ISOLATION must be MULTI_TENANT or PER_TENANT, not "{value}".')
