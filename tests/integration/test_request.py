"""What the module sends to STS and how it maps the answer, seen through the recording fake STS
(moto ignores MFA values and never shows the request). The session_token option, which
sts_session_token refuses (GetSessionToken does not take session credentials), is shown with
aws_caller_info and the role modules' recording fake."""

import fake_sts as fake
from harness import TEST_ACCESS_KEY, TEST_SECRET_KEY

SESSION_TOKEN = "FwoGZXIvYXdzECallerSessionToken0001"


def test_request_carries_the_options_and_the_answer_is_mapped(run_module, fake_sts):
    rc, r, _, _ = run_module({
        "endpoint_url": fake_sts.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
        "region": "eu-central-1",
        "duration_seconds": 1800, "mfa_serial_number": "arn:aws:iam::123456789012:mfa/user", "mfa_token": "024680",
    })
    assert rc == 0, r
    (request,) = fake_sts.requests
    assert request.method == "POST"
    assert request.form == {
        "Action": "GetSessionToken", "Version": "2011-06-15", "DurationSeconds": "1800",
        "SerialNumber": "arn:aws:iam::123456789012:mfa/user", "TokenCode": "024680",
    }
    assert request.credential[0] == TEST_ACCESS_KEY
    assert request.credential[2:] == ("eu-central-1", "sts")
    assert r["sts_creds"] == {
        "access_key": fake.ACCESS_KEY, "secret_key": fake.SECRET_KEY,
        "session_token": fake.SESSION_TOKEN, "expiration": fake.EXPIRATION,
    }
    assert list(r["sts_creds"]) == ["access_key", "secret_key", "session_token", "expiration"]


def test_only_given_options_are_sent(run_module, fake_sts):
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY})
    assert rc == 0, r
    (request,) = fake_sts.requests
    assert request.form == {"Action": "GetSessionToken", "Version": "2011-06-15"}
    assert "x-amz-security-token" not in request.headers


def test_session_token_goes_into_the_security_token_header(run_named_module, role_sts):
    """Credentials with a session token sign with it: every call carries x-amz-security-token,
    the signature is the keys' for the region given."""
    rc, r, _, _ = run_named_module("aws_caller_info", {
        "endpoint_url": role_sts.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
        "session_token": SESSION_TOKEN, "region": "eu-central-1",
    })
    assert rc == 0, r
    assert role_sts.actions() == ["GetCallerIdentity", "ListAccountAliases"]
    caller = role_sts.requests[0]
    assert caller.method == "POST"
    assert caller.form == {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
    assert caller.credential[2:] == ("eu-central-1", "sts")
    for request in role_sts.requests:
        assert request.credential[0] == TEST_ACCESS_KEY
        assert request.headers["x-amz-security-token"] == SESSION_TOKEN
