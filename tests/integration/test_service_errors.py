"""Errors the service answers with. The moto server used here authenticates requests the
way AWS does (INITIAL_NO_AUTH_ACTION_COUNT=0 through /moto-api/reset-auth): the SigV4 signature
is checked against the IAM access key's secret, and IAM policies are enforced."""

import pytest

from harness import PLACEHOLDER


def test_valid_iam_key_is_accepted(run_module, auth_moto):
    """The module's SigV4 signature verifies against the key's secret."""
    rc, r, _, _ = run_module({"endpoint_url": auth_moto.url, "access_key": auth_moto.key.access_key,
                              "secret_key": auth_moto.key.secret_key, "duration_seconds": 3600})
    assert rc == 0, r
    assert r["changed"] is True and set(r["sts_creds"]) == {"access_key", "secret_key", "session_token", "expiration"}


@pytest.mark.parametrize("case,code,status,message", [
    ("unknown-key", "InvalidClientTokenId", 403, "The security token included in the request is invalid."),
    ("wrong-secret", "SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided."),
    ("no-permission", "AccessDenied", 403, "is not authorized to perform: sts:GetSessionToken"),
])
def test_service_error(run_module, auth_moto, case, code, status, message):
    key = {
        "unknown-key": ("AKIAUNKNOWNEXAMPLE01", auth_moto.key.secret_key),
        "wrong-secret": (auth_moto.key.access_key, "wrongSecretKeyValue/00000000000000000000"),
        "no-permission": auth_moto.denied_key,
    }[case]
    rc, r, _, _ = run_module({"endpoint_url": auth_moto.url, "access_key": key[0], "secret_key": key[1]})
    assert rc == 1 and r["failed"] is True
    assert r["msg"].startswith(f"An error occurred ({code}) when calling the GetSessionToken operation: "), r["msg"]
    assert message in r["msg"]
    assert r["error"]["code"] == code
    assert message in r["error"]["message"]
    assert r["response_metadata"]["http_status_code"] == status
    assert isinstance(r["response_metadata"]["request_id"], str) and r["response_metadata"]["request_id"]
    assert r["invocation"]["module_args"]["secret_key"] == PLACEHOLDER
    assert "sts_creds" not in r


def test_service_error_through_ansible(adhoc, auth_moto):
    r = adhoc(f"endpoint_url={auth_moto.url} access_key=AKIAUNKNOWNEXAMPLE01 secret_key={auth_moto.key.secret_key}")
    assert (r.rc, r.status) == (2, "fatal"), r.stdout + r.stderr
    assert r.result["msg"].startswith(
        "An error occurred (InvalidClientTokenId) when calling the GetSessionToken operation"), r.result
    assert r.result["error"]["code"] == "InvalidClientTokenId"
    assert r.result["response_metadata"]["http_status_code"] == 403
