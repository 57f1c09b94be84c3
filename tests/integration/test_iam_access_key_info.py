"""iam_access_key_info: a user's access keys, oldest first, as
amazon.aws.iam_access_key_info returns them (`access_keys`, `[]` for an unknown user), never a
secret, in check mode too; errors read 'Failed to get access keys for user: ...' with the AWS
error code.

Against the shared moto, moto enforcing IAM authentication (conftest's auth_moto) for refusals,
and the recording fake IAM of tests/support/fake_iam.py for pagination, order, retries and the
calls made. The upstream scenario list uses this module throughout
(playbooks/iam_access_key_scenarios.yml, run by test_iam_access_key.py).
"""

import json
import subprocess

import pytest
from fake_iam import FakeIAM
from moto_server import boto3_client, no_aws_environment

from conftest import HOST_LINE, TEST_ACCESS_KEY, TEST_SECRET_KEY, _merge_env, assert_network_safe

MODULE = "iam_access_key_info"
FQCN = f"rustaws.creds.{MODULE}"
KEYS = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}


def without_invocation(result):
    return {k: v for k, v in result.items() if k != "invocation"}


@pytest.fixture(scope="module")
def fake_iam_server():
    with FakeIAM() as server:
        yield server


@pytest.fixture
def fake_iam(fake_iam_server, known_secret):
    fake_iam_server.reset()
    yield fake_iam_server
    for secret in fake_iam_server.issued_secrets:
        known_secret(secret, "fake IAM: issued secret")


@pytest.fixture(scope="module")
def listed_user(moto):
    """On the shared moto: user info-user with two keys, the older one made inactive.
    Returns their ids, oldest first."""
    with no_aws_environment():
        iam = boto3_client("iam", moto.url)
        iam.create_user(UserName="info-user")
        ids = [iam.create_access_key(UserName="info-user")["AccessKey"]["AccessKeyId"] for _ in range(2)]
        iam.update_access_key(UserName="info-user", AccessKeyId=ids[0], Status="Inactive")
    yield ids
    with no_aws_environment():
        for key in ids:
            iam.delete_access_key(UserName="info-user", AccessKeyId=key)
        iam.delete_user(UserName="info-user")


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_the_keys_of_a_user(run_named_module, moto, listed_user, check_mode):
    """Oldest first, amazon.aws's keys in its order, whole-second dates; runs in check mode."""
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": moto.url, **KEYS, "user_name": "info-user"},
                                   check_mode=check_mode)
    assert rc == 0, r
    assert list(without_invocation(r)) == ["changed", "access_keys"]
    assert r["changed"] is False and "skipped" not in r
    keys = r["access_keys"]
    assert [(k["access_key_id"], k["status"], k["user_name"]) for k in keys] == [
        (listed_user[0], "Inactive", "info-user"), (listed_user[1], "Active", "info-user")]
    for k in keys:
        assert list(k) == ["access_key_id", "create_date", "status", "user_name"]
        assert len(k["create_date"]) == 25 and k["create_date"].endswith("+00:00"), k["create_date"]
    assert keys[0]["create_date"] <= keys[1]["create_date"]


def test_unknown_user_has_no_keys(run_named_module, moto):
    for check_mode in (False, True):
        rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": moto.url, **KEYS, "username": "no-such-user"},
                                       check_mode=check_mode)
        assert rc == 0 and without_invocation(r) == {"changed": False, "access_keys": []}, r


def test_oldest_first_across_pages(run_named_module, fake_iam):
    """IAM may page (Marker) and need not sort: every page is read, the keys sorted by date;
    dates with fractions come back as whole seconds, +00:00."""
    made = fake_iam.add_user("paged", keys=3, statuses=("Active", "Inactive", "Active"))
    fake_iam.newest_first, fake_iam.page_size = True, 1
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "paged"})
    assert rc == 0, r
    assert r["access_keys"] == fake_iam.keys("paged")
    assert [k["access_key_id"] for k in r["access_keys"]] == [k.access_key_id for k in made]
    assert [k["status"] for k in r["access_keys"]] == ["Active", "Inactive", "Active"]
    assert r["access_keys"][0]["create_date"] == made[0].created.replace(microsecond=0).isoformat()
    assert [(q.form.get("Marker"), q.form["UserName"]) for q in fake_iam.requests] == [
        (None, "paged"), ("1", "paged"), ("2", "paged")]
    assert {(q.action, q.access_key, q.scope) for q in fake_iam.requests} == {
        ("ListAccessKeys", TEST_ACCESS_KEY, "us-east-1/iam")}


@pytest.mark.parametrize("case,code,words", [
    ("no-permission", "AccessDenied", "is not authorized to perform: iam:ListAccessKeys"),
    ("unknown-key", "InvalidClientTokenId", "The security token included in the request is invalid."),
])
def test_a_refused_call(run_named_module, auth_moto, case, code, words):
    creds = {"no-permission": auth_moto.denied_key,
             "unknown-key": auth_moto.denied_key._replace(access_key="AKIAUNKNOWNEXAMPLE02")}[case]
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": auth_moto.url, "access_key": creds.access_key,
                                            "secret_key": creds.secret_key, "user_name": "ansible-tester"})
    assert rc == 1 and r["failed"] is True, r
    assert r["msg"].startswith(f"Failed to get access keys for user: An error occurred ({code}) when calling the "
                               "ListAccessKeys operation: "), r["msg"]
    assert words in r["msg"]
    assert "Failed to Failed to" not in r["msg"]
    assert r["error"]["code"] == code
    assert r["response_metadata"]["http_status_code"] == 403
    assert "access_keys" not in r


def test_retried_then_listed_and_a_persistent_throttle(run_named_module, fake_iam):
    fake_iam.add_user("alice", keys=1)
    args = {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice"}
    fake_iam.inject("ListAccessKeys", "throttle")
    rc, r, _, _ = run_named_module(MODULE, args)
    assert rc == 0 and len(r["access_keys"]) == 1, r
    assert [(q.attempt, q.max_attempts) for q in fake_iam.requests] == [(1, 11), (2, 11)]
    fake_iam.clear_requests()
    fake_iam.inject("ListAccessKeys", "503", repeat=True)
    rc, r, _, _ = run_named_module(MODULE, {**args, "aws_config": {"retries": {"total_max_attempts": 2}}},
                                   check_mode=True)
    assert rc == 1 and r["failed"] is True, r
    assert r["msg"] == ("Failed to get access keys for user: An error occurred (ServiceUnavailable) when calling the "
                        "ListAccessKeys operation: Service is unavailable, injected by the fake IAM")
    assert r["error"]["code"] == "ServiceUnavailable" and r["response_metadata"]["http_status_code"] == 503
    assert fake_iam.attempts("ListAccessKeys") == [1, 2]


REMOVE = object()


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("changes,message", [
    pytest.param({"user_name": REMOVE}, "missing required arguments: user_name", id="no-user_name"),
    pytest.param({"id": "AKIAIOSFODNN7EXAMPLE"}, f"Unsupported parameters for ({FQCN}) module: id. Supported "
                 "parameters include: ", id="iam_access_key-option"),
    pytest.param({"state": "absent"}, f"Unsupported parameters for ({FQCN}) module: state.", id="state"),
    pytest.param({"secret_key": REMOVE}, "access_key is set but secret_key is not", id="half-a-key-pair"),
    pytest.param({"endpoint_url": "127.0.0.1:5000"}, "endpoint_url must be an http:// or https:// URL, got "
                 "'127.0.0.1:5000'", id="endpoint-without-scheme"),
    pytest.param({"validate_certs": "maybe"}, "argument 'validate_certs' is of type str and we were unable to "
                 "convert to bool: The value 'maybe' is not a valid boolean.", id="validate_certs"),
    pytest.param({"aws_config": {"retries": {"mode": "eager"}}},
                 "aws_config.retries.mode must be one of: legacy, standard, adaptive, got: eager", id="aws_config"),
])
def test_a_bad_option_fails_before_any_call(run_named_module, fake_iam, changes, message, check_mode):
    fake_iam.add_user("alice", keys=1)
    args = {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice"}
    for k, v in changes.items():
        if v is REMOVE:
            args.pop(k)
        else:
            args[k] = v
    rc, r, _, _ = run_named_module(MODULE, args, check_mode=check_mode)
    assert rc == 1 and r["failed"] is True, r
    assert r["msg"].startswith(message), r["msg"]
    assert "access_keys" not in r
    assert fake_iam.requests == []


@pytest.mark.parametrize("value", ["", None], ids=["empty", "null"])
def test_an_empty_user_name_fails_before_any_call(run_named_module, fake_iam, value):
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": value})
    assert fake_iam.requests == [], fake_iam.requests
    assert rc == 1 and r["failed"] is True and "access_keys" not in r, r


def test_adhoc(env, moto, listed_user, tmp_path):
    """`ansible -m rustaws.creds.iam_access_key_info -a 'username=...' --check -v`."""
    full_env = _merge_env(env, {
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "AWS_URL": moto.url, "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY})
    assert_network_safe(full_env)
    proc = subprocess.run(["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", FQCN,
                           "-a", "username=info-user validate_certs=no", "--check", "-v"],
                          capture_output=True, text=True, timeout=120, env=full_env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL)
    found = list(HOST_LINE.finditer(proc.stdout))
    assert proc.returncode == 0 and len(found) == 1 and found[0].group(1) == "ok", proc.stdout + proc.stderr
    result, _ = json.JSONDecoder().raw_decode(proc.stdout, found[0].end())
    assert [k["access_key_id"] for k in result["access_keys"]] == listed_user
