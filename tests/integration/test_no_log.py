"""no_log options (secret_key, session_token, mfa_token) are hidden the way AnsibleModule
hides them; the credentials the module obtains are returned whole.

sts_session_token refuses credentials that carry a session token (GetSessionToken does), so
session_token is shown with sts_assume_role, which takes the same no_log options (MFA included)
and returns credentials the same way."""

import pytest
from fake_aws import FakeAWS, element

from harness import MOTO_ACCESS_KEY, PLACEHOLDER, TEST_ACCESS_KEY

SECRET = "Zx9vQ2mN7pL4rT8kW3yB6cF1hJ5sD0gA2eU7iO4q"
SERIAL = "arn:aws:iam::123456789012:mfa/user"
ROLE = {"role_arn": "arn:aws:iam::123456789012:role/no-log", "role_session_name": "no-log"}


def test_no_log_options_are_masked_and_issued_credentials_are_not(run_module, run_named_module, moto):
    token = "FwoGZXIvYXdzEInputSessionToken/for+masking0000"
    rc, r, stdout, _ = run_module({
        "endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET,
        "mfa_token": "123456", "mfa_serial_number": SERIAL,
    })
    assert rc == 0, r
    args = r["invocation"]["module_args"]
    assert args["mfa_token"] == PLACEHOLDER
    assert args["secret_key"] == PLACEHOLDER
    # A no_log value inside another value is replaced, as AnsibleModule does.
    assert args["mfa_serial_number"] == "arn:aws:iam::********789012:mfa/user"
    assert args["access_key"] == TEST_ACCESS_KEY
    # The new credentials are returned as they are.
    creds = r["sts_creds"]
    assert creds["access_key"] == MOTO_ACCESS_KEY
    assert creds["secret_key"].startswith("wJalrXUtnFEMI/") and "*" not in creds["secret_key"]
    assert len(creds["session_token"]) > 100 and PLACEHOLDER not in creds["session_token"]
    for value in (SECRET, "123456"):
        assert value not in stdout
    # With a session token as well: every no_log option given at once.
    rc, r, stdout, _ = run_named_module("sts_assume_role", {
        "endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET,
        "session_token": token, "mfa_token": "123456", "mfa_serial_number": SERIAL, **ROLE,
    })
    assert rc == 0, r
    args = r["invocation"]["module_args"]
    assert (args["mfa_token"], args["secret_key"], args["session_token"]) == (PLACEHOLDER,) * 3
    assert args["mfa_serial_number"] == "arn:aws:iam::********789012:mfa/user"
    assert args["access_key"] == TEST_ACCESS_KEY
    creds = r["sts_creds"]
    assert creds["access_key"].startswith("ASIA") and len(creds["secret_key"]) == 40
    assert "*" not in creds["secret_key"] and PLACEHOLDER not in creds["secret_key"]
    assert len(creds["session_token"]) > 100 and PLACEHOLDER not in creds["session_token"]
    for value in (SECRET, token, "123456"):
        assert value not in stdout


# The credentials the stand-in below issues, whoever asks.
SAME_KEY = "ASIAFAKESAMEKEY00001"
SAME_SECRET = "sameSecretIssuedAgain/0000000000000000000"
SAME_TOKEN = "FwoGZXIvYXdzESameSessionTokenIssuedAgain//////////0000000000"


class SameCredentialsSTS(FakeAWS):
    """Answers AssumeRole with the same credentials every time, like moto's GetSessionToken
    (moto's AssumeRole makes new ones)."""

    def answer(self, request):
        if request.action != "AssumeRole":
            return super().answer(request)
        arn = f"arn:aws:sts::123456789012:assumed-role/no-log/{request.form.get('RoleSessionName', '')}"
        creds = (element("AccessKeyId", SAME_KEY) + element("SecretAccessKey", SAME_SECRET)
                 + element("SessionToken", SAME_TOKEN) + element("Expiration", "2031-02-03T04:05:06Z"))
        user = element("AssumedRoleId", "AROAFAKENOLOG0000001:no-log") + element("Arn", arn)
        return self.xml_result(
            "AssumeRole", f"<Credentials>{creds}</Credentials><AssumedRoleUser>{user}</AssumedRoleUser>")


@pytest.fixture
def same_credentials_sts():
    with SameCredentialsSTS() as server:
        yield server


def test_issued_credentials_equal_to_a_no_log_input_are_still_returned(run_module, run_named_module, moto,
                                                                       same_credentials_sts):
    """moto always issues the same secret, and the stand-in above the same credentials; given
    as the input secret_key and session_token (no_log), they must be hidden in invocation but
    returned whole in sts_creds. The session token goes to sts_assume_role, as sts_session_token
    refuses one."""
    rc, first, _, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET})
    assert rc == 0, first
    issued = first["sts_creds"]
    # The issued key pair alone, as keys without a session token (moto checks no signature).
    rc, r, _, _ = run_module({"endpoint_url": moto.url, "access_key": issued["access_key"],
                              "secret_key": issued["secret_key"]})
    assert rc == 0, r
    assert r["sts_creds"]["secret_key"] == issued["secret_key"]
    assert r["invocation"]["module_args"]["secret_key"] == PLACEHOLDER

    url = same_credentials_sts.url
    rc, first, _, _ = run_named_module("sts_assume_role", {"endpoint_url": url, "access_key": TEST_ACCESS_KEY,
                                                           "secret_key": SECRET, **ROLE})
    assert rc == 0, first
    issued = first["sts_creds"]
    assert (issued["secret_key"], issued["session_token"]) == (SAME_SECRET, SAME_TOKEN)
    rc, r, _, _ = run_named_module("sts_assume_role", {"endpoint_url": url, "access_key": issued["access_key"],
                                                       "secret_key": issued["secret_key"],
                                                       "session_token": issued["session_token"], **ROLE})
    assert rc == 0, r
    assert same_credentials_sts.requests[-1].headers["x-amz-security-token"] == SAME_TOKEN
    assert r["sts_creds"]["secret_key"] == issued["secret_key"]
    assert r["sts_creds"]["session_token"] == issued["session_token"]
    assert r["invocation"]["module_args"]["secret_key"] == PLACEHOLDER
    assert r["invocation"]["module_args"]["session_token"] == PLACEHOLDER


def test_no_log_values_are_masked_in_failure_messages(run_module, moto):
    """mfa_serial_number's error message repeats the serial; the MFA code inside it is hidden."""
    rc, r, stdout, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET,
                                   "mfa_token": "654321", "mfa_serial_number": "dev 654321"})
    assert rc == 1
    assert r["msg"].startswith("mfa_serial_number may only contain"), r["msg"]
    assert "dev ********" in r["msg"]
    assert "654321" not in stdout and SECRET not in stdout


def test_no_log_secret_from_the_environment_is_masked_too(run_module, moto):
    rc, r, stdout, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY},
                                  env={"AWS_SECRET_ACCESS_KEY": SECRET})
    assert rc == 0, r
    assert r["invocation"]["module_args"]["secret_key"] == PLACEHOLDER
    assert SECRET not in stdout
