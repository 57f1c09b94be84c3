"""Bad inputs. Each run of the installed binary must print exactly one JSON object on one
line, nothing on stderr, exit 1, and say clearly what is wrong. The endpoint is the recording
fake STS, so the tests also see that nothing was sent."""

import module_spec
import pytest

from harness import REMOVE, TEST_ACCESS_KEY, TEST_SECRET_KEY, bad_value_cases, check_bad_value

# AnsibleModule's list of the module's options and aliases, from the spec.
SUPPORTED = module_spec.supported_parameters("sts_session_token")
MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"

BAD = [
    ("unknown-option", {"bogus": 1},
     "Unsupported parameters for (rustaws.creds.sts_session_token) module: bogus. " + SUPPORTED),
    ("duration-not-int", {"duration_seconds": "abc"},
     "argument 'duration_seconds' is of type str and we were unable to convert to int"),
    ("duration-too-short", {"duration_seconds": 100}, "duration_seconds must be between 900 and 129600 seconds"),
    ("duration-too-long", {"duration_seconds": 129601}, "duration_seconds must be between 900 and 129600 seconds"),
    ("mfa-token-five-digits", {"mfa_serial_number": MFA_SERIAL, "mfa_token": "12345"},
     "mfa_token must be the six-digit code"),
    ("mfa-token-letters", {"mfa_serial_number": MFA_SERIAL, "mfa_token": "abcdef"},
     "mfa_token must be the six-digit code"),
    ("mfa-serial-short", {"mfa_serial_number": "short", "mfa_token": "123456"}, "mfa_serial_number must be"),
    ("mfa-serial-without-token", {"mfa_serial_number": MFA_SERIAL},
     "mfa_serial_number is set but mfa_token is not: an MFA device is used with the six-digit code it shows now"),
    ("mfa-token-without-serial", {"mfa_token": "123456"},
     "mfa_token is set but mfa_serial_number is not"),
    ("validate-certs-maybe", {"validate_certs": "maybe"}, "is not a valid boolean"),
    ("endpoint-without-scheme", {"endpoint_url": "127.0.0.1:5000"}, "endpoint_url must be an http:// or https:// URL"),
    ("aws-config-unknown-key", {"aws_config": {"bogus": 1}}, "aws_config has an unsupported key 'bogus'"),
    ("profile-and-keys", {"profile": "p1"}, "Passing both a profile and access tokens is not supported."),
    ("access-key-without-secret", {"secret_key": REMOVE}, "access_key is set but secret_key is not"),
    ("secret-without-access-key", {"access_key": REMOVE}, "secret_key is set but access_key is not"),
    ("session-token-without-keys", {"access_key": REMOVE, "secret_key": REMOVE, "session_token": "FwoGZXIvYXdzEToken0001"},
     "session_token is set but access_key and secret_key are not"),
]


@pytest.mark.parametrize("changes,message", bad_value_cases(BAD))
def test_bad_option_values(run_module, fake_sts, changes, message):
    args = {"endpoint_url": fake_sts.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
    check_bad_value(run_module, args, changes, message, fake_sts, match="part")


def test_bad_value_message_quotes_the_value(run_module, fake_sts):
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url, "duration_seconds": "abc"})
    assert r["msg"] == ("argument 'duration_seconds' is of type str and we were unable to convert to int: "
                        "\"'abc'\" cannot be converted to an int")
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url, "validate_certs": "maybe"})
    assert "The value 'maybe' is not a valid boolean" in r["msg"], r["msg"]


def test_unreachable_endpoint(run_module, closed_url):
    rc, r, _, _ = run_module({"endpoint_url": closed_url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
                              "aws_config": {"retries": {"total_max_attempts": 1}}})
    assert rc == 1
    assert r["msg"].startswith(f'Could not connect to the endpoint URL: "{closed_url}"'), r["msg"]


def test_unknown_profile(run_module, fake_sts, aws_config_file):
    env = aws_config_file(f"[profile p1]\naws_access_key_id = {TEST_ACCESS_KEY}\naws_secret_access_key = {TEST_SECRET_KEY}\n")
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url, "profile": "nope"}, env=env)
    assert rc == 1
    assert "The config profile (nope) could not be found" in r["msg"], r["msg"]
    assert fake_sts.requests == []


def test_no_credentials_at_all(run_module, fake_sts):
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url})
    assert rc == 1
    assert r["msg"].startswith("Unable to locate credentials"), r["msg"]
    assert fake_sts.requests == []


@pytest.mark.parametrize("content,message", [
    ("this is not a certificate bundle\n", "holds no PEM certificate"),
    ("-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n", "is not valid PEM"),
], ids=["no-pem-block", "broken-pem"])
def test_ca_bundle_with_garbage(run_module, fake_sts, tmp_path, content, message):
    bundle = tmp_path / "garbage.pem"
    bundle.write_text(content)
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url, "access_key": TEST_ACCESS_KEY,
                              "secret_key": TEST_SECRET_KEY, "aws_ca_bundle": str(bundle)})
    assert rc == 1
    assert message in r["msg"] and str(bundle) in r["msg"], r["msg"]
    assert fake_sts.requests == []


def test_ca_bundle_missing(run_module, fake_sts, tmp_path):
    missing = tmp_path / "missing.pem"
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url, "access_key": TEST_ACCESS_KEY,
                              "secret_key": TEST_SECRET_KEY, "aws_ca_bundle": str(missing)})
    assert rc == 1
    assert r["msg"].startswith(f"Could not read the CA bundle {missing}"), r["msg"]
    assert fake_sts.requests == []


# The args file itself: the binary is run directly with a bad file, or with none.

def test_args_file_missing(run_binary, tmp_path):
    path = tmp_path / "no-such-args"
    rc, r, _, _ = run_binary([path])
    assert rc == 1 and r["failed"] is True
    assert r["msg"].startswith(f"Could not read the module arguments file {path}"), r["msg"]


@pytest.mark.parametrize("content,message", [
    ("", "is empty"),
    ("{not json", "is not valid JSON"),
    ('[{"endpoint_url": "http://127.0.0.1:1"}]', "holds a JSON array"),
], ids=["empty", "not-json", "json-array"])
def test_args_file_unusable(run_binary, tmp_path, content, message):
    path = tmp_path / "args"
    path.write_text(content)
    rc, r, _, _ = run_binary([path])
    assert rc == 1 and r["failed"] is True
    assert r["msg"].startswith(f"The module arguments file {path} "), r["msg"]
    assert message in r["msg"], r["msg"]


def test_no_args_file_argument(run_binary):
    rc, r, _, _ = run_binary([])
    assert rc == 1 and r["failed"] is True
    assert r["msg"].startswith("No module arguments file provided"), r["msg"]


def test_ignore_unknown_opts_from_the_controller_is_honoured(run_module, moto):
    """ansible-core sets _ansible_ignore_unknown_opts for some internal calls; then unknown
    options are dropped instead of rejected."""
    rc, r, _, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
                              "bogus": 1}, ignore_unknown_opts=True)
    assert rc == 0, r
    assert "bogus" not in r["invocation"]["module_args"]
