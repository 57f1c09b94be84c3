"""sts_session_token through ad hoc `ansible localhost -m ... -a ...` (key=value arguments
arrive as strings)."""

import datetime
import json

from harness import MOTO_ACCESS_KEY, TEST_ACCESS_KEY, TEST_SECRET_KEY

SKIP_MSG = "remote module (rustaws.creds.sts_session_token) does not support check mode"


def creds(url):
    return f"endpoint_url={url} access_key={TEST_ACCESS_KEY} secret_key={TEST_SECRET_KEY}"


def test_adhoc_string_arguments_are_converted(adhoc, moto):
    r = adhoc(f"{creds(moto.url)} duration_seconds=1000 validate_certs=no")
    assert (r.rc, r.status) == (0, "changed"), r.stdout + r.stderr
    assert r.result["changed"] is True
    assert r.result["sts_creds"]["access_key"] == MOTO_ACCESS_KEY
    # "1000" became the int 1000 and was sent: moto honours DurationSeconds.
    expiration = datetime.datetime.fromisoformat(r.result["sts_creds"]["expiration"])
    ahead = (expiration - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert abs(ahead - 1000) < 60, ahead


def test_adhoc_json_arguments(adhoc, moto):
    args = {"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
            "duration_seconds": 900, "aws_config": {"retries": {"max_attempts": 2}}}
    r = adhoc(json.dumps(args))
    assert (r.rc, r.status) == (0, "changed"), r.stdout + r.stderr


def test_adhoc_check_mode_skips_without_calling(adhoc, fake_sts):
    """Ad hoc --check: the options are validated, then the module is skipped."""
    r = adhoc(creds(fake_sts.url), check=True)
    assert (r.rc, r.status) == (0, "skipping"), r.stdout + r.stderr
    assert r.result == {"changed": False, "msg": SKIP_MSG}
    assert fake_sts.requests == []


def test_adhoc_check_mode_still_validates_values(adhoc, fake_sts):
    r = adhoc(f"{creds(fake_sts.url)} duration_seconds=100", check=True)
    assert (r.rc, r.status) == (2, "fatal"), r.stdout + r.stderr
    assert r.result["msg"].startswith("duration_seconds must be between 900 and 129600 seconds, got 100")
    assert fake_sts.requests == []


def test_adhoc_check_mode_still_rejects_unknown_options(adhoc, fake_sts):
    r = adhoc(f"{creds(fake_sts.url)} bogus=1", check=True)
    assert (r.rc, r.status) == (2, "fatal"), r.stdout + r.stderr
    assert r.result["msg"].startswith(
        "Unsupported parameters for (rustaws.creds.sts_session_token) module: bogus. Supported parameters include: ")
    assert fake_sts.requests == []


def test_adhoc_failure_is_reported_as_failed(adhoc, moto):
    r = adhoc(f"{creds(moto.url)} mfa_token=12345 mfa_serial_number=arn:aws:iam::123456789012:mfa/user")
    assert (r.rc, r.status) == (2, "fatal"), r.stdout + r.stderr
    assert r.result["msg"].startswith("mfa_token must be the six-digit code")
    assert "FAILED!" in r.stdout


def test_adhoc_deprecations_and_warnings_are_accepted_and_shown(adhoc, moto):
    """A result with `deprecations` and `warnings` must be accepted by ansible-core (a
    malformed deprecation fails the task) and shown."""
    r = adhoc(f"endpoint_url={moto.url} ec2_access_key={TEST_ACCESS_KEY} secret_key={TEST_SECRET_KEY} "
              "aws_config=max_pool_connections=5", env={"EC2_REGION": "eu-west-1"})
    assert (r.rc, r.status) == (0, "changed"), r.stdout + r.stderr
    assert ("[DEPRECATION WARNING]: Alias 'ec2_access_key' is deprecated; use 'access_key' instead."
            in r.stderr), r.stderr
    assert "[DEPRECATION WARNING]: Environment variable EC2_REGION (option region) is deprecated" in r.stderr
    assert "[WARNING]: aws_config keys with no effect in this module were ignored: max_pool_connections" in r.stderr
