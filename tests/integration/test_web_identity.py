"""sts_assume_role_with_web_identity: the token given directly or from a file, an
unsigned request that reaches endpoint_url, every option in the request, every bad value
failing before any call, and the token kept out of every output: results, failure messages
(also when the service repeats it), and ansible-playbook at -vvv.

moto accepts any token (an unsigned JWT here) and never shows the request nor sends Provider,
Audience or SubjectFromWebIdentityToken; the recording fake of tests/support/fake_role_sts.py
shows those, and refuses tokens for roles named error-<Code>, repeating the token it was sent.
"""

import functools
import json
import re

import pytest
from fake_role_sts import AUDIENCE, EXPIRATION, PROVIDER, SUBJECT, unsigned_jwt

from harness import (
    PLACEHOLDER, REMOVE, TEST_ACCESS_KEY, TEST_SECRET_KEY, assert_next_task_signs_as, bad_value_cases, check_bad_value,
)

MODULE = "sts_assume_role_with_web_identity"
ROLE = "arn:aws:iam::123456789012:role/app"
REJECTING_ROLE = "arn:aws:iam::123456789012:role/error-InvalidIdentityToken"


def filler(n):
    """n letters and digits that do not repeat one character (a long run of one character
    could contain another test's secret, which the session-wide scan would then report)."""
    text = "abcdefghijklmnopqrstuvwxyz0123456789"
    return (text * (n // len(text) + 1))[:n]


def token(subject):
    return unsigned_jwt({"iss": "https://oidc.example.test", "aud": "sts.amazonaws.test", "sub": subject})


@pytest.fixture
def token_file(tmp_path):
    """token_file(text, name='token'): a file holding text; returns its path as a string."""
    def write(text, name="token"):
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)
    return write


# --------------------------------------------------------------------------------------------
# Success


def test_token_given_directly_against_moto_and_the_credentials_in_the_next_task(run_named_module, moto):
    jwt = token("direct-moto")
    rc, r, stdout, _ = run_named_module(MODULE, {"endpoint_url": moto.url, "role_arn": ROLE,
                                                 "role_session_name": "app", "web_identity_token": jwt})
    assert rc == 0, r
    assert r["changed"] is True
    assert list(r["sts_creds"]) == ["access_key", "secret_key", "session_token", "expiration"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r["sts_creds"]["expiration"])
    assert r["sts_user"]["arn"] == "arn:aws:sts::123456789012:assumed-role/app/app"
    assert r["sts_user"]["assumed_role_id"].endswith(":app")
    # moto sends no Provider, Audience or SubjectFromWebIdentityToken: no such keys.
    assert not {"provider", "audience", "subject_from_web_identity_token"} & set(r)
    assert r["invocation"]["module_args"]["web_identity_token"] == PLACEHOLDER
    assert jwt not in stdout
    assert_next_task_signs_as(run_named_module, moto.url, r)


def test_every_option_against_moto(run_named_module, moto):
    rc, r, _, _ = run_named_module(MODULE, {
        "endpoint_url": moto.url, "role_arn": ROLE, "role_session_name": "every-option",
        "web_identity_token": token("every-option"), "provider_id": "www.amazon.com",
        "policy": {"Version": "2012-10-17", "Statement": []}, "policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "duration_seconds": 900})
    assert rc == 0, r
    assert r["sts_user"]["arn"] == "arn:aws:sts::123456789012:assumed-role/app/every-option"


def test_ceph_rgw_role_arn_without_an_account_is_sent(run_named_module, role_sts):
    """Ceph RGW names its roles arn:aws:iam:::role/<name>: taken, and sent as given."""
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, "role_arn": "arn:aws:iam:::role/app",
                                            "role_session_name": "app", "web_identity_token": token("ceph-arn")})
    assert rc == 0, r
    (request,) = role_sts.requests
    assert request.form["RoleArn"] == "arn:aws:iam:::role/app"


@pytest.mark.parametrize("keys_from", ["options", "environment"])
def test_token_file_unsigned_request_to_endpoint_url(run_named_module, role_sts, token_file, keys_from):
    """The file's trailing newline is not sent; the request carries no signature (nor session
    token) although keys are configured; it goes to endpoint_url, not AWS_ENDPOINT_URL (a closed
    port here); the claims the service sends come back."""
    jwt = token("file-fake")
    path = token_file(jwt + "\n")
    keys = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
            "session_token": "FwoGZXIvYXdzECallerSessionToken0001"}
    args = {"endpoint_url": role_sts.url, "role_arn": ROLE, "role_session_name": "app",
            "web_identity_token_file": path}
    env = None
    if keys_from == "options":
        args.update(keys)
    else:
        env = {"AWS_ACCESS_KEY_ID": keys["access_key"], "AWS_SECRET_ACCESS_KEY": keys["secret_key"],
               "AWS_SESSION_TOKEN": keys["session_token"]}
    rc, r, stdout, _ = run_named_module(MODULE, args, env=env)
    assert rc == 0, r
    (request,) = role_sts.requests
    assert request.form == {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": ROLE,
                            "RoleSessionName": "app", "WebIdentityToken": jwt}
    assert not request.signed, request.headers["authorization"]
    assert "x-amz-security-token" not in request.headers
    assert r["sts_creds"]["access_key"].startswith("ASIAFAKEROLE")
    assert r["sts_creds"]["expiration"] == EXPIRATION
    assert r["sts_user"] == {"assumed_role_id": "AROAFAKEROLE00000003:app",
                             "arn": "arn:aws:sts::123456789012:assumed-role/app/app"}
    assert (r["provider"], r["audience"], r["subject_from_web_identity_token"]) == (PROVIDER, AUDIENCE, SUBJECT)
    assert r["invocation"]["module_args"]["web_identity_token_file"] == path
    assert jwt not in stdout


def test_every_option_reaches_the_request(run_named_module, role_sts):
    jwt = token("options")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/Boundary"]
    rc, r, _, _ = run_named_module(MODULE, {
        "endpoint_url": role_sts.url, "role_arn": ROLE, "role_session_name": "all-options",
        "web_identity_token": jwt, "provider_id": "www.amazon.com", "policy": policy, "policy_arns": arns,
        "duration_seconds": 43200})
    assert rc == 0, r
    (request,) = role_sts.requests
    assert request.form == {
        "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": ROLE,
        "RoleSessionName": "all-options", "WebIdentityToken": jwt, "ProviderId": "www.amazon.com",
        "Policy": json.dumps(policy, separators=(",", ":")),
        "PolicyArns.member.1.arn": arns[0], "PolicyArns.member.2.arn": arns[1], "DurationSeconds": "43200",
    }
    assert not request.signed
    # A string policy goes as it is.
    role_sts.clear()
    text = '{"Version": "2012-10-17", "Statement": []}'
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, "role_arn": ROLE, "role_session_name": "s1",
                                            "web_identity_token": jwt, "policy": text})
    assert rc == 0, r
    assert role_sts.requests[0].form["Policy"] == text


# --------------------------------------------------------------------------------------------
# Bad values


BAD = [
    ("role_arn-short", {"role_arn": "invalid role arn"}, ["role_arn", "Invalid length for parameter RoleArn"]),
    ("role_arn-an-oidc-provider", {"role_arn": "arn:aws:iam::123456789012:oidc-provider/oidc.example.test"},
     ["role_arn must be a role ARN, arn:<partition>:iam::<account>:role/<name>, got "
      "'arn:aws:iam::123456789012:oidc-provider/oidc.example.test' (not a role: role/ must follow the account)"]),
    ("role_arn-a-name", {"role_arn": "app-role-for-the-cluster"},
     ["role_arn must be a role ARN, arn:<partition>:iam::<account>:role/<name>, got 'app-role-for-the-cluster'"]),
    ("role_session_name-pattern", {"role_session_name": "has space"},
     ["role_session_name", "Member must satisfy regular expression pattern"]),
    ("role_session_name-short", {"role_session_name": "x"}, ["role_session_name", "valid min length: 2"]),
    ("provider_id-short", {"provider_id": "abc"}, ["provider_id", "Invalid length for parameter ProviderId"]),
    ("policy-not-json", {"policy": "invalid policy"},
     ["Invalid policy document provided: policy: The policy is not in the valid JSON format. (expected value"]),
    ("policy-json-list", {"policy": "[]"},
     ["Invalid policy document provided: policy must be a JSON object", "got a string holding a list"]),
    ("policy-a-list", {"policy": [{"Version": "2012-10-17", "Statement": []}]},
     ["Invalid policy document provided: policy must be a JSON policy document", "got a list"]),
    ("policy-long", {"policy": {"Sid": filler(2100)}}, ["policy", "Invalid length for parameter Policy"]),
    ("policy_arns-eleven", {"policy_arns": [f"arn:aws:iam::aws:policy/P{i:02d}" for i in range(11)]},
     ["policy_arns", "at most 10"]),
    ("policy_arns-short", {"policy_arns": ["short"]}, ["policy_arns", "Invalid length for parameter PolicyArns"]),
    ("duration_seconds-not-int", {"duration_seconds": "an hour"}, ["duration_seconds", "cannot be converted to an int"]),
    ("duration_seconds-low", {"duration_seconds": 899}, ["duration_seconds", "valid min value: 900"]),
    ("duration_seconds-high", {"duration_seconds": 43201}, ["duration_seconds", "valid max value: 43200"]),
    ("token-short", {"web_identity_token": "abc"}, ["web_identity_token must be 4 to 20000 characters long, got 3"]),
    ("token-empty", {"web_identity_token": ""}, ["web_identity_token must be 4 to 20000 characters long, got 0"]),
    ("token-long", {"web_identity_token": filler(20001)}, ["web_identity_token must be 4 to 20000 characters long, got 20001"]),
    ("both-token-options", {"web_identity_token_file": "/nonexistent/token"},
     ["parameters are mutually exclusive: web_identity_token|web_identity_token_file"]),
    ("no-token-option", {"web_identity_token": REMOVE},
     ["one of the following is required: web_identity_token, web_identity_token_file"]),
    ("empty-token-file-option", {"web_identity_token": REMOVE, "web_identity_token_file": ""},
     ["one of the following is required: web_identity_token, web_identity_token_file"]),
    ("no-role-options", {"role_arn": REMOVE, "role_session_name": REMOVE},
     ["missing required arguments: role_arn, role_session_name"]),
    ("unknown-option", {"external_id": "x1"}, [f"Unsupported parameters for (rustaws.creds.{MODULE}) module: external_id."]),
]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("changes,words", bad_value_cases(BAD))
def test_a_bad_value_fails_before_any_call(run_named_module, role_sts, changes, words, check_mode):
    jwt = token("bad-values")
    args = {"endpoint_url": role_sts.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
            "role_arn": ROLE, "role_session_name": "s1", "web_identity_token": jwt}
    args, (_, r, stdout, _) = check_bad_value(functools.partial(run_named_module, MODULE), args, changes, words,
                                              role_sts, check_mode=check_mode)
    assert "skipped" not in r and "sts_creds" not in r
    assert jwt not in stdout
    if len(args.get("web_identity_token", "")) >= 3:
        assert args["web_identity_token"] not in r["msg"]


TOKEN_FILES = [
    ("missing", None, "web_identity_token_file: could not read '{path}': No such file or directory"),
    ("empty", b"", "web_identity_token_file: '{path}' is empty"),
    ("only-a-newline", b"\n", "web_identity_token_file: '{path}' is empty"),
    ("a-directory", "dir", "web_identity_token_file: could not read '{path}': Is a directory"),
    ("not-utf8", b"\xff\xfe\x00bad-token", "web_identity_token_file: could not read '{path}': stream did not contain valid UTF-8"),
    ("too-short", b"xyz\n", "web_identity_token_file '{path}': the token it holds must be 4 to 20000 characters long, got 3"),
    ("too-long", filler(20001).encode(), "web_identity_token_file '{path}': the token it holds must be 4 to 20000 characters long, got 20001"),
]


@pytest.mark.parametrize("content,message", [pytest.param(*t[1:], id=t[0]) for t in TOKEN_FILES])
def test_an_unusable_token_file_fails_before_any_call(run_named_module, role_sts, tmp_path, content, message):
    """(The file is read on the managed host only when the module runs: check mode skips.)"""
    path = tmp_path / "token"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    rc, r, stdout, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, "role_arn": ROLE,
                                                 "role_session_name": "s1", "web_identity_token_file": str(path)})
    assert rc == 1 and r["failed"] is True, r
    assert r["msg"].startswith(message.format(path=path)), r["msg"]
    assert role_sts.requests == []
    if content == b"xyz\n":
        assert "xyz" not in stdout.replace(str(path), "")


def test_check_mode_validates_and_skips_without_a_call(run_named_module, role_sts):
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, "role_arn": ROLE, "role_session_name": "s1",
                                            "web_identity_token": token("check")}, check_mode=True)
    assert rc == 0, r
    assert r["skipped"] is True and r["changed"] is False
    assert r["msg"] == f"remote module (rustaws.creds.{MODULE}) does not support check mode"
    assert role_sts.requests == []


# --------------------------------------------------------------------------------------------
# The token never shows


@pytest.mark.parametrize("given", ["option", "file"])
def test_a_rejected_token_is_masked_in_the_failure(run_named_module, role_sts, token_file, given):
    """The fake service repeats the token in its error message; the module masks it, a token
    read from a file as well as the no_log option."""
    jwt = token(f"rejected-{given}")
    source = {"web_identity_token": jwt} if given == "option" else {"web_identity_token_file": token_file(jwt + "\n")}
    rc, r, stdout, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, "role_arn": REJECTING_ROLE,
                                                 "role_session_name": "s1", **source})
    assert rc == 1 and r["failed"] is True
    assert role_sts.requests[0].form["WebIdentityToken"] == jwt, "the fake must have been sent the token"
    assert r["msg"].startswith("An error occurred (InvalidIdentityToken) when calling the "
                               "AssumeRoleWithWebIdentity operation: The request was refused"), r["msg"]
    assert r["msg"].endswith("for ********"), r["msg"]
    assert r["error"]["code"] == "InvalidIdentityToken"
    assert jwt not in stdout


def test_the_token_never_shows_in_a_verbose_playbook(playbook, role_sts, token_file, collections_dir):
    """ansible-playbook -vvv: a token from a file (moto), its credentials in the next task, a token
    given directly (the fake), and both refused by the service. Neither token appears anywhere
    ansible printed; the invocation shows the option masked."""
    file_jwt, direct_jwt = token("verbose-file"), token("verbose-direct")
    path = token_file(file_jwt + "\n", name="verbose-token")
    proc = playbook("web_identity_verbose.yml", args=["-vvv"], env={
        "ROLE_STS_URL": role_sts.url, "WEB_IDENTITY_TOKEN_FILE": path, "DIRECT_WEB_TOKEN": direct_jwt})
    out = proc.stdout + proc.stderr
    assert (f"rustaws.creds: running {MODULE} in place: "
            f"{collections_dir}/ansible_collections/rustaws/creds/libexec/Linux-x86_64/rustaws-creds") in out
    assert f'"web_identity_token": "{PLACEHOLDER}"' in out
    assert "InvalidIdentityToken" in out
    sent = [r.form["WebIdentityToken"] for r in role_sts.requests]
    assert sent == [direct_jwt, direct_jwt, file_jwt], "the fake must have been sent the tokens"
    assert file_jwt not in out
    assert direct_jwt not in out
