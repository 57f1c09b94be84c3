"""A recording stand-in on 127.0.0.1 for IAM Identity Center's two services, which moto lacks:
SSO OIDC (client registration, the device authorization grant, refresh tokens) and the SSO
portal (role credentials, account and role listings). Both answer on one URL, so a test points
AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO (or an SDK client's endpoint_url) at
``FakeSso.url``.

Both services are restJson1 and unsigned, as the real ones are. SSO OIDC:
- ``POST /client/register``: clientName and clientType ("public", nothing else) required;
  scopes, grantTypes, issuerUrl, redirectUris optional. Registrations last
  ``registration_lifetime`` seconds (90 days unless told).
- ``POST /device_authorization``: clientId, clientSecret, startUrl; a device code that lives
  ``device_code_lifetime`` seconds (600) with a poll ``interval`` (1 s, short for tests).
- ``POST /token``: grantType ``urn:ietf:params:oauth:grant-type:device_code`` (deviceCode) or
  ``refresh_token`` (refreshToken). Access tokens live ``access_token_lifetime`` (8 h).
  A refresh token comes only to a client registered with scopes whose grant types (all of the
  device-flow ones when it named none) include refresh_token. A refresh grant rotates it: the
  answer carries a new refresh token and the one used is spent (``rotate_refresh_tokens``).

OIDC errors are put on the wire as the real service does: the status (401 for invalid_client,
400 for the rest, 500 for an internal error), ``x-amzn-ErrorType: <Name>Exception:<coral
namespace>/``, and a JSON body of ``error`` (the OAuth code) and ``error_description`` only.
Checks of CreateToken, in order: the body and its required fields (invalid_request), the client
(invalid_client: unknown, wrong secret, registration expired), the grant type
(unsupported_grant_type, or unauthorized_client when the client's registration excludes it),
the device code (invalid_grant: unknown, another client's, already exchanged), its lifetime
(expired_token), denial (access_denied), approval (the token; the code is then spent), and for
a pending code the poll interval (slow_down when polled sooner than the interval after the
previous poll; the interval then grows by 5 s, RFC 8628 section 3.5) or authorization_pending.
A refresh token that is unknown, another client's, spent or revoked is invalid_grant.

What is known and what is chosen: the paths, fields, statuses and the `error` values of the
exceptions whose model documents one (authorization_pending, slow_down, expired_token,
access_denied, invalid_grant, invalid_client) are the service model's, and the error header and
body shape, the pending message and the portal's messages ("Session token not found or
invalid", "No access") and ``__type`` are what the services were seen sending. The `error`
values of the other exceptions are RFC 6749's names (the model gives none); the 90 days, the
rotation of refresh tokens, the other messages and the user code's shape are this stand-in's
choices.

The portal (header ``x-amz-sso_bearer_token``): ``GET /federation/credentials`` (role_name,
account_id), ``GET /assignment/accounts`` and ``GET /assignment/roles`` (account_id) paged by
``max_result`` (1 to 100, ``page_size`` when absent) and ``next_token``, ``POST /logout``. A
missing, unknown, expired or logged-out token is a 401 UnauthorizedException; an account or
role not assigned a 403 ForbiddenException; bad parameters a 400 InvalidRequestException. Their
body is ``{"message", "__type"}``, with the same x-amzn-ErrorType header. Role credentials last
``role_credentials_lifetime`` (1 h); their expiration is in epoch milliseconds.

The test's side, all thread-safe:
- ``approve(user_code=None)``, ``deny(user_code=None)``: the user's answer for one code, or
  every pending one; they return the user codes concerned.
- ``expire_device_codes()``, ``expire_access_tokens()``, ``expire_registrations()``,
  ``revoke_refresh_tokens()``: make what was issued so far unusable;
  ``advance(seconds)``: the stand-in's clock moves forward (everything it times: lifetimes and
  the poll interval); ``now()`` is that clock.
- ``calls``: one dict per request answered, in order: ``operation`` (the API name),
  ``status``, ``error`` (the error's name or None), ``signed``, and the request's fields that
  are not secret: never a client secret, device code, access or refresh token. The client is
  ``client`` (its clientId), a device code its ``userCode``, a token its serial number
  (``token``: the access token issued or presented, ``refreshSerial``: the refresh token
  presented; see ``token_info``), role credentials their ``accessKeyId``. ``operations()``
  lists the names; ``count(operation)``, ``counts()`` and the properties
  ``device_authorizations`` and ``token_calls`` count them; ``clear()`` forgets them.
- ``poll_interval(user_code)``: the interval a device code must now be polled at.
- ``token_info(access_or_refresh_token)``: what the stand-in knows of a token it issued (serial,
  grant, client, expiry, revoked).
- ``issued_secrets``: every secret it issued (client secrets, device codes, tokens, role
  secret keys and session tokens), for the session's secret scan. They are long random strings
  behind a distinctive prefix ("fAkEsSo..."), so the scan finds them anywhere.
- ``role_credentials``: the credentials GetRoleCredentials returned, in order.
"""

import base64
import collections
import contextlib
import json
import secrets
import string
import threading
import time
import urllib.parse

from fake_aws import FakeAWS

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
AUTH_CODE_GRANT = "authorization_code"
# What a client that names no grant types may use: the device flow and its refresh.
DEFAULT_GRANTS = (DEVICE_GRANT, REFRESH_GRANT)
KNOWN_GRANTS = (DEVICE_GRANT, REFRESH_GRANT, AUTH_CODE_GRANT)
SLOW_DOWN_STEP = 5
OIDC_NAMESPACE = "http://internal.amazon.com/coral/com.amazonaws.sso.oidc/"
PORTAL_NAMESPACE = "com.amazonaws.switchboard.portal"
DAY = 86400

# The accounts and roles assigned to the signed-in user unless a test gives others.
DEFAULT_ACCOUNTS = {
    "111122223333": {"name": "fake-dev", "email": "dev@example.test", "roles": ["ReadOnly", "Admin"]},
    "444455556666": {"name": "fake-prod", "email": "prod@example.test", "roles": ["ReadOnly", "Deploy"]},
}

# The OAuth error codes (the body's `error`) of SSO OIDC's exceptions, with their status.
OIDC_ERRORS = {
    "AuthorizationPendingException": (400, "authorization_pending"),
    "SlowDownException": (400, "slow_down"),
    "ExpiredTokenException": (400, "expired_token"),
    "AccessDeniedException": (400, "access_denied"),
    "InvalidGrantException": (400, "invalid_grant"),
    "InvalidClientException": (401, "invalid_client"),
    "InvalidRequestException": (400, "invalid_request"),
    "InvalidScopeException": (400, "invalid_scope"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
    "InvalidClientMetadataException": (400, "invalid_client_metadata"),
    "InternalServerException": (500, "server_error"),
}
PORTAL_STATUS = {"InvalidRequestException": 400, "UnauthorizedException": 401, "ForbiddenException": 403,
                 "ResourceNotFoundException": 404, "TooManyRequestsException": 429}
UNAUTHORIZED_MESSAGE = "Session token not found or invalid"
FORBIDDEN_MESSAGE = "No access"

# (method, path) -> (service, operation)
ROUTES = {
    ("POST", "/client/register"): ("oidc", "RegisterClient"),
    ("POST", "/device_authorization"): ("oidc", "StartDeviceAuthorization"),
    ("POST", "/token"): ("oidc", "CreateToken"),
    ("GET", "/federation/credentials"): ("portal", "GetRoleCredentials"),
    ("GET", "/assignment/accounts"): ("portal", "ListAccounts"),
    ("GET", "/assignment/roles"): ("portal", "ListAccountRoles"),
    ("POST", "/logout"): ("portal", "Logout"),
}


def _secret(kind, length=96):
    """A long random secret behind a distinctive prefix."""
    return f"fAkEsSo{kind}" + secrets.token_urlsafe(length)[:length]


class Failure(Exception):
    """An error answer: the exception's name and its description."""

    def __init__(self, name, description):
        super().__init__(description)
        self.name, self.description = name, description


class Client:
    def __init__(self, client_id, secret, name, scopes, grant_types, issued_at, expires_at):
        self.client_id, self.secret, self.name = client_id, secret, name
        self.scopes, self.grant_types = scopes, grant_types
        self.issued_at, self.expires_at = issued_at, expires_at

    def allows(self, grant):
        return grant in (self.grant_types if self.grant_types is not None else DEFAULT_GRANTS)

    def gets_refresh_tokens(self):
        return bool(self.scopes) and self.allows(REFRESH_GRANT)


class Device:
    def __init__(self, client_id, user_code, start_url, expires_at, interval):
        self.client_id, self.user_code, self.start_url = client_id, user_code, start_url
        self.expires_at, self.interval = expires_at, interval
        self.state = "pending"  # approved, denied, used
        self.last_poll = None


class Token:
    def __init__(self, serial, kind, grant, client_id, expires_at, start_url):
        self.serial, self.kind, self.grant, self.client_id = serial, kind, grant, client_id
        self.expires_at, self.start_url = expires_at, start_url
        self.revoked = False

    def info(self):
        return {"serial": self.serial, "kind": self.kind, "grant": self.grant, "client": self.client_id,
                "expires_at": self.expires_at, "revoked": self.revoked}


class FakeSso(FakeAWS):
    methods = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")

    def __init__(self, accounts=None, registration_lifetime=90 * DAY, device_code_lifetime=600, interval=1,
                 access_token_lifetime=8 * 3600, role_credentials_lifetime=3600, page_size=20,
                 rotate_refresh_tokens=True):
        super().__init__()
        # Shut down within 50 ms rather than serve_forever's default 0.5 s: tests start many.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        source = DEFAULT_ACCOUNTS if accounts is None else accounts
        self.accounts = {a: {"name": v.get("name", f"account-{a}"), "email": v.get("email", f"{a}@example.test"),
                             "roles": list(v.get("roles", ()))} for a, v in source.items()}
        self.registration_lifetime = registration_lifetime
        self.device_code_lifetime = device_code_lifetime
        self.interval = interval
        self.access_token_lifetime = access_token_lifetime
        self.role_credentials_lifetime = role_credentials_lifetime
        self.page_size = page_size
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.offset = 0.0
        self.clients = {}  # clientId -> Client
        self.devices = {}  # deviceCode -> Device
        self.tokens = {}  # access or refresh token -> Token
        self.calls = []
        self.issued_secrets = []
        self.role_credentials = []
        self._serial = 0

    # --- the clock

    def now(self):
        with self.lock:
            return time.time() + self.offset

    def advance(self, seconds):
        """Moves the stand-in's clock forward by `seconds`."""
        with self.lock:
            self.offset += seconds

    # --- the test's side

    def approve(self, user_code=None):
        """The user approves the pending code `user_code`, or every pending code. Returns the user
        codes approved."""
        return self._answer_user(user_code, "approved")

    def deny(self, user_code=None):
        """The user denies the pending code `user_code`, or every pending code. Returns the user
        codes denied."""
        return self._answer_user(user_code, "denied")

    def _answer_user(self, user_code, state):
        with self.lock:
            chosen = [d for d in self.devices.values()
                      if d.state == "pending" and user_code in (None, d.user_code)]
            if user_code is not None and not chosen:
                raise KeyError(f"no pending device authorization with user code {user_code}")
            for d in chosen:
                d.state = state
            return [d.user_code for d in chosen]

    def expire_device_codes(self):
        """Every device code issued so far is past its lifetime."""
        with self.lock:
            now = time.time() + self.offset
            for d in self.devices.values():
                d.expires_at = min(d.expires_at, now - 1)

    def expire_access_tokens(self):
        """Every access token issued so far is past its lifetime."""
        with self.lock:
            now = time.time() + self.offset
            for t in self.tokens.values():
                if t.kind == "access":
                    t.expires_at = min(t.expires_at, now - 1)

    def expire_registrations(self):
        """Every client registered so far is past its registration's lifetime."""
        with self.lock:
            now = time.time() + self.offset
            for c in self.clients.values():
                c.expires_at = min(c.expires_at, int(now) - 1)

    def revoke_refresh_tokens(self):
        """Every refresh token issued so far is revoked."""
        with self.lock:
            for t in self.tokens.values():
                if t.kind == "refresh":
                    t.revoked = True

    def token_info(self, token):
        """serial, kind (access, refresh), grant, client, expires_at (the stand-in's clock) and
        revoked of a token this stand-in issued; None for any other value."""
        with self.lock:
            t = self.tokens.get(token)
            return t.info() if t else None

    def poll_interval(self, user_code):
        """The interval the device code of `user_code` must now be polled at (grows on slow_down)."""
        with self.lock:
            return next(d.interval for d in self.devices.values() if d.user_code == user_code)

    def clear(self):
        """Forgets the requests and calls recorded so far (not what was issued)."""
        with self.lock:
            self.requests.clear()
            self.calls.clear()

    def operations(self):
        with self.lock:
            return [c["operation"] for c in self.calls]

    def count(self, operation):
        with self.lock:
            return sum(1 for c in self.calls if c["operation"] == operation)

    def counts(self):
        with self.lock:
            return collections.Counter(c["operation"] for c in self.calls)

    @property
    def device_authorizations(self):
        """The number of StartDeviceAuthorization calls."""
        return self.count("StartDeviceAuthorization")

    @property
    def token_calls(self):
        """The number of CreateToken calls."""
        return self.count("CreateToken")

    # --- issuing

    def _issue(self, kind, length=96):
        value = _secret(kind, length)
        self.issued_secrets.append(value)
        return value

    def _new_token(self, kind, grant, client_id, lifetime, start_url):
        value = self._issue("AccessToken" if kind == "access" else "RefreshToken")
        self._serial += 1
        expires = time.time() + self.offset + lifetime if lifetime is not None else float("inf")
        self.tokens[value] = Token(self._serial, kind, grant, client_id, expires, start_url)
        return value

    # --- answers

    def answer(self, request):
        split = urllib.parse.urlsplit(request.path)
        route = ROUTES.get((request.method, split.path))
        call = {"operation": route[1] if route else f"{request.method} {split.path}", "signed": request.signed}
        try:
            if route is None:
                if any(path == split.path for _, path in ROUTES):
                    raise Failure("MethodNotAllowedException", f"{request.method} is not allowed on {split.path}")
                raise Failure("UnknownOperationException", f"No operation at {request.method} {split.path}")
            service, operation = route
            if service == "oidc":
                body = self._json_body(request)
                status, value = getattr(self, f"_{operation}")(body, call)
            else:
                status, value = getattr(self, f"_{operation}")(request, call)
        except Failure as failure:
            service = route[0] if route else next((s for (_, path), (s, _) in ROUTES.items() if path == split.path),
                                                  "portal")
            call.update(status=self._status(service, failure.name), error=failure.name)
            self._record(call)
            return self._error(service, failure)
        call.update(status=status, error=None)
        self._record(call)
        if value is None:
            return status, {"x-amzn-RequestId": self.request_id}, ""
        return status, {"Content-Type": "application/json", "x-amzn-RequestId": self.request_id}, json.dumps(value)

    def _record(self, call):
        with self.lock:
            self.calls.append(call)

    @staticmethod
    def _status(service, name):
        if service == "oidc" and name in OIDC_ERRORS:
            return OIDC_ERRORS[name][0]
        return {"MethodNotAllowedException": 405, "UnknownOperationException": 404}.get(
            name, PORTAL_STATUS.get(name, 400))

    def _error(self, service, failure):
        status = self._status(service, failure.name)
        if service == "oidc":
            headers = {"Content-Type": "application/json", "x-amzn-RequestId": self.request_id,
                       "x-amzn-ErrorType": f"{failure.name}:{OIDC_NAMESPACE}"}
            code = OIDC_ERRORS.get(failure.name, (status, "invalid_request"))[1]
            return status, headers, json.dumps({"error": code, "error_description": failure.description})
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": self.request_id,
                   "x-amzn-ErrorType": f"{failure.name}:http://internal.amazon.com/coral/{PORTAL_NAMESPACE}/"}
        return status, headers, json.dumps({"message": failure.description,
                                            "__type": f"{PORTAL_NAMESPACE}#{failure.name}"})

    @staticmethod
    def _json_body(request):
        try:
            body = json.loads(request.body) if request.body.strip() else {}
        except ValueError:
            raise Failure("InvalidRequestException", "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise Failure("InvalidRequestException", "The request body is not a JSON object")
        return body

    @staticmethod
    def _required(body, *names):
        missing = [n for n in names if not isinstance(body.get(n), str) or not body.get(n)]
        if missing:
            raise Failure("InvalidRequestException", f"Missing required field(s): {', '.join(missing)}")

    def _client(self, body):
        """The registered client the body names with its secret (else invalid_client)."""
        now = time.time() + self.offset
        client = self.clients.get(body["clientId"])
        if client is None:
            raise Failure("InvalidClientException", "Invalid client provided")
        if not secrets.compare_digest(client.secret, body["clientSecret"]):
            raise Failure("InvalidClientException", "Invalid client secret provided")
        if client.expires_at <= now:
            raise Failure("InvalidClientException", "Client registration has expired")
        return client

    # SSO OIDC

    def _RegisterClient(self, body, call):
        call.update({k: body.get(k) for k in ("clientName", "clientType", "scopes", "grantTypes", "issuerUrl",
                                               "redirectUris")})
        self._required(body, "clientName", "clientType")
        if body["clientType"] != "public":
            raise Failure("InvalidClientMetadataException", f"Invalid client type: {body['clientType']}")
        for name in ("scopes", "grantTypes", "redirectUris"):
            value = body.get(name)
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise Failure("InvalidRequestException", f"{name} must be a list of strings")
        grant_types = body.get("grantTypes")
        if grant_types is not None:
            unknown = [g for g in grant_types if g not in KNOWN_GRANTS]
            if unknown or not grant_types:
                raise Failure("InvalidClientMetadataException", f"Invalid grant types: {', '.join(unknown)}")
        with self.lock:
            now = int(time.time() + self.offset)
            client_id = "fakeSsoClient" + secrets.token_urlsafe(24)
            secret = self._issue("ClientSecret", 480)
            client = Client(client_id, secret, body["clientName"], list(body.get("scopes") or []),
                            grant_types, now, now + self.registration_lifetime)
            self.clients[client_id] = client
        call["client"] = client_id
        return 200, {"clientId": client_id, "clientSecret": secret, "clientIdIssuedAt": client.issued_at,
                     "clientSecretExpiresAt": client.expires_at}

    def _StartDeviceAuthorization(self, body, call):
        call.update(client=body.get("clientId"), startUrl=body.get("startUrl"))
        self._required(body, "clientId", "clientSecret", "startUrl")
        with self.lock:
            client = self._client(body)
            if not client.allows(DEVICE_GRANT):
                raise Failure("UnauthorizedClientException", "The client is not registered for the device code grant")
            device_code = self._issue("DeviceCode")
            letters = string.ascii_uppercase
            user_code = "".join(secrets.choice(letters) for _ in range(4)) + "-" + "".join(
                secrets.choice(letters) for _ in range(4))
            now = time.time() + self.offset
            self.devices[device_code] = Device(client.client_id, user_code, body["startUrl"],
                                               now + self.device_code_lifetime, self.interval)
        call["userCode"] = user_code
        return 200, {"deviceCode": device_code, "userCode": user_code, "verificationUri": f"{self.url}/device",
                     "verificationUriComplete": f"{self.url}/device?user_code={user_code}",
                     "expiresIn": self.device_code_lifetime, "interval": self.interval}

    def _CreateToken(self, body, call):
        call.update(client=body.get("clientId"), grantType=body.get("grantType"))
        self._required(body, "clientId", "clientSecret", "grantType")
        grant = body["grantType"]
        with self.lock:
            client = self._client(body)
            if grant not in (DEVICE_GRANT, REFRESH_GRANT):
                if grant == AUTH_CODE_GRANT:
                    raise Failure("UnsupportedGrantTypeException", "This stand-in has no authorization code grant")
                raise Failure("UnsupportedGrantTypeException", f"Unsupported grant type: {grant}")
            if not client.allows(grant):
                raise Failure("UnauthorizedClientException", f"The client is not registered for the {grant} grant")
            if grant == DEVICE_GRANT:
                return self._device_token(body, client, call)
            return self._refresh(body, client, call)

    def _device_token(self, body, client, call):
        self._required(body, "deviceCode")
        now = time.time() + self.offset
        device = self.devices.get(body["deviceCode"])
        if device is None or device.client_id != client.client_id or device.state == "used":
            raise Failure("InvalidGrantException", "Invalid grant provided")
        call["userCode"] = device.user_code
        if device.expires_at <= now:
            raise Failure("ExpiredTokenException", "Device code has expired")
        if device.state == "denied":
            raise Failure("AccessDeniedException", "The user denied the authorization request")
        if device.state == "pending":
            previous, device.last_poll = device.last_poll, now
            if previous is not None and now - previous < device.interval:
                device.interval += SLOW_DOWN_STEP
                raise Failure("SlowDownException", "Client is polling too quickly")
            raise Failure("AuthorizationPendingException", "Authorization is still pending")
        device.state = "used"
        return self._token_answer(DEVICE_GRANT, client, device.start_url, call)

    def _refresh(self, body, client, call):
        self._required(body, "refreshToken")
        token = self.tokens.get(body["refreshToken"])
        if token is None or token.kind != "refresh" or token.client_id != client.client_id or token.revoked:
            raise Failure("InvalidGrantException", "Invalid refresh token provided")
        call["refreshSerial"] = token.serial
        if self.rotate_refresh_tokens:
            token.revoked = True
        return self._token_answer(REFRESH_GRANT, client, token.start_url, call,
                                  keep_refresh=not self.rotate_refresh_tokens)

    def _token_answer(self, grant, client, start_url, call, keep_refresh=False):
        access = self._new_token("access", grant, client.client_id, self.access_token_lifetime, start_url)
        call["token"] = self.tokens[access].serial
        answer = {"accessToken": access, "tokenType": "Bearer", "expiresIn": self.access_token_lifetime}
        if client.gets_refresh_tokens() and not keep_refresh:
            answer["refreshToken"] = self._new_token("refresh", grant, client.client_id, None, start_url)
        return 200, answer

    # SSO portal

    def _bearer(self, request, call):
        value = request.headers.get("x-amz-sso_bearer_token")
        with self.lock:
            token = self.tokens.get(value) if value else None
            call["token"] = token.serial if token else None
            if (token is None or token.kind != "access" or token.revoked
                    or token.expires_at <= time.time() + self.offset):
                raise Failure("UnauthorizedException", UNAUTHORIZED_MESSAGE)
            return token

    def _page(self, request, call, items, key):
        query = request.query
        call.update(max_result=query.get("max_result"), next_token=query.get("next_token"))
        size = self.page_size
        if "max_result" in query:
            try:
                size = int(query["max_result"])
            except ValueError:
                size = 0
            if not 1 <= size <= 100:
                raise Failure("InvalidRequestException", "max_result must be between 1 and 100")
        start = 0
        if "next_token" in query:
            try:
                kind, _, index = base64.urlsafe_b64decode(query["next_token"].encode()).decode().partition(":")
                start = int(index)
            except (ValueError, UnicodeDecodeError):
                kind = None
            if kind != key or not 0 < start < len(items):
                raise Failure("InvalidRequestException", "Invalid next_token")
        answer = {key: items[start:start + size]}
        if start + size < len(items):
            answer["nextToken"] = base64.urlsafe_b64encode(f"{key}:{start + size}".encode()).decode()
        return 200, answer

    def _GetRoleCredentials(self, request, call):
        query = request.query
        call.update(account_id=query.get("account_id"), role_name=query.get("role_name"))
        self._bearer(request, call)
        if not query.get("account_id") or not query.get("role_name"):
            raise Failure("InvalidRequestException", "account_id and role_name are required")
        with self.lock:
            account = self.accounts.get(query["account_id"])
            if account is None or query["role_name"] not in account["roles"]:
                raise Failure("ForbiddenException", FORBIDDEN_MESSAGE)
            key_id = "ASIA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16))
            creds = {"accessKeyId": key_id, "secretAccessKey": self._issue("RoleSecret", 33),
                     "sessionToken": self._issue("SessionToken", 300),
                     "expiration": int((time.time() + self.offset + self.role_credentials_lifetime) * 1000)}
            self.role_credentials.append(dict(creds, accountId=query["account_id"], roleName=query["role_name"]))
        call["accessKeyId"] = key_id
        return 200, {"roleCredentials": creds}

    def _ListAccounts(self, request, call):
        self._bearer(request, call)
        with self.lock:
            items = [{"accountId": a, "accountName": v["name"], "emailAddress": v["email"]}
                     for a, v in self.accounts.items()]
        return self._page(request, call, items, "accountList")

    def _ListAccountRoles(self, request, call):
        account_id = request.query.get("account_id")
        call["account_id"] = account_id
        self._bearer(request, call)
        if not account_id:
            raise Failure("InvalidRequestException", "account_id is required")
        with self.lock:
            account = self.accounts.get(account_id)
            if account is None:
                raise Failure("ForbiddenException", FORBIDDEN_MESSAGE)
            items = [{"roleName": r, "accountId": account_id} for r in account["roles"]]
        return self._page(request, call, items, "roleList")

    def _Logout(self, request, call):
        token = self._bearer(request, call)
        with self.lock:
            token.revoked = True
        return 200, None


@contextlib.contextmanager
def stand_ins(register_secret):
    """make(**options): started stand-ins, closed on leaving; every secret each issued is given
    to register_secret(value, origin) (a test's known_secret), for the secret scan."""
    started = []

    def make(**options):
        fake = FakeSso(**options).start()
        started.append(fake)
        return fake

    try:
        yield make
    finally:
        for fake in started:
            fake.close()
            for secret in fake.issued_secrets:
                register_secret(secret, "fake SSO: issued secret")
