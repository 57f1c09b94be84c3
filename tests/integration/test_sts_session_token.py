"""sts_session_token against moto, through the binary itself and through real ansible-core."""

import json
import re

import pytest

from conftest import TEST_ACCESS_KEY, TEST_SECRET_KEY

SECRET = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_success_shape(run):
    rc, r = run.module({**run.creds(), "duration_seconds": 1000})
    assert rc == 0 and r["changed"] is True
    assert list(r["sts_creds"]) == ["access_key", "secret_key", "session_token", "expiration"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r["sts_creds"]["expiration"])
    assert r["invocation"]["module_args"]["secret_key"] == SECRET


def test_playbook_module_defaults_chaining_and_check_mode(run):
    proc = run.playbook("session.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "failed=0" in proc.stdout


def test_adhoc_string_arguments_are_coerced(run):
    rc, status, r = run.adhoc(
        f"endpoint_url={run.moto} access_key={TEST_ACCESS_KEY} secret_key={TEST_SECRET_KEY} "
        "duration_seconds=900 validate_certs=no"
    )
    assert (rc, status) == (0, "CHANGED") and r["changed"] is True, r
    assert len(r["sts_creds"]["session_token"]) > 0


def test_adhoc_check_mode_skips(run):
    rc, status, _ = run.adhoc(f"endpoint_url={run.moto}", "--check")
    assert (rc, status) == (0, "SKIPPED")
    rc, status, r = run.adhoc(f"endpoint_url={run.moto} duration_seconds=100", "--check")
    assert (rc, status) == (2, "FAILED!"), r
    assert "duration_seconds must be between 900 and 129600 seconds" in r["msg"]


@pytest.mark.parametrize("name,option", [
    ("aws_access_key_id", "access_key"), ("aws_access_key", "access_key"),
    ("aws_secret_access_key", "secret_key"), ("aws_secret_key", "secret_key"),
    ("aws_session_token", "session_token"), ("aws_endpoint_url", "endpoint_url"),
    ("aws_region", "region"), ("aws_profile", "profile"),
])
def test_aliases(run, name, option, tmp_path):
    values = {"access_key": "AKIAALIASEXAMPLE0001", "secret_key": "alias-secret-value-123",
              "session_token": "alias-session-token-456", "endpoint_url": run.moto,
              "region": "ap-south-1", "profile": "p1"}
    args = {**run.creds(), name: values[option]}
    extra = {}
    if option == "profile":
        args = {"endpoint_url": run.moto, name: "p1"}
        extra = profile_file(tmp_path)
    elif option == "endpoint_url":
        args = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY, name: run.moto}
    rc, r = run.module(args, extra)
    assert rc == 0, r
    shown = r["invocation"]["module_args"][option]
    assert shown == (SECRET if option in ("secret_key", "session_token") else values[option])
    assert "deprecations" not in r


@pytest.mark.parametrize("name,option,value", [
    ("ec2_access_key", "access_key", "AKIALEGACYEXAMPLE001"),
    ("ec2_secret_key", "secret_key", "legacy-secret-value-1"),
    ("security_token", "session_token", "legacy-token-value-1"),
    ("aws_security_token", "session_token", "legacy-token-value-2"),
    ("access_token", "session_token", "legacy-token-value-3"),
    ("ec2_url", "endpoint_url", None), ("s3_url", "endpoint_url", None), ("endpoint", "endpoint_url", None),
    ("ec2_region", "region", "eu-central-1"), ("boto_profile", "profile", "p1"),
])
def test_deprecated_aliases_work_and_warn(run, name, option, value, tmp_path):
    value = value or run.moto
    args = {**run.creds(), name: value}
    extra = {}
    if option == "endpoint_url":
        args = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY, name: value}
    if option == "profile":
        args = {"endpoint_url": run.moto, name: value}
        extra = profile_file(tmp_path)
    rc, r = run.module(args, extra)
    assert rc == 0, r
    assert [d["msg"] for d in r["deprecations"]] == [
        f"Alias '{name}' is deprecated; use '{option}' instead. See the module docs for more information"
    ]
    assert r["deprecations"][0]["collection_name"] == "rustaws.creds"


def profile_file(tmp_path):
    cfg = tmp_path / "config"
    cfg.write_text(f"[profile p1]\naws_access_key_id = {TEST_ACCESS_KEY}\n"
                   f"aws_secret_access_key = {TEST_SECRET_KEY}\nregion = ca-central-1\n")
    return {"AWS_CONFIG_FILE": str(cfg)}


@pytest.mark.parametrize("var,option,deprecated", [
    ("AWS_ACCESS_KEY_ID", "access_key", False), ("AWS_ACCESS_KEY", "access_key", False),
    ("EC2_ACCESS_KEY", "access_key", True),
    ("AWS_SECRET_ACCESS_KEY", "secret_key", False), ("AWS_SECRET_KEY", "secret_key", False),
    ("EC2_SECRET_KEY", "secret_key", True),
    ("AWS_SESSION_TOKEN", "session_token", False), ("AWS_SECURITY_TOKEN", "session_token", True),
    ("EC2_SECURITY_TOKEN", "session_token", True),
    ("AWS_URL", "endpoint_url", False), ("EC2_URL", "endpoint_url", True), ("S3_URL", "endpoint_url", True),
    ("AWS_REGION", "region", False), ("AWS_DEFAULT_REGION", "region", False), ("EC2_REGION", "region", True),
    ("AWS_PROFILE", "profile", False), ("AWS_DEFAULT_PROFILE", "profile", False),
    ("AWS_CA_BUNDLE", "aws_ca_bundle", False),
])
def test_environment_fallbacks(run, var, option, deprecated, tmp_path):
    values = {"access_key": "AKIAENVEXAMPLE000001", "secret_key": "env-secret-value-1234",
              "session_token": "env-session-token-5678", "endpoint_url": run.moto,
              "region": "sa-east-1", "profile": "p1",
              "aws_ca_bundle": "/etc/ssl/certs/ca-certificates.crt"}
    args = {k: v for k, v in run.creds().items() if k != option}
    extra = {var: values[option]}
    if option == "access_key":
        args.pop("secret_key")
        extra["AWS_SECRET_ACCESS_KEY"] = TEST_SECRET_KEY
    if option == "secret_key":
        args.pop("access_key")
        extra["AWS_ACCESS_KEY_ID"] = TEST_ACCESS_KEY
    if option == "profile":
        args = {"endpoint_url": run.moto}
        extra.update(profile_file(tmp_path))
    rc, r = run.module(args, extra)
    assert rc == 0, r
    shown = r["invocation"]["module_args"][option]
    assert shown == (SECRET if option in ("secret_key", "session_token") else values[option])
    msgs = [d["msg"] for d in r.get("deprecations", [])]
    assert bool(msgs) == deprecated, msgs
    if deprecated:
        assert var in msgs[0]


def test_first_present_env_var_wins_even_if_empty_and_arguments_win(run):
    rc, r = run.module(run.creds(), {"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-3"})
    assert rc == 0 and r["invocation"]["module_args"]["region"] == ""
    rc, r = run.module({**run.creds(), "region": "us-west-2"}, {"AWS_REGION": "eu-west-3"})
    assert r["invocation"]["module_args"]["region"] == "us-west-2"


def test_no_log_masking(run):
    rc, r = run.module({**run.creds(), "mfa_token": "123456",
                        "mfa_serial_number": "arn:aws:iam::123456789012:mfa/user"})
    assert rc == 0, r
    args = r["invocation"]["module_args"]
    assert args["mfa_token"] == SECRET and args["secret_key"] == SECRET
    assert args["mfa_serial_number"] == "arn:aws:iam::********789012:mfa/user"
    # Returned credentials are never masked.
    assert r["sts_creds"]["access_key"] == "AKIAIOSFODNN7EXAMPLE"


def test_secrets_stay_out_of_verbose_ansible_output(run):
    token, secret = "654321", "verbose-secret-value-0042"
    proc = run.ansible(
        ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-vvv", "-m",
         "rustaws.creds.sts_session_token", "-a",
         json.dumps({"endpoint_url": run.moto, "access_key": TEST_ACCESS_KEY, "secret_key": secret,
                     "mfa_token": token, "mfa_serial_number": "arn:aws:iam::000000000000:mfa/u"})],
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in out
    assert secret not in out and token not in out


@pytest.mark.parametrize("args,message", [
    ({"bogus": 1}, "Unsupported parameters for (rustaws.creds.sts_session_token) module: bogus. "
                   "Supported parameters include: access_key, aws_ca_bundle, aws_config,"),
    ({"duration_seconds": "abc"}, "argument 'duration_seconds' is of type str and we were unable to "
                                  "convert to int: \"'abc'\" cannot be converted to an int"),
    ({"duration_seconds": 100}, "duration_seconds must be between 900 and 129600 seconds, got 100"),
    ({"duration_seconds": 129601}, "duration_seconds must be between 900 and 129600 seconds, got 129601"),
    ({"mfa_token": "12345"}, "mfa_token must be the six-digit code shown by the MFA device"),
    ({"mfa_token": "abcdef"}, "mfa_token must be the six-digit code shown by the MFA device"),
    ({"mfa_serial_number": "short"}, "mfa_serial_number must be the ARN or serial number of an MFA device"),
    ({"validate_certs": "maybe"}, "The value 'maybe' is not a valid boolean"),
    ({"endpoint_url": "127.0.0.1:5000"}, "endpoint_url must be an http:// or https:// URL, got '127.0.0.1:5000'"),
    ({"profile": "p"}, "Passing both a profile and access tokens is not supported."),
    ({"aws_config": {"bogus": 1}}, "aws_config has an unsupported key 'bogus'"),
    ({"aws_ca_bundle": "/nonexistent/ca.pem"}, "Could not read the CA bundle /nonexistent/ca.pem"),
])
def test_bad_values(run, args, message):
    rc, r = run.module({**run.creds(), **args})
    assert rc == 1 and r["failed"] is True
    assert message in r["msg"], r["msg"]


def test_bad_ca_bundle_content(run, tmp_path):
    bundle = tmp_path / "bad.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    rc, r = run.module({**run.creds(), "aws_ca_bundle": str(bundle)})
    assert rc == 1 and "certificate 1 of 1 cannot be used" in r["msg"], r


def test_credential_problems(run):
    rc, r = run.module({"endpoint_url": run.moto, "access_key": TEST_ACCESS_KEY})
    assert rc == 1 and r["msg"].startswith("access_key is set but secret_key is not")
    rc, r = run.module({"endpoint_url": run.moto})
    assert rc == 1 and r["msg"].startswith("Unable to locate credentials"), r
    rc, r = run.module({"endpoint_url": run.moto, "profile": "nope"})
    assert rc == 1 and r["msg"] == "Couldn't connect to AWS: The config profile (nope) could not be found"


def test_unreachable_endpoint(run, moto):
    from moto_server import free_port
    closed = f"http://127.0.0.1:{free_port()}"
    rc, r = run.module({**run.creds(), "endpoint_url": closed,
                        "aws_config": {"retries": {"total_max_attempts": 1}}})
    assert rc == 1
    assert r["msg"].startswith(f'Could not connect to the endpoint URL: "{closed}"'), r["msg"]


def test_args_file_problems(run, tmp_path):
    rc, r = run.raw([])
    assert rc == 1 and r["msg"].startswith("No module arguments file provided")
    rc, r = run.raw([str(tmp_path / "missing")])
    assert rc == 1 and r["msg"].startswith("Could not read the module arguments file")
    for content, words in [("", "is empty"), ("{not json", "is not valid JSON"), ("[1, 2]", "JSON array")]:
        path = tmp_path / "args-bad"
        path.write_text(content)
        rc, r = run.raw([str(path)])
        assert rc == 1 and words in r["msg"], r
