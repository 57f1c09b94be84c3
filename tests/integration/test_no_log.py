"""no_log options (secret_key, session_token, mfa_token) are hidden the way AnsibleModule
hides them; the credentials the module obtains are returned whole."""

from conftest import MOTO_ACCESS_KEY, PLACEHOLDER, TEST_ACCESS_KEY

SECRET = "Zx9vQ2mN7pL4rT8kW3yB6cF1hJ5sD0gA2eU7iO4q"
SERIAL = "arn:aws:iam::123456789012:mfa/user"


def test_no_log_options_are_masked_and_issued_credentials_are_not(run_module, moto):
    token = "FwoGZXIvYXdzEInputSessionToken/for+masking0000"
    rc, r, stdout, _ = run_module({
        "endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET,
        "session_token": token, "mfa_token": "123456", "mfa_serial_number": SERIAL,
    })
    assert rc == 0, r
    args = r["invocation"]["module_args"]
    assert args["mfa_token"] == PLACEHOLDER
    assert args["secret_key"] == PLACEHOLDER
    assert args["session_token"] == PLACEHOLDER
    # A no_log value inside another value is replaced, as AnsibleModule does.
    assert args["mfa_serial_number"] == "arn:aws:iam::********789012:mfa/user"
    assert args["access_key"] == TEST_ACCESS_KEY
    # The new credentials are returned as they are.
    creds = r["sts_creds"]
    assert creds["access_key"] == MOTO_ACCESS_KEY
    assert creds["secret_key"].startswith("wJalrXUtnFEMI/") and "*" not in creds["secret_key"]
    assert len(creds["session_token"]) > 100 and PLACEHOLDER not in creds["session_token"]
    for value in (SECRET, token, "123456"):
        assert value not in stdout


def test_issued_credentials_equal_to_a_no_log_input_are_still_returned(run_module, moto):
    """moto always issues the same secret; given as the input secret_key (no_log), it must be
    hidden in invocation but returned whole in sts_creds."""
    rc, first, _, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET})
    assert rc == 0, first
    issued = first["sts_creds"]
    rc, r, _, _ = run_module({"endpoint_url": moto.url, "access_key": issued["access_key"],
                              "secret_key": issued["secret_key"], "session_token": issued["session_token"]})
    assert rc == 0, r
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
