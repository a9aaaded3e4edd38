"""The few platform calls this service makes, on urllib from the standard library."""

import base64
import json
import re
import urllib.error
import urllib.request
from typing import Any, Dict, List, Mapping, Optional

from .config import Credentials

Auth = Dict[str, str]

TIMEOUT_SECONDS = 10


class PlatformError(Exception):
    """The platform answered with an error status, or could not be reached (status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def basic_auth(credentials: Credentials) -> Auth:
    token = base64.b64encode(f"{credentials.tenant}/{credentials.user}:{credentials.password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def caller_auth(headers: Mapping[str, str]) -> Optional[Auth]:
    """The caller's credentials as the gateway forwarded them: an Authorization header, or the
    browser's `authorization` cookie turned into a bearer token (the XSRF check only protects
    cookies). The two-factor header goes along when present. None when there are none."""
    authorization = headers.get("Authorization")
    cookie = re.search(r"(?:^|;\s*)authorization=([^;]+)", headers.get("Cookie", ""))
    if authorization:
        forwarded = {"Authorization": authorization}
    elif cookie:
        forwarded = {"Authorization": f"Bearer {cookie.group(1)}"}
    else:
        return None
    tfa = headers.get("tfatoken")
    if tfa:
        forwarded["tfatoken"] = tfa
    return forwarded


class Platform:
    def __init__(self, base_url: str) -> None:
        self._base_url = base_url

    def current_user(self, auth: Auth) -> Dict[str, Any]:
        return self._get("/user/currentUser", auth)

    def current_tenant(self, auth: Auth) -> Dict[str, Any]:
        return self._get("/tenant/currentTenant", auth)

    def service_users(self, bootstrap: Credentials) -> List[Credentials]:
        """MULTI_TENANT: the service user of every subscribed tenant, read with the bootstrap user."""
        body = self._get("/application/currentApplication/subscriptions", basic_auth(bootstrap))
        return [Credentials(u["tenant"], u["name"], u["password"]) for u in body.get("users", [])]

    def _get(self, path: str, auth: Auth) -> Dict[str, Any]:
        request = urllib.request.Request(self._base_url + path, headers={"Accept": "application/json", **auth})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            message = _error_message(error)
            raise PlatformError(error.code, f"GET {path} answered {error.code}{': ' + message if message else ''}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise PlatformError(0, f"GET {path} failed: {reason}") from None


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.load(error).get("message", ""))
    except (ValueError, AttributeError):
        return ""
