"""The IAM Identity Center stand-in (tests/support/fake_sso.py) against clients nobody here
wrote: boto3's `sso-oidc` and `sso` clients, botocore's own SSO token provider refreshing a
token cache in a child process, and plain HTTP for what the SDK would refuse to send.

It shows the device authorization grant (pending, slow_down, approval, a single-use code,
expiry, denial), client authentication, refresh tokens (issued, rotated, revoked, withheld
from clients registered without scopes), the portal (role credentials, paging, the bearer
token checks), the errors as the real services put them on the wire, the recorded calls that
hold no secret, and thread safety.
"""

import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import boto3
import botocore
import pytest
from botocore.config import Config
from fake_sso import DEFAULT_ACCOUNTS, DEVICE_GRANT, OIDC_NAMESPACE, stand_ins

from harness import PROXY_VARS, assert_network_safe

REGION = "us-east-1"
START_URL = "https://d-fake000001.awsapps.com/start"
SCOPES = ["sso:account:access"]
UNSIGNED = Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1})
PORTAL_ERROR_TYPE = "http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/"
CACHE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture
def make_sso(known_secret):
    """make_sso(**options): a started stand-in, closed after the test; whatever it issued goes to
    the session's secret scan."""
    with stand_ins(known_secret) as make:
        yield make


@pytest.fixture
def sso(make_sso):
    return make_sso()


def oidc_client(fake):
    return boto3.client("sso-oidc", region_name=REGION, endpoint_url=fake.url, config=UNSIGNED)


def portal_client(fake):
    return boto3.client("sso", region_name=REGION, endpoint_url=fake.url, config=UNSIGNED)


def register(fake, **kwargs):
    kwargs.setdefault("clientName", "botocore-client-fake-sso")
    kwargs.setdefault("clientType", "public")
    return oidc_client(fake).register_client(**kwargs)


def start(fake, client):
    return oidc_client(fake).start_device_authorization(
        clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl=START_URL)


def poll(fake, client, device):
    return oidc_client(fake).create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                          grantType=DEVICE_GRANT, deviceCode=device["deviceCode"])


def refresh(fake, client, refresh_token):
    return oidc_client(fake).create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                          grantType="refresh_token", refreshToken=refresh_token)


def signed_in(fake, scopes=SCOPES):
    """A client registered (with `scopes`), its device code approved and exchanged: (client, token)."""
    client = register(fake, scopes=scopes) if scopes else register(fake)
    device = start(fake, client)
    fake.approve(device["userCode"])
    return client, poll(fake, client, device)


def oidc_failure(excinfo, name, error, description, status=400):
    """The exception botocore raised is `name`, from the wire's status, x-amzn-ErrorType header and
    body (`error`, `error_description`)."""
    response = excinfo.value.response
    assert response["Error"] == {"Code": name, "Message": description}
    assert response["error"] == error
    assert response["error_description"] == description
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == f"{name}:{OIDC_NAMESPACE}"


def portal_failure(excinfo, name, message, status):
    response = excinfo.value.response
    assert response["Error"] == {"Code": name, "Message": message}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == f"{name}:{PORTAL_ERROR_TYPE}"


def raw(fake, method, path, body=None, headers=None):
    """(status, headers, parsed body) of one plain HTTP request."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(fake.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, got, text = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, got, text = error.code, error.headers, error.read()
    return status, {k.lower(): v for k, v in got.items()}, json.loads(text) if text else None


def no_secret_in_calls(fake):
    recorded = repr(fake.calls)
    assert fake.issued_secrets
    for secret in fake.issued_secrets:
        assert secret not in recorded


def without_metadata(response):
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


# --------------------------------------------------------------------------------------------
# SSO OIDC: registration and the device authorization grant


def test_register_client_answers_the_lifetime_and_records_no_secret(sso):
    before = int(time.time())
    client = register(sso, scopes=SCOPES, issuerUrl=START_URL)
    assert set(without_metadata(client)) == {"clientId", "clientSecret", "clientIdIssuedAt", "clientSecretExpiresAt"}
    assert before <= client["clientIdIssuedAt"] <= int(time.time())
    assert client["clientSecretExpiresAt"] - client["clientIdIssuedAt"] == 90 * 86400
    assert client["clientSecret"].startswith("fAkEsSoClientSecret") and len(client["clientSecret"]) > 400
    assert client["clientSecret"] in sso.issued_secrets
    assert sso.calls == [{"operation": "RegisterClient", "signed": False, "clientName": "botocore-client-fake-sso",
                          "clientType": "public", "scopes": SCOPES, "grantTypes": None, "issuerUrl": START_URL,
                          "redirectUris": None, "client": client["clientId"], "status": 200, "error": None}]


def test_registration_lifetime_is_configurable(make_sso):
    fake = make_sso(registration_lifetime=3600)
    client = register(fake)
    assert client["clientSecretExpiresAt"] - client["clientIdIssuedAt"] == 3600


def test_only_public_clients_register(sso):
    with pytest.raises(oidc_client(sso).exceptions.InvalidClientMetadataException) as excinfo:
        register(sso, clientType="confidential")
    oidc_failure(excinfo, "InvalidClientMetadataException", "invalid_client_metadata",
                 "Invalid client type: confidential")
    assert sso.issued_secrets == []


def test_device_flow_pending_then_approved_then_the_code_is_spent(sso):
    client = register(sso, scopes=SCOPES)
    device = start(sso, client)
    assert set(without_metadata(device)) == {"deviceCode", "userCode", "verificationUri", "verificationUriComplete",
                                             "expiresIn", "interval"}
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", device["userCode"])
    assert device["verificationUri"] == f"{sso.url}/device"
    assert device["verificationUriComplete"] == f"{sso.url}/device?user_code={device['userCode']}"
    assert (device["expiresIn"], device["interval"]) == (600, 1)
    assert device["deviceCode"] in sso.issued_secrets

    oidc = oidc_client(sso)
    with pytest.raises(oidc.exceptions.AuthorizationPendingException) as excinfo:
        poll(sso, client, device)
    oidc_failure(excinfo, "AuthorizationPendingException", "authorization_pending", "Authorization is still pending")

    assert sso.approve() == [device["userCode"]]
    token = poll(sso, client, device)
    assert set(without_metadata(token)) == {"accessToken", "tokenType", "expiresIn", "refreshToken"}
    assert (token["tokenType"], token["expiresIn"]) == ("Bearer", 8 * 3600)
    info = sso.token_info(token["accessToken"])
    assert info["kind"] == "access" and info["grant"] == DEVICE_GRANT and info["client"] == client["clientId"]
    assert sso.token_info(token["refreshToken"])["kind"] == "refresh"

    with pytest.raises(oidc.exceptions.InvalidGrantException) as excinfo:
        poll(sso, client, device)
    oidc_failure(excinfo, "InvalidGrantException", "invalid_grant", "Invalid grant provided")

    assert sso.operations() == ["RegisterClient", "StartDeviceAuthorization"] + ["CreateToken"] * 3
    assert [(c["status"], c["error"]) for c in sso.calls[2:]] == [
        (400, "AuthorizationPendingException"), (200, None), (400, "InvalidGrantException")]
    assert sso.calls[1] == {"operation": "StartDeviceAuthorization", "signed": False, "client": client["clientId"],
                            "startUrl": START_URL, "userCode": device["userCode"], "status": 200, "error": None}
    assert sso.calls[3]["token"] == info["serial"]
    assert (sso.device_authorizations, sso.token_calls) == (1, 3)
    assert sso.counts() == {"RegisterClient": 1, "StartDeviceAuthorization": 1, "CreateToken": 3}
    no_secret_in_calls(sso)


def test_a_device_code_works_only_for_the_client_it_was_issued_to(sso):
    first, second = register(sso, scopes=SCOPES), register(sso, scopes=SCOPES)
    device = start(sso, first)
    sso.approve()
    with pytest.raises(oidc_client(sso).exceptions.InvalidGrantException):
        poll(sso, second, device)
    assert poll(sso, first, device)["tokenType"] == "Bearer"


def test_approving_one_code_leaves_the_others_pending(sso):
    client = register(sso)
    one, two = start(sso, client), start(sso, client)
    assert sso.approve(two["userCode"]) == [two["userCode"]]
    assert poll(sso, client, two)["tokenType"] == "Bearer"
    with pytest.raises(oidc_client(sso).exceptions.AuthorizationPendingException):
        poll(sso, client, one)
    with pytest.raises(KeyError):
        sso.approve("NONE-SUCH")


def test_polling_sooner_than_the_interval_is_slow_down_and_the_interval_grows_by_five(sso):
    client = register(sso)
    device = start(sso, client)
    oidc = oidc_client(sso)
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        poll(sso, client, device)
    with pytest.raises(oidc.exceptions.SlowDownException) as excinfo:
        poll(sso, client, device)
    oidc_failure(excinfo, "SlowDownException", "slow_down", "Client is polling too quickly")
    assert sso.poll_interval(device["userCode"]) == 6
    sso.advance(2)  # enough for the old interval, not the new one
    with pytest.raises(oidc.exceptions.SlowDownException):
        poll(sso, client, device)
    assert sso.poll_interval(device["userCode"]) == 11
    sso.advance(11)
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        poll(sso, client, device)
    assert [c["error"] for c in sso.calls if c["operation"] == "CreateToken"] == [
        "AuthorizationPendingException", "SlowDownException", "SlowDownException", "AuthorizationPendingException"]


def test_a_poll_at_the_interval_is_not_slow_down(make_sso):
    fake = make_sso(interval=3)
    client = register(fake)
    device = start(fake, client)
    assert device["interval"] == 3
    for _ in range(3):
        with pytest.raises(oidc_client(fake).exceptions.AuthorizationPendingException):
            poll(fake, client, device)
        fake.advance(3)
    assert fake.poll_interval(device["userCode"]) == 3


def test_an_expired_device_code_is_expired_token(make_sso):
    fake = make_sso(device_code_lifetime=30)
    client = register(fake)
    device = start(fake, client)
    assert device["expiresIn"] == 30
    fake.approve()
    fake.expire_device_codes()
    with pytest.raises(oidc_client(fake).exceptions.ExpiredTokenException) as excinfo:
        poll(fake, client, device)
    oidc_failure(excinfo, "ExpiredTokenException", "expired_token", "Device code has expired")

    later = start(fake, client)
    fake.advance(31)  # past its lifetime by the clock alone
    with pytest.raises(oidc_client(fake).exceptions.ExpiredTokenException):
        poll(fake, client, later)


def test_a_denied_code_is_access_denied(sso):
    client = register(sso)
    device = start(sso, client)
    assert sso.deny(device["userCode"]) == [device["userCode"]]
    assert sso.approve() == []  # no longer pending
    with pytest.raises(oidc_client(sso).exceptions.AccessDeniedException) as excinfo:
        poll(sso, client, device)
    oidc_failure(excinfo, "AccessDeniedException", "access_denied", "The user denied the authorization request")


def test_client_authentication_is_invalid_client_with_401(sso):
    client = register(sso)
    device = start(sso, client)
    oidc = oidc_client(sso)
    with pytest.raises(oidc.exceptions.InvalidClientException) as excinfo:
        oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"][:-1] + "x",
                          grantType=DEVICE_GRANT, deviceCode=device["deviceCode"])
    oidc_failure(excinfo, "InvalidClientException", "invalid_client", "Invalid client secret provided", 401)
    with pytest.raises(oidc.exceptions.InvalidClientException) as excinfo:
        oidc.start_device_authorization(clientId="fakeSsoClientUnknown", clientSecret=client["clientSecret"],
                                        startUrl=START_URL)
    oidc_failure(excinfo, "InvalidClientException", "invalid_client", "Invalid client provided", 401)
    sso.expire_registrations()
    with pytest.raises(oidc.exceptions.InvalidClientException) as excinfo:
        poll(sso, client, device)
    oidc_failure(excinfo, "InvalidClientException", "invalid_client", "Client registration has expired", 401)
    # A refused client did not poll: the code is still pending and unpolled.
    assert sso.poll_interval(device["userCode"]) == 1


def test_a_registration_expires_after_its_lifetime(make_sso):
    fake = make_sso(registration_lifetime=100)
    client = register(fake)
    fake.advance(99)
    start(fake, client)
    fake.advance(2)
    with pytest.raises(oidc_client(fake).exceptions.InvalidClientException):
        start(fake, client)


# --------------------------------------------------------------------------------------------
# Refresh tokens


def test_the_refresh_grant_gives_a_new_access_token_and_rotates_the_refresh_token(sso):
    client, first = signed_in(sso)
    second = refresh(sso, client, first["refreshToken"])
    assert set(without_metadata(second)) == {"accessToken", "tokenType", "expiresIn", "refreshToken"}
    assert (second["tokenType"], second["expiresIn"]) == ("Bearer", 8 * 3600)
    assert second["accessToken"] != first["accessToken"]
    assert second["refreshToken"] != first["refreshToken"]
    assert sso.token_info(second["accessToken"])["grant"] == "refresh_token"
    assert sso.token_info(first["refreshToken"])["revoked"] is True
    # Both access tokens stay good until they expire.
    portal = portal_client(sso)
    for token in (first, second):
        assert portal.list_accounts(accessToken=token["accessToken"])["accountList"]
    refresh_call = sso.calls[-3]
    assert refresh_call == {"operation": "CreateToken", "signed": False, "client": client["clientId"],
                            "grantType": "refresh_token", "refreshSerial": sso.token_info(first["refreshToken"])[
                                "serial"], "token": sso.token_info(second["accessToken"])["serial"],
                            "status": 200, "error": None}

    with pytest.raises(oidc_client(sso).exceptions.InvalidGrantException) as excinfo:
        refresh(sso, client, first["refreshToken"])
    oidc_failure(excinfo, "InvalidGrantException", "invalid_grant", "Invalid refresh token provided")
    no_secret_in_calls(sso)


def test_without_rotation_the_refresh_token_stays_and_none_comes_back(make_sso):
    fake = make_sso(rotate_refresh_tokens=False)
    client, first = signed_in(fake)
    again = refresh(fake, client, first["refreshToken"])
    assert "refreshToken" not in again
    assert refresh(fake, client, first["refreshToken"])["accessToken"] not in (first["accessToken"],
                                                                                again["accessToken"])


def test_revoked_refresh_tokens_are_invalid_grant(sso):
    client, token = signed_in(sso)
    sso.revoke_refresh_tokens()
    with pytest.raises(oidc_client(sso).exceptions.InvalidGrantException) as excinfo:
        refresh(sso, client, token["refreshToken"])
    oidc_failure(excinfo, "InvalidGrantException", "invalid_grant", "Invalid refresh token provided")


def test_a_refresh_token_of_another_client_or_an_access_token_is_invalid_grant(sso):
    client, token = signed_in(sso)
    other, _ = signed_in(sso)
    oidc = oidc_client(sso)
    for who, value in ((other, token["refreshToken"]), (client, token["accessToken"]), (client, "fAkEsSoNothing")):
        with pytest.raises(oidc.exceptions.InvalidGrantException):
            refresh(sso, who, value)
    assert sso.token_info(token["refreshToken"])["revoked"] is False


def test_a_client_registered_without_scopes_gets_no_refresh_token(sso):
    client, token = signed_in(sso, scopes=None)
    assert set(without_metadata(token)) == {"accessToken", "tokenType", "expiresIn"}
    assert [t for t in sso.issued_secrets if t.startswith("fAkEsSoRefreshToken")] == []


def test_grant_types_decide_what_a_client_may_do(sso):
    client = register(sso, scopes=SCOPES, grantTypes=[DEVICE_GRANT])
    device = start(sso, client)
    sso.approve()
    token = poll(sso, client, device)
    assert "refreshToken" not in token
    with pytest.raises(oidc_client(sso).exceptions.UnauthorizedClientException) as excinfo:
        refresh(sso, client, "fAkEsSoAnything")
    oidc_failure(excinfo, "UnauthorizedClientException", "unauthorized_client",
                 "The client is not registered for the refresh_token grant")

    refresh_only = register(sso, scopes=SCOPES, grantTypes=["refresh_token"])
    with pytest.raises(oidc_client(sso).exceptions.UnauthorizedClientException) as excinfo:
        start(sso, refresh_only)
    oidc_failure(excinfo, "UnauthorizedClientException", "unauthorized_client",
                 "The client is not registered for the device code grant")


def test_unsupported_grant_types(sso):
    client = register(sso)
    oidc = oidc_client(sso)
    with pytest.raises(oidc.exceptions.UnsupportedGrantTypeException) as excinfo:
        oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType="password")
    oidc_failure(excinfo, "UnsupportedGrantTypeException", "unsupported_grant_type",
                 "Unsupported grant type: password")


def test_the_access_token_lifetime_is_configurable(make_sso):
    fake = make_sso(access_token_lifetime=900)
    _, token = signed_in(fake)
    assert token["expiresIn"] == 900
    fake.advance(901)
    with pytest.raises(portal_client(fake).exceptions.UnauthorizedException):
        portal_client(fake).list_accounts(accessToken=token["accessToken"])


# --------------------------------------------------------------------------------------------
# The wire, as plain HTTP shows it (what the SDK validates away)


@pytest.mark.parametrize("path, body, missing", [
    ("/client/register", {"clientType": "public"}, "clientName"),
    ("/device_authorization", {"clientId": "x", "clientSecret": "y"}, "startUrl"),
    ("/token", {"clientId": "x", "clientSecret": "y"}, "grantType"),
    ("/token", {}, "clientId, clientSecret, grantType"),
])
def test_missing_fields_are_invalid_request_on_the_wire(sso, path, body, missing):
    status, headers, answer = raw(sso, "POST", path, body)
    assert status == 400
    assert headers["x-amzn-errortype"] == f"InvalidRequestException:{OIDC_NAMESPACE}"
    assert headers["content-type"] == "application/json"
    assert answer == {"error": "invalid_request", "error_description": f"Missing required field(s): {missing}"}


def test_a_device_grant_without_device_code_and_a_body_that_is_not_json(sso):
    client = register(sso)
    status, _, answer = raw(sso, "POST", "/token", {"clientId": client["clientId"],
                                                    "clientSecret": client["clientSecret"], "grantType": DEVICE_GRANT})
    assert (status, answer) == (400, {"error": "invalid_request",
                                      "error_description": "Missing required field(s): deviceCode"})
    status, _, answer = raw(sso, "POST", "/token", b"{not json")
    assert (status, answer) == (400, {"error": "invalid_request",
                                      "error_description": "The request body is not valid JSON"})


def test_invalid_client_on_the_wire_is_401_with_the_oauth_body(sso):
    status, headers, answer = raw(sso, "POST", "/device_authorization",
                                  {"clientId": "nobody", "clientSecret": "nothing", "startUrl": START_URL})
    assert status == 401
    assert headers["x-amzn-errortype"] == f"InvalidClientException:{OIDC_NAMESPACE}"
    assert answer == {"error": "invalid_client", "error_description": "Invalid client provided"}


def test_portal_errors_on_the_wire(sso):
    status, headers, answer = raw(sso, "GET", "/federation/credentials?role_name=Admin&account_id=111122223333")
    assert status == 401
    assert headers["x-amzn-errortype"] == f"UnauthorizedException:{PORTAL_ERROR_TYPE}"
    assert answer == {"message": "Session token not found or invalid",
                      "__type": "com.amazonaws.switchboard.portal#UnauthorizedException"}
    _, token = signed_in(sso)
    bearer = {"x-amz-sso_bearer_token": token["accessToken"]}
    for query in ("max_result=0", "max_result=101", "max_result=many", "next_token=bogus"):
        status, headers, answer = raw(sso, "GET", f"/assignment/accounts?{query}", headers=bearer)
        assert status == 400, query
        assert headers["x-amzn-errortype"] == f"InvalidRequestException:{PORTAL_ERROR_TYPE}"
        assert answer["__type"] == "com.amazonaws.switchboard.portal#InvalidRequestException"
    status, _, answer = raw(sso, "GET", "/federation/credentials?role_name=Admin", headers=bearer)
    assert (status, answer["message"]) == (400, "account_id and role_name are required")
    status, headers, answer = raw(sso, "GET", "/token")
    assert (status, headers["x-amzn-errortype"]) == (405, f"MethodNotAllowedException:{OIDC_NAMESPACE}")
    assert answer == {"error": "invalid_request", "error_description": "GET is not allowed on /token"}
    status, _, answer = raw(sso, "GET", "/nowhere")
    assert (status, answer["message"]) == (404, "No operation at GET /nowhere")
    assert [c["operation"] for c in sso.calls][-2:] == ["GET /token", "GET /nowhere"]


# --------------------------------------------------------------------------------------------
# The SSO portal


def test_get_role_credentials_with_the_access_token(sso):
    _, token = signed_in(sso)
    sso.clear()
    before = time.time()
    answer = portal_client(sso).get_role_credentials(accessToken=token["accessToken"], accountId="111122223333",
                                                     roleName="Admin")
    creds = answer["roleCredentials"]
    assert set(without_metadata(answer)) == {"roleCredentials"}
    assert set(creds) == {"accessKeyId", "secretAccessKey", "sessionToken", "expiration"}
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", creds["accessKeyId"])
    assert creds["secretAccessKey"] in sso.issued_secrets and creds["sessionToken"] in sso.issued_secrets
    # Epoch milliseconds, one hour ahead.
    assert (before + 3600) * 1000 - 1000 <= creds["expiration"] <= (time.time() + 3600) * 1000 + 1000
    assert sso.role_credentials == [dict(creds, accountId="111122223333", roleName="Admin")]
    assert sso.calls == [{"operation": "GetRoleCredentials", "signed": False, "account_id": "111122223333",
                          "role_name": "Admin", "token": sso.token_info(token["accessToken"])["serial"],
                          "accessKeyId": creds["accessKeyId"], "status": 200, "error": None}]
    no_secret_in_calls(sso)


def test_a_role_or_account_not_assigned_is_forbidden(sso):
    _, token = signed_in(sso)
    portal = portal_client(sso)
    for account, role in (("111122223333", "Deploy"), ("999999999999", "Admin")):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            portal.get_role_credentials(accessToken=token["accessToken"], accountId=account, roleName=role)
        portal_failure(excinfo, "ForbiddenException", "No access", 403)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        portal.list_account_roles(accessToken=token["accessToken"], accountId="999999999999")
    portal_failure(excinfo, "ForbiddenException", "No access", 403)
    assert sso.role_credentials == []


@pytest.mark.parametrize("how", ["unknown", "expired", "logged out", "a refresh token"])
def test_a_bad_bearer_token_is_unauthorized(sso, how):
    _, token = signed_in(sso)
    portal = portal_client(sso)
    value = token["accessToken"]
    if how == "unknown":
        value = "fAkEsSoNeverIssued"
    elif how == "expired":
        sso.expire_access_tokens()
    elif how == "logged out":
        assert portal.logout(accessToken=value)["ResponseMetadata"]["HTTPStatusCode"] == 200
    else:
        value = token["refreshToken"]
    for call in (lambda: portal.get_role_credentials(accessToken=value, accountId="111122223333", roleName="Admin"),
                 lambda: portal.list_accounts(accessToken=value),
                 lambda: portal.list_account_roles(accessToken=value, accountId="111122223333")):
        with pytest.raises(portal.exceptions.UnauthorizedException) as excinfo:
            call()
        portal_failure(excinfo, "UnauthorizedException", "Session token not found or invalid", 401)
    assert sso.role_credentials == []


def test_list_accounts_and_roles_paginate(sso):
    _, token = signed_in(sso)
    sso.clear()
    portal = portal_client(sso)
    pages = list(portal.get_paginator("list_accounts").paginate(accessToken=token["accessToken"],
                                                                PaginationConfig={"PageSize": 1}))
    assert [without_metadata(p)["accountList"] for p in pages] == [
        [{"accountId": "111122223333", "accountName": "fake-dev", "emailAddress": "dev@example.test"}],
        [{"accountId": "444455556666", "accountName": "fake-prod", "emailAddress": "prod@example.test"}]]
    assert "nextToken" in pages[0] and "nextToken" not in pages[1]
    roles = portal.get_paginator("list_account_roles").paginate(
        accessToken=token["accessToken"], accountId="444455556666", PaginationConfig={"PageSize": 1})
    assert [r for page in roles for r in page["roleList"]] == [
        {"roleName": "ReadOnly", "accountId": "444455556666"}, {"roleName": "Deploy", "accountId": "444455556666"}]
    whole = portal.list_accounts(accessToken=token["accessToken"])
    assert [a["accountId"] for a in whole["accountList"]] == list(DEFAULT_ACCOUNTS) and "nextToken" not in whole
    assert [(c["operation"], c["max_result"], c["next_token"] is not None) for c in sso.calls] == [
        ("ListAccounts", "1", False), ("ListAccounts", "1", True),
        ("ListAccountRoles", "1", False), ("ListAccountRoles", "1", True), ("ListAccounts", None, False)]


def test_accounts_roles_and_lifetimes_are_configurable(make_sso):
    accounts = {f"{n:012d}": {"name": f"acct-{n}", "roles": [f"Role{r}" for r in range(n)]} for n in range(1, 4)}
    fake = make_sso(accounts=accounts, page_size=2, role_credentials_lifetime=900)
    _, token = signed_in(fake)
    portal = portal_client(fake)
    first = portal.list_accounts(accessToken=token["accessToken"])
    assert [a["accountName"] for a in first["accountList"]] == ["acct-1", "acct-2"]
    rest = portal.list_accounts(accessToken=token["accessToken"], nextToken=first["nextToken"])
    assert rest["accountList"] == [{"accountId": "000000000003", "accountName": "acct-3",
                                    "emailAddress": "000000000003@example.test"}]
    roles = [r["roleName"] for page in portal.get_paginator("list_account_roles").paginate(
        accessToken=token["accessToken"], accountId="000000000003") for r in page["roleList"]]
    assert roles == ["Role0", "Role1", "Role2"]
    creds = portal.get_role_credentials(accessToken=token["accessToken"], accountId="000000000003",
                                        roleName="Role2")["roleCredentials"]
    assert abs(creds["expiration"] / 1000 - (time.time() + 900)) < 5


# --------------------------------------------------------------------------------------------
# Thread safety


def test_parallel_clients_get_their_own_codes_and_tokens(sso):
    results, errors = [], []

    def sign_in():
        try:
            client = register(sso, scopes=SCOPES)
            device = start(sso, client)
            results.append((client, device))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=sign_in) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({d["userCode"] for _, d in results}) == 12
    assert sorted(sso.approve()) == sorted(d["userCode"] for _, d in results)
    tokens = [poll(sso, c, d)["accessToken"] for c, d in results]
    assert len(set(tokens)) == 12
    assert sso.device_authorizations == 12 and sso.count("RegisterClient") == 12


# --------------------------------------------------------------------------------------------
# botocore's own SSO token provider, through a profile, in a child process (its cache
# directory comes from HOME when botocore is imported)

PROFILE_SCRIPT = """
import json, boto3
creds = boto3.Session(profile_name="dev").get_credentials().get_frozen_credentials()
print(json.dumps({"access_key": creds.access_key, "secret_key": creds.secret_key, "token": creds.token}))
"""


def cache_time(moment):
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_cache_time(text):
    assert CACHE_TIME.fullmatch(text), text
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


@pytest.fixture
def sso_profile(tmp_path, closed_url):
    """run(fake, cache) -> (credentials, cache file contents after): botocore resolves the profile
    `dev` (sso-session `fake-sso`) with `cache` as the session's token cache file."""
    home = tmp_path / "home"
    cache_dir = home / ".aws" / "sso" / "cache"
    cache_dir.mkdir(parents=True)
    config = tmp_path / "config"
    config.write_text(
        "[profile dev]\nsso_session = fake-sso\nsso_account_id = 111122223333\nsso_role_name = Admin\n"
        f"region = {REGION}\n\n[sso-session fake-sso]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n")
    cache_file = cache_dir / (hashlib.sha1(b"fake-sso").hexdigest() + ".json")

    def run(fake, cache):
        cache_file.write_text(json.dumps(cache))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "EC2_")) and k.lower() not in PROXY_VARS}
        env.update(HOME=str(home), AWS_CONFIG_FILE=str(config),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "nonexistent-credentials"),
                   AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=closed_url,
                   AWS_ENDPOINT_URL_SSO_OIDC=fake.url, AWS_ENDPOINT_URL_SSO=fake.url)
        assert_network_safe(env)
        proc = subprocess.run([sys.executable, "-c", PROFILE_SCRIPT], capture_output=True, text=True, env=env,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout), json.loads(cache_file.read_text())

    return run


def token_cache(client, token, expires_at):
    return {"startUrl": START_URL, "region": REGION, "accessToken": token["accessToken"],
            "expiresAt": cache_time(expires_at), "clientId": client["clientId"],
            "clientSecret": client["clientSecret"],
            "registrationExpiresAt": cache_time(client["clientSecretExpiresAt"]),
            "refreshToken": token["refreshToken"]}


def test_botocore_refreshes_a_token_near_expiry_through_the_stand_in_and_rewrites_the_cache(sso, sso_profile):
    client, token = signed_in(sso)
    sso.clear()
    before = time.time()
    creds, cache = sso_profile(sso, token_cache(client, token, time.time() + 300))

    new = sso.token_info(cache["accessToken"])
    assert new is not None and new["grant"] == "refresh_token" and new["client"] == client["clientId"]
    assert set(cache) == {"startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret",
                          "registrationExpiresAt", "refreshToken"}
    assert (cache["startUrl"], cache["region"]) == (START_URL, REGION)
    assert (cache["clientId"], cache["clientSecret"]) == (client["clientId"], client["clientSecret"])
    assert cache["registrationExpiresAt"] == cache_time(client["clientSecretExpiresAt"])
    assert cache["accessToken"] != token["accessToken"]
    assert cache["refreshToken"] not in (token["refreshToken"], None)
    assert sso.token_info(cache["refreshToken"])["kind"] == "refresh"
    assert before + 8 * 3600 - 2 <= parse_cache_time(cache["expiresAt"]) <= time.time() + 8 * 3600 + 1

    assert sso.operations() == ["CreateToken", "GetRoleCredentials"]
    refresh_call, role_call = sso.calls
    assert refresh_call == {"operation": "CreateToken", "signed": False, "client": client["clientId"],
                            "grantType": "refresh_token", "refreshSerial": sso.token_info(token["refreshToken"])[
                                "serial"], "token": new["serial"], "status": 200, "error": None}
    assert role_call["token"] == new["serial"]  # the role credentials came with the new token
    assert (role_call["account_id"], role_call["role_name"], role_call["status"]) == ("111122223333", "Admin", 200)
    issued = sso.role_credentials[-1]
    assert creds == {"access_key": issued["accessKeyId"], "secret_key": issued["secretAccessKey"],
                     "token": issued["sessionToken"]}


def test_botocore_leaves_a_fresh_token_alone(sso, sso_profile):
    client, token = signed_in(sso)
    sso.clear()
    written = token_cache(client, token, time.time() + 3600)
    creds, cache = sso_profile(sso, written)
    assert cache == written
    assert sso.operations() == ["GetRoleCredentials"]
    assert sso.calls[0]["token"] == sso.token_info(token["accessToken"])["serial"]
    assert creds["access_key"] == sso.role_credentials[-1]["accessKeyId"]


def test_botocore_keeps_the_old_token_when_the_stand_in_refuses_the_refresh(sso, sso_profile):
    client, token = signed_in(sso)
    sso.revoke_refresh_tokens()
    sso.clear()
    written = token_cache(client, token, time.time() + 300)
    creds, cache = sso_profile(sso, written)
    assert cache == written  # nothing written after the refused refresh
    assert [(c["operation"], c["status"], c["error"]) for c in sso.calls] == [
        ("CreateToken", 400, "InvalidGrantException"), ("GetRoleCredentials", 200, None)]
    assert sso.calls[1]["token"] == sso.token_info(token["accessToken"])["serial"]
    assert creds["access_key"] == sso.role_credentials[-1]["accessKeyId"]
