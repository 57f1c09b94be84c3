"""iam_access_key: create, rotate, enable, disable and delete a user's access keys as
amazon.aws.iam_access_key does, with the differences the README lists.

Where it is shown:
- the upstream scenario list (amazon.aws's integration target for iam_access_key) as a playbook
  (playbooks/iam_access_key_scenarios.yml) against a moto server of this file's own that
  authenticates requests like AWS, so that the keys kept, rotated out and disabled can be tried;
- ad hoc `ansible -m rustaws.creds.iam_access_key` with string arguments, against the shared moto;
- bad input and AWS's refusals against moto, and what moto cannot show (which calls a run makes,
  retried attempts, a failure between two calls) against the recording fake IAM of
  tests/support/fake_iam.py;
- no_log: ansible-playbook at -vvv against the fake IAM, whose issued secrets are all known.
"""

import functools
import json
import re
import subprocess

import pytest
from moto_server import allow, authenticating_moto, boto3_client, no_aws_environment, user_with_key

from harness import (
    HOST_LINE, PLACEHOLDER, REMOVE, TEST_ACCESS_KEY, TEST_SECRET_KEY, assert_network_safe, check_bad_value, merge_env,
)

MODULE = "iam_access_key"
FQCN = f"rustaws.creds.{MODULE}"
KEYS = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
ACCOUNT = "123456789012"
KEY_ID = re.compile(r"^AKIA[A-Z0-9]{16}$")
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def without_invocation(result):
    return {k: v for k, v in result.items() if k != "invocation"}


# --------------------------------------------------------------------------------------------
# Servers


class AdminMoto:
    """moto enforcing IAM authentication, with an admin user allowed every IAM action."""

    def __init__(self, url, admin):
        self.url = url
        self.admin = admin  # {"access_key": ..., "secret_key": ...}

    def iam(self):
        return boto3_client("iam", self.url, (self.admin["access_key"], self.admin["secret_key"]))


@pytest.fixture(scope="module")
def iam_moto():
    with authenticating_moto(lambda iam: user_with_key(iam, "iam-admin", allow("iam:*"))) as (url, admin):
        yield AdminMoto(url, admin)


@pytest.fixture
def moto_user(moto):
    """new(name, keys=0): a user on the shared moto (no authentication); returns its key ids,
    oldest first. Users are deleted afterwards."""
    made = []

    def new(name, keys=0):
        with no_aws_environment():
            iam = boto3_client("iam", moto.url)
            iam.create_user(UserName=name)
            made.append(name)
            return [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in range(keys)]

    yield new
    with no_aws_environment():
        iam = boto3_client("iam", moto.url)
        for name in made:
            for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            iam.delete_user(UserName=name)


def moto_keys(url, name):
    """(id, status) of the user's keys on the shared moto, oldest first."""
    with no_aws_environment():
        metadata = boto3_client("iam", url).list_access_keys(UserName=name)["AccessKeyMetadata"]
    return [(k["AccessKeyId"], k["Status"]) for k in sorted(metadata, key=lambda k: k["CreateDate"])]


# --------------------------------------------------------------------------------------------
# The upstream scenarios (amazon.aws's integration target for iam_access_key)


def test_upstream_scenarios(playbook, iam_moto):
    """Every step of the upstream target, check mode first for each change; step 1 (create the
    user) and the user's deletion are done here, the rest in the playbook's assert tasks."""
    iam = iam_moto.iam()
    with no_aws_environment():
        iam.create_user(UserName="scenario-user")
    try:
        proc = playbook("iam_access_key_scenarios.yml", args=["-v"], env={
            "IAM_MOTO_URL": iam_moto.url, "IAM_TEST_USER": "scenario-user",
            "AWS_ACCESS_KEY_ID": iam_moto.admin["access_key"],
            "AWS_SECRET_ACCESS_KEY": iam_moto.admin["secret_key"],
        })
        # Every task ran: none skipped, the one refused create and the two refused calls ignored.
        assert re.search(r"^localhost\s+: ok=83\s+changed=19\s+unreachable=0\s+failed=0\s+skipped=0\s+"
                         r"rescued=0\s+ignored=3", proc.stdout, re.M), proc.stdout
        with no_aws_environment():
            assert iam.list_access_keys(UserName="scenario-user")["AccessKeyMetadata"] == []
    finally:
        with no_aws_environment():
            for key in iam.list_access_keys(UserName="scenario-user")["AccessKeyMetadata"]:
                iam.delete_access_key(UserName="scenario-user", AccessKeyId=key["AccessKeyId"])
            iam.delete_user(UserName="scenario-user")


# --------------------------------------------------------------------------------------------
# Calling AWS with the keys: kept, rotated out, the one the task signs with


@pytest.fixture(scope="module")
def self_managing(iam_moto):
    """A user allowed to manage access keys (moto matches policies on Resource "*" only), with
    two keys made by the admin: (old, new), each {"access_key", "secret_key"}."""
    iam = iam_moto.iam()
    with no_aws_environment():
        iam.create_user(UserName="self-rotator")
        iam.put_user_policy(UserName="self-rotator", PolicyName="own-keys", PolicyDocument=allow(
            "iam:ListAccessKeys", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey"))
        made = [iam.create_access_key(UserName="self-rotator")["AccessKey"] for _ in range(2)]
    return [{"access_key": k["AccessKeyId"], "secret_key": k["SecretAccessKey"]} for k in made]


def admin_keys(iam_moto, user):
    with no_aws_environment():
        metadata = iam_moto.iam().list_access_keys(UserName=user)["AccessKeyMetadata"]
    return [(k["AccessKeyId"], k["Status"]) for k in sorted(metadata, key=lambda k: k["CreateDate"])]


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "run"])
def test_rotation_never_deletes_the_key_the_task_signs_with(run_named_module, iam_moto, self_managing, check_mode):
    """README: amazon.aws deletes the oldest key even when it signs the task, and the create is
    then refused. Here: a failure naming the key, before any change (check mode too)."""
    old, new = self_managing
    before = admin_keys(iam_moto, "self-rotator")
    assert [k for k, _ in before] == [old["access_key"], new["access_key"]]
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": iam_moto.url, **old, "user_name": "self-rotator",
                                            "rotate_keys": True}, check_mode=check_mode)
    assert rc == 1 and r["failed"] is True, r
    assert r["msg"] == (
        f"rotate_keys would delete the oldest access key {old['access_key']} of user self-rotator, but that is the "
        "key this task signs its requests with: the create that follows would then be refused and the user left "
        "with one key. Nothing was changed. Run the task with other credentials (another user's, or a role's).")
    assert "deleted_access_key_id" not in r and "secret_access_key" not in r
    assert admin_keys(iam_moto, "self-rotator") == before


def test_rotated_out_key_is_refused_and_the_kept_and_new_keys_work(run_named_module, iam_moto, self_managing):
    """Signed with the newer key, the user rotates its own keys: the oldest goes, and AWS then
    refuses it; the signing key and the new key are both accepted."""
    old, kept = self_managing
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": iam_moto.url, **kept, "user_name": "self-rotator",
                                            "rotate_keys": True})
    assert rc == 0, r
    assert r["deleted_access_key_id"] == old["access_key"]
    new = {"access_key": r["access_key_id"], "secret_key": r["secret_access_key"]}
    assert KEY_ID.match(new["access_key"]) and len(new["secret_key"]) == 40, r
    assert admin_keys(iam_moto, "self-rotator") == [(kept["access_key"], "Active"), (new["access_key"], "Active")]
    arn = f"arn:aws:iam::{ACCOUNT}:user/self-rotator"
    for creds in (kept, new):
        rc, caller, _, _ = run_named_module("aws_caller_info", {"endpoint_url": iam_moto.url, **creds})
        assert rc == 0 and caller["arn"] == arn, caller
    # The new key has the user's permissions: listing, disabling the kept one.
    rc, listed, _, _ = run_named_module("iam_access_key_info", {"endpoint_url": iam_moto.url, **new,
                                                                "user_name": "self-rotator"})
    assert rc == 0, listed
    assert [k["access_key_id"] for k in listed["access_keys"]] == [kept["access_key"], new["access_key"]]
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": iam_moto.url, **new, "user_name": "self-rotator",
                                            "id": kept["access_key"], "active": False})
    assert rc == 0 and r["changed"] is True and r["access_key"]["status"] == "Inactive", r
    rc, refused, _, _ = run_named_module("aws_caller_info", {"endpoint_url": iam_moto.url, **old})
    assert rc == 1 and refused["error"]["code"] == "InvalidClientTokenId", refused
    assert refused["response_metadata"]["http_status_code"] == 403


@pytest.mark.parametrize("action,operation,args", [
    ("create", "CreateAccessKey", {}),
    ("update", "UpdateAccessKey", {"active": False}),
    ("delete", "DeleteAccessKey", {"state": "absent"}),
])
def test_a_write_aws_refuses(run_named_module, iam_moto, action, operation, args):
    """A user allowed to list keys and nothing else: each write fails with AWS's answer, the
    prefix said once ('Failed to <action> access key for user: '), and error.code."""
    iam = iam_moto.iam()
    name = f"list-only-{action}"
    with no_aws_environment():
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="list", PolicyDocument=allow("iam:ListAccessKeys"))
        creds = iam.create_access_key(UserName=name)["AccessKey"]
    creds = {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"]}
    if action != "create":
        args = {**args, "id": creds["access_key"]}
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": iam_moto.url, **creds, "user_name": name, **args})
    assert rc == 1 and r["failed"] is True, r
    assert r["msg"] == (f"Failed to {action} access key for user: An error occurred (AccessDenied) when calling the "
                        f"{operation} operation: User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to "
                        f"perform: iam:{operation}"), r["msg"]
    assert "Failed to Failed to" not in r["msg"]
    assert r["error"]["code"] == "AccessDenied"
    assert r["response_metadata"]["http_status_code"] == 403
    assert "changed" not in r or r["changed"] is False
    assert admin_keys(iam_moto, name) == [(creds["access_key"], "Active")]


# --------------------------------------------------------------------------------------------
# Ad hoc: key=value arguments arrive as strings


@pytest.fixture
def adhoc_iam(env, moto, tmp_path):
    """run(module, args, check=False): `ansible localhost -m rustaws.creds.<module> -a ARGS -v`
    against the shared moto (endpoint and the test keys from the environment)."""

    def run(module, module_args, check=False):
        full_env = merge_env(env, {
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
            "AWS_URL": moto.url, "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY})
        assert_network_safe(full_env)
        cmd = ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", f"rustaws.creds.{module}",
               "-a", module_args, "-v"] + (["--check"] if check else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=full_env, cwd=tmp_path,
                              stdin=subprocess.DEVNULL)
        found = list(HOST_LINE.finditer(proc.stdout))
        assert len(found) == 1, f"expected one host result:\n{proc.stdout}\n{proc.stderr}"
        result, _ = json.JSONDecoder().raw_decode(proc.stdout, found[0].end())
        return proc.returncode, found[0].group(1), result, proc.stdout + proc.stderr

    return run


def test_adhoc_string_arguments(adhoc_iam, moto, moto_user):
    """active=no, enabled=true, rotate_keys=yes/no/false, active=off, state=absent as ad hoc
    strings, and --check (a real rotation: the scenario playbook and the moto tests)."""
    moto_user("adhoc-user")
    rc, status, r, out = adhoc_iam(MODULE, "user_name=adhoc-user active=no")
    assert (rc, status) == (0, "changed"), out
    first = r["access_key_id"]
    assert r["access_key"]["status"] == "Inactive" and len(r["secret_access_key"]) == 40
    rc, status, r, out = adhoc_iam(MODULE, "username=adhoc-user rotate_keys=no enabled=true")
    assert (rc, status) == (0, "changed"), out
    second = r["access_key_id"]
    assert r["access_key"]["status"] == "Active" and "deleted_access_key_id" not in r
    assert moto_keys(moto.url, "adhoc-user") == [(first, "Inactive"), (second, "Active")]

    rc, status, r, out = adhoc_iam(MODULE, "user_name=adhoc-user rotate_keys=yes", check=True)
    assert (rc, status) == (0, "changed"), out
    assert r["deleted_access_key_id"] == first and "secret_access_key" not in r
    assert moto_keys(moto.url, "adhoc-user") == [(first, "Inactive"), (second, "Active")]
    rc, status, r, out = adhoc_iam(MODULE, f"user_name=adhoc-user id={second} active=off")
    assert (rc, status) == (0, "changed"), out
    assert r["access_key"]["status"] == "Inactive"
    rc, status, r, out = adhoc_iam(MODULE, f"user_name=adhoc-user id={first} state=absent rotate_keys=false")
    assert (rc, status) == (0, "changed"), out
    assert moto_keys(moto.url, "adhoc-user") == [(second, "Inactive")]


@pytest.mark.parametrize("args,message", [
    ("user_name=adhoc-bad id=AKIAIOSFODNN7EXAMPLE rotate_keys=yes",
     "parameters are mutually exclusive: rotate_keys|id"),
    ("user_name=adhoc-bad active=maybe",
     "argument 'active' is of type str and we were unable to convert to bool: "
     "The value 'maybe' is not a valid boolean."),
])
def test_adhoc_bad_arguments(adhoc_iam, moto, args, message):
    rc, status, r, out = adhoc_iam(MODULE, args)
    assert (rc, status) == (2, "fatal"), out
    assert r["msg"].startswith(message), r["msg"]
    assert "FAILED!" in out


# --------------------------------------------------------------------------------------------
# Bad input: one failure, before any call


KEY_A = "AKIAFAKEIAM000000001"


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("changes,message", [
    pytest.param({"user_name": REMOVE}, "missing required arguments: user_name", id="no-user_name"),
    pytest.param({"state": "gone"}, "value of state must be one of: present, absent, got: gone", id="state-choice"),
    pytest.param({"state": "Absent", "id": KEY_A}, "value of state must be one of: present, absent, got: Absent",
                 id="state-case"),
    pytest.param({"state": "absent"}, "state is absent but all of the following are missing: id",
                 id="absent-without-id"),
    pytest.param({"state": "absent", "rotate_keys": True}, "state is absent but all of the following are missing: id",
                 id="absent-rotate-without-id"),
    pytest.param({"rotate_keys": True, "id": KEY_A}, "parameters are mutually exclusive: rotate_keys|id",
                 id="rotate-with-id"),
    pytest.param({"rotate_keys": "yes", "id": KEY_A, "active": "no"},
                 "parameters are mutually exclusive: rotate_keys|id",
                 id="rotate-string-with-id"),
    pytest.param({"active": "maybe"}, "argument 'active' is of type str and we were unable to convert to bool: "
                 "The value 'maybe' is not a valid boolean. Valid booleans include: ", id="active-str"),
    pytest.param({"enabled": [1]}, "argument 'active' is of type list and we were unable to convert to bool: "
                 "<class 'list'> cannot be converted to a bool", id="enabled-list"),
    pytest.param({"rotate_keys": None}, "argument 'rotate_keys' is of type NoneType and we were unable to convert "
                 "to bool: <class 'NoneType'> cannot be converted to a bool", id="rotate_keys-null"),
    pytest.param({"rotate_keys": {"a": 1}}, "argument 'rotate_keys' is of type dict and we were unable to convert "
                 "to bool: <class 'dict'> cannot be converted to a bool", id="rotate_keys-dict"),
    pytest.param({"rotate_keys": 2}, "argument 'rotate_keys' is of type int and we were unable to convert to bool: "
                 "The value '2' is not a valid boolean.", id="rotate_keys-int"),
    pytest.param({"bogus": 1}, f"Unsupported parameters for ({FQCN}) module: bogus. Supported parameters include: ",
                 id="unknown-option"),
    pytest.param({"secret_key": REMOVE}, "access_key is set but secret_key is not", id="half-a-key-pair"),
    pytest.param({"endpoint_url": "127.0.0.1:5000"}, "endpoint_url must be an http:// or https:// URL, got "
                 "'127.0.0.1:5000'", id="endpoint-without-scheme"),
    pytest.param({"aws_config": {"retries": {"total_max_attempts": 0}}},
                 "aws_config.retries.total_max_attempts must be a whole number from 1 to 100, got 0",
                 id="aws_config-retries"),
])
def test_a_bad_option_fails_before_any_call(run_named_module, fake_iam, changes, message, check_mode):
    fake_iam.add_user("alice", ids=[KEY_A])
    args = {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice"}
    _, (_, r, _, _) = check_bad_value(functools.partial(run_named_module, MODULE), args, changes, message, fake_iam,
                                      match="prefix", check_mode=check_mode)
    assert "changed" not in r or r["changed"] is False
    assert not {"access_key", "access_key_id", "secret_access_key", "deleted_access_key_id", "error"} & set(r)
    assert [k["access_key_id"] for k in fake_iam.keys("alice")] == [KEY_A]


@pytest.mark.parametrize("value", ["", None], ids=["empty", "null"])
@pytest.mark.parametrize("extra", [{}, {"rotate_keys": True}, {"id": KEY_A, "state": "absent"}],
                         ids=["create", "rotate", "delete"])
def test_an_empty_user_name_fails_before_any_call(run_named_module, fake_iam, value, extra):
    fake_iam.add_user("alice", ids=[KEY_A])
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": value, **extra})
    assert fake_iam.requests == [], fake_iam.requests
    assert rc == 1 and r["failed"] is True, r
    assert re.search(r"user_?name", r["msg"], re.I), r["msg"]


def test_both_an_option_and_its_alias(run_named_module, fake_iam):
    """As AnsibleModule: the alias wins, with a warning."""
    fake_iam.add_user("bob", ids=[KEY_A])
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice",
                                            "username": "bob", "id": KEY_A, "active": True, "enabled": False})
    assert rc == 0, r
    assert r["access_key"]["status"] == "Inactive" and r["access_key"]["user_name"] == "bob"
    assert r["warnings"] == ["Both option user_name and its alias username are set.",
                             "Both option active and its alias enabled are set."]


# --------------------------------------------------------------------------------------------
# AWS's answers: unknown user, unknown key, the two-key limit (moto)


def test_unknown_user(run_named_module, moto):
    args = {"endpoint_url": moto.url, **KEYS, "user_name": "nobody-here"}
    rc, r, _, _ = run_named_module(MODULE, args)
    assert rc == 1 and r["failed"] is True
    assert r["msg"] == ("Failed to create access key for user: An error occurred (NoSuchEntity) when calling the "
                        "CreateAccessKey operation: The user with name nobody-here cannot be found.")
    assert r["error"] == {"code": "NoSuchEntity", "message": "The user with name nobody-here cannot be found."}
    assert r["response_metadata"]["http_status_code"] == 404
    # Check mode: changed (as amazon.aws), with a warning that the real run will fail.
    rc, r, _, _ = run_named_module(MODULE, args, check_mode=True)
    assert rc == 0 and without_invocation(r) == {"changed": True, "warnings": [
        "IAM user nobody-here was not found: creating its access key will fail unless the user is created first."]}
    # A key of an unknown user: not found (amazon.aws: no AWS error attached); absent: nothing to do.
    rc, r, _, _ = run_named_module(MODULE, {**args, "id": "AKIAIOSFODNN7EXAMPLE", "active": False})
    assert rc == 1 and without_invocation(r) == {
        "failed": True, "msg": 'Access key "AKIAIOSFODNN7EXAMPLE" not found attached to User "nobody-here"'}
    for check_mode in (False, True):
        rc, r, _, _ = run_named_module(MODULE, {**args, "id": "AKIAIOSFODNN7EXAMPLE", "state": "absent"},
                                       check_mode=check_mode)
        assert rc == 0 and without_invocation(r) == {"changed": False}, r


@pytest.mark.parametrize("key_id", ["AKIAIOSFODNN7EXAMPLE", "not an access key id: " + "A" * 200], ids=["key", "bad"])
def test_unknown_key_id(run_named_module, moto, moto_user, key_id):
    """The id is not checked for format (neither does amazon.aws): it is looked up in the user's
    keys. Updating an unknown key fails; deleting it is no change."""
    (only,) = moto_user(f"keys-{len(key_id)}", keys=1)
    args = {"endpoint_url": moto.url, **KEYS, "user_name": f"keys-{len(key_id)}", "id": key_id}
    for check_mode in (False, True):
        for extra in ({}, {"active": True}):
            rc, r, _, _ = run_named_module(MODULE, {**args, **extra}, check_mode=check_mode)
            assert rc == 1 and without_invocation(r) == {
                "failed": True, "msg": f'Access key "{key_id}" not found attached to User "{args["user_name"]}"'}, r
        rc, r, _, _ = run_named_module(MODULE, {**args, "state": "absent"}, check_mode=check_mode)
        assert rc == 0 and without_invocation(r) == {"changed": False}, r
    assert moto_keys(moto.url, args["user_name"]) == [(only, "Active")]


def test_a_third_key_without_rotation(run_named_module, moto, moto_user):
    keys = moto_user("two-keys", keys=2)
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": moto.url, **KEYS, "user_name": "two-keys"})
    assert rc == 1 and r["failed"] is True
    assert r["msg"] == ("Failed to create access key for user: An error occurred (LimitExceeded) when calling the "
                        "CreateAccessKey operation: Cannot exceed quota for AccessKeysPerUser: 2")
    assert r["error"]["code"] == "LimitExceeded"
    assert r["response_metadata"]["http_status_code"] == 409
    assert not {"access_key", "access_key_id", "secret_access_key", "deleted_access_key_id"} & set(r)
    assert moto_keys(moto.url, "two-keys") == [(k, "Active") for k in keys]


# --------------------------------------------------------------------------------------------
# What is sent; check mode makes no write call (fake IAM)


def test_what_is_sent(run_named_module, fake_iam):
    """Each change is one listing plus the one write it needs, signed with the task's key for
    us-east-1 (IAM is global); nothing else."""
    old, = fake_iam.add_user("alice", keys=1)
    args = {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice"}
    rc, created, _, _ = run_named_module(MODULE, args)
    assert rc == 0, created
    rc, r, _, _ = run_named_module(MODULE, {**args, "id": created["access_key_id"], "active": False})
    assert rc == 0, r
    rc, r, _, _ = run_named_module(MODULE, {**args, "rotate_keys": True})
    assert rc == 0 and r["deleted_access_key_id"] == old.access_key_id, r
    rc, r, _, _ = run_named_module(MODULE, {**args, "id": r["access_key_id"], "state": "absent"})
    assert rc == 0, r
    list_ = {"Action": "ListAccessKeys", "Version": "2010-05-08", "UserName": "alice"}
    assert [q.form for q in fake_iam.requests] == [
        list_, {"Action": "CreateAccessKey", "Version": "2010-05-08", "UserName": "alice"},
        list_, {"Action": "UpdateAccessKey", "Version": "2010-05-08", "UserName": "alice",
                "AccessKeyId": created["access_key_id"], "Status": "Inactive"},
        list_, {"Action": "DeleteAccessKey", "Version": "2010-05-08", "UserName": "alice",
                "AccessKeyId": old.access_key_id},
        {"Action": "CreateAccessKey", "Version": "2010-05-08", "UserName": "alice"},
        list_, {"Action": "DeleteAccessKey", "Version": "2010-05-08", "UserName": "alice",
                "AccessKeyId": r["invocation"]["module_args"]["id"]},
    ]
    assert {(q.access_key, q.scope, q.path) for q in fake_iam.requests} == {(TEST_ACCESS_KEY, "us-east-1/iam", "/")}
    assert fake_iam.keys("alice") == [{**created["access_key"], "status": "Inactive"}]


def test_the_calls_and_retries_of_a_run_share_one_connection(run_named_module, fake_iam):
    """A rotation's list, delete and create, and a retried attempt, go over one kept-alive
    connection: against AWS each new one would cost a TCP and a TLS handshake."""
    fake_iam.add_user("alice", keys=2)
    fake_iam.inject("CreateAccessKey", "503")
    args = {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice", "rotate_keys": True}
    rc, r, _, _ = run_named_module(MODULE, args)
    assert rc == 0 and r["deleted_access_key_id"], r
    assert [(q.action, q.attempt) for q in fake_iam.requests] == [
        ("ListAccessKeys", 1), ("DeleteAccessKey", 1), ("CreateAccessKey", 1), ("CreateAccessKey", 2)]
    assert len({q.peer for q in fake_iam.requests}) == 1, [q.peer for q in fake_iam.requests]


def test_the_result_of_a_create(run_named_module, fake_iam):
    """Keys in amazon.aws's order and shape; create_date cut to whole seconds, +00:00."""
    fake_iam.add_user("alice")
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice"})
    assert rc == 0, r
    (key,) = fake_iam.keys("alice")
    assert list(r) == ["changed", "access_key_id", "secret_access_key", "access_key", "invocation"]
    assert r["access_key"] == key and list(key) == ["access_key_id", "create_date", "status", "user_name"]
    assert r["access_key_id"] == key["access_key_id"] and KEY_ID.match(key["access_key_id"])
    assert r["secret_access_key"] == fake_iam.secret_of(key["access_key_id"])
    assert DATE.match(key["create_date"]) and key["create_date"].startswith("2024-01-02T03:")
    assert r["invocation"]["module_args"]["secret_key"] == PLACEHOLDER


@pytest.mark.parametrize("keys,statuses,args,expected", [
    pytest.param(0, (), {}, {"changed": True}, id="create"),
    pytest.param(1, (), {"active": False}, {"changed": True}, id="create-inactive"),
    pytest.param(1, (), {"rotate_keys": True}, {"changed": True}, id="rotate-below-the-limit"),
    pytest.param(2, (), {"rotate_keys": True}, {"changed": True, "deleted_access_key_id": "first"}, id="rotate"),
    pytest.param(2, ("Active", "Active"), {"id": "second", "active": False},
                 {"changed": True, "access_key": "second:Inactive"}, id="disable"),
    pytest.param(2, ("Active", "Inactive"), {"id": "second", "enabled": True},
                 {"changed": True, "access_key": "second:Active"}, id="enable"),
    pytest.param(2, (), {"id": "first", "state": "absent"}, {"changed": True}, id="delete"),
])
def test_check_mode_makes_no_write_call(run_named_module, fake_iam, keys, statuses, args, expected):
    made = fake_iam.add_user("alice", keys=keys, statuses=statuses)
    ids = {"first": made[0].access_key_id if made else None, "second": made[1].access_key_id if keys > 1 else None}
    before = fake_iam.keys("alice")
    args = {k: ids.get(v, v) if k == "id" else v for k, v in args.items()}
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice", **args},
                                   check_mode=True)
    assert rc == 0, r
    assert fake_iam.actions() == ["ListAccessKeys"]
    assert fake_iam.keys("alice") == before
    want = dict(expected)
    if "deleted_access_key_id" in want:
        want["deleted_access_key_id"] = ids[want["deleted_access_key_id"]]
    if "access_key" in want:
        which, status = want["access_key"].split(":")
        want["access_key"] = {**next(k for k in before if k["access_key_id"] == ids[which]), "status": status}
    assert without_invocation(r) == want


# --------------------------------------------------------------------------------------------
# A failure between two calls (fake IAM)

DENIED = (403, "AccessDenied", "User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: {}")


def test_create_refused_after_the_rotation_deleted_the_oldest_key(run_named_module, fake_iam):
    """README: the failure says the oldest key is gone, and carries deleted_access_key_id."""
    old, kept = fake_iam.add_user("alice", keys=2)
    fake_iam.inject("CreateAccessKey", (DENIED[0], DENIED[1], DENIED[2].format("iam:CreateAccessKey")))
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice",
                                            "rotate_keys": True})
    assert rc == 1 and r["failed"] is True, r
    assert r["msg"] == (
        "Failed to create access key for user: An error occurred (AccessDenied) when calling the CreateAccessKey "
        "operation: User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: iam:CreateAccessKey "
        f"(the rotation had already deleted the oldest key {old.access_key_id})")
    assert r["deleted_access_key_id"] == old.access_key_id
    assert r["error"]["code"] == "AccessDenied" and r["response_metadata"]["http_status_code"] == 403
    assert "secret_access_key" not in r
    assert fake_iam.actions() == ["ListAccessKeys", "DeleteAccessKey", "CreateAccessKey"]
    assert [k["access_key_id"] for k in fake_iam.keys("alice")] == [kept.access_key_id]


def test_a_create_whose_disabling_fails_still_returns_the_secret(run_named_module, fake_iam):
    """README: amazon.aws loses the new secret when UpdateAccessKey fails after the create; here
    the failure carries access_key_id, secret_access_key and access_key (still Active)."""
    old, _ = fake_iam.add_user("alice", keys=2)
    fake_iam.inject("UpdateAccessKey", (DENIED[0], DENIED[1], DENIED[2].format("iam:UpdateAccessKey")))
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice",
                                            "rotate_keys": True, "active": False})
    assert rc == 1 and r["failed"] is True, r
    new = fake_iam.keys("alice")[-1]
    assert r["msg"] == (
        f"Created access key {new['access_key_id']} for user alice, but failed to make it inactive; it is active, and "
        "its secret is in this result (secret_access_key): An error occurred (AccessDenied) when calling the "
        "UpdateAccessKey operation: User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: "
        "iam:UpdateAccessKey")
    assert r["access_key_id"] == new["access_key_id"]
    assert r["secret_access_key"] == fake_iam.secret_of(new["access_key_id"])
    assert r["access_key"] == new and new["status"] == "Active"
    assert r["deleted_access_key_id"] == old.access_key_id
    assert r["error"]["code"] == "AccessDenied"
    assert fake_iam.actions() == ["ListAccessKeys", "DeleteAccessKey", "CreateAccessKey", "UpdateAccessKey"]


@pytest.mark.parametrize("args", [{"state": "absent"}, {"rotate_keys": True}], ids=["delete", "rotate"])
def test_a_key_deleted_by_someone_else_meanwhile(run_named_module, fake_iam, args):
    """DeleteAccessKey answering NoSuchEntity (the key went between the listing and the delete):
    the state asked for holds; a rotation goes on to create."""
    old, kept = fake_iam.add_user("alice", keys=2)

    def deleted_meanwhile(request):
        fake_iam.remove_key("alice", old.access_key_id)
        return 404, "NoSuchEntity", f"The Access Key with id {old.access_key_id} cannot be found"

    fake_iam.inject("DeleteAccessKey", deleted_meanwhile)
    if "state" in args:
        args = {**args, "id": old.access_key_id}
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice", **args})
    assert rc == 0, r
    if "state" in args:
        assert without_invocation(r) == {"changed": False}
    else:
        assert r["changed"] is True and r["deleted_access_key_id"] == old.access_key_id
        assert fake_iam.actions() == ["ListAccessKeys", "DeleteAccessKey", "CreateAccessKey"]
        assert [k["access_key_id"] for k in fake_iam.keys("alice")] == [kept.access_key_id, r["access_key_id"]]


# --------------------------------------------------------------------------------------------
# Retries (fake IAM): throttling and transient errors are retried, attempts are counted


def test_default_and_configured_attempts(run_named_module, fake_iam):
    """The SDK announces the attempt budget in amz-sdk-request: 11 by default for IAM (amazon.aws
    retries 10 times), else what aws_config.retries says (max_attempts counts retries)."""
    fake_iam.add_user("alice")
    args = {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice", "id": KEY_A, "state": "absent"}
    for aws_config, budget in ((None, 11), ({"retries": {"total_max_attempts": 4}}, 4),
                               ({"retries": {"max_attempts": 2, "mode": "adaptive"}}, 3)):
        fake_iam.clear_requests()
        rc, r, _, _ = run_named_module(MODULE, {**args, **({"aws_config": aws_config} if aws_config else {})})
        assert rc == 0 and r["changed"] is False, r
        assert [(q.action, q.attempt, q.max_attempts) for q in fake_iam.requests] == [("ListAccessKeys", 1, budget)]


@pytest.mark.parametrize("action,fault,times,args", [
    pytest.param("ListAccessKeys", "throttle", 1, {"id": "first", "active": False}, id="list-Throttling-400"),
    pytest.param("CreateAccessKey", "503", 2, {}, id="create-ServiceUnavailable-503"),
    pytest.param("UpdateAccessKey", (400, "RequestLimitExceeded", "Request limit exceeded."), 1,
                 {"id": "first", "active": False}, id="update-RequestLimitExceeded-400"),
    pytest.param("DeleteAccessKey", (400, "ServiceUnavailable", "try later"), 1, {"id": "first", "state": "absent"},
                 id="delete-ServiceUnavailable-400"),
    pytest.param("DeleteAccessKey", (500, "InternalFailure", "oops"), 1, {"rotate_keys": True},
                 id="rotate-InternalFailure-500"),
])
def test_transient_errors_are_retried(run_named_module, fake_iam, action, fault, times, args):
    """`times` failed attempts, then the call succeeds: so does the module, and a write is
    carried out once."""
    first = fake_iam.add_user("alice", keys=1 if action == "CreateAccessKey" else 2)[0]
    args = {k: first.access_key_id if v == "first" else v for k, v in args.items()}
    fake_iam.inject(action, *[fault] * times)
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice", **args})
    assert rc == 0, r
    assert r["changed"] is True
    assert fake_iam.attempts(action) == list(range(1, times + 2))
    others = [q.attempt for q in fake_iam.requests if q.action != action]
    assert others and set(others) == {1}
    keys = fake_iam.keys("alice")
    if action == "CreateAccessKey":
        assert [k["access_key_id"] for k in keys] == [first.access_key_id, r["access_key_id"]]
        assert r["secret_access_key"] == fake_iam.secret_of(r["access_key_id"])
    elif args.get("rotate_keys"):
        assert r["deleted_access_key_id"] == first.access_key_id and len(keys) == 2
    elif args.get("state") == "absent":
        assert first.access_key_id not in [k["access_key_id"] for k in keys]
    else:
        assert keys[0]["status"] == "Inactive"


@pytest.mark.parametrize("action,fault,aws_config,attempts,message,status", [
    pytest.param("ListAccessKeys", "throttle", {"retries": {"total_max_attempts": 3}}, 3,
                 "Failed to get access keys for user: An error occurred (Throttling) when calling the ListAccessKeys "
                 "operation: Rate exceeded", 400, id="list-Throttling"),
    pytest.param("CreateAccessKey", "503", {"retries": {"max_attempts": 1}}, 2,
                 "Failed to create access key for user: An error occurred (ServiceUnavailable) when calling the "
                 "CreateAccessKey operation: Service is unavailable, injected by the fake IAM", 503,
                 id="create-ServiceUnavailable"),
    pytest.param("UpdateAccessKey", DENIED[:2] + ("not authorized",), None, 1,
                 "Failed to update access key for user: An error occurred (AccessDenied) when calling the "
                 "UpdateAccessKey operation: not authorized", 403, id="update-AccessDenied-not-retried"),
])
def test_errors_that_persist(run_named_module, fake_iam, action, fault, aws_config, attempts, message, status):
    """A fault on every attempt: a clear failure with the code after the configured attempts (a
    refusal is not retried at all); nothing was created."""
    fake_iam.add_user("alice", ids=[KEY_A])
    fake_iam.inject(action, fault, repeat=True)
    args = {"id": KEY_A, "active": False} if action == "UpdateAccessKey" else {}
    if aws_config:
        args["aws_config"] = aws_config
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice", **args})
    assert rc == 1 and r["failed"] is True, r
    assert r["msg"] == message
    assert r["error"]["code"] == message.split("(")[1].split(")")[0]
    assert r["response_metadata"]["http_status_code"] == status
    assert fake_iam.attempts(action) == list(range(1, attempts + 1))
    assert {q.max_attempts for q in fake_iam.requests} == {attempts if aws_config else 11}
    assert fake_iam.keys("alice") == [{"access_key_id": KEY_A, "create_date": fake_iam.keys("alice")[0]["create_date"],
                                       "status": "Active", "user_name": "alice"}]
    assert not {"access_key", "access_key_id", "secret_access_key"} & set(r)


# --------------------------------------------------------------------------------------------
# no_log: a created key's secret is shown only as the result's secret_access_key

NO_LOG_SECRET = "nOlOgSiGnInGsEcReT/rustaws+iamVerboseRun01"


def test_verbose_playbook_shows_created_secrets_only_where_they_belong(playbook, fake_iam, secret_recorder):
    """-vvv: the secrets of the created keys, of the key a failure returns, and the task's own
    secret key appear nowhere but as secret_access_key in a result (the session's scanner); a
    no_log task's secret appears nowhere at all."""
    for name in ("shown", "hidden", "failing"):
        fake_iam.add_user(name)
    fake_iam.inject("UpdateAccessKey", (DENIED[0], DENIED[1], DENIED[2].format("iam:UpdateAccessKey")))
    mark, issued_before = secret_recorder.mark(), len(fake_iam.issued_secrets)
    proc = playbook("iam_no_log_verbose.yml", args=["-vvv"], env={
        "FAKE_IAM_URL": fake_iam.url, "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": NO_LOG_SECRET})
    out = proc.stdout + proc.stderr
    issued = {name: fake_iam.keys(name)[0]["access_key_id"] for name in ("shown", "hidden", "failing")}
    secrets = {name: fake_iam.secret_of(key) for name, key in issued.items()}
    for name, secret in secrets.items():
        secret_recorder.add(secret, f"fake IAM: secret of the key created for {name}")
    # Each key was created once, and the created keys then signed requests.
    assert len(fake_iam.issued_secrets) == issued_before + 3
    signers = [q.access_key for q in fake_iam.requests]
    assert issued["shown"] in signers and issued["hidden"] in signers
    assert secret_recorder.secrets.get(NO_LOG_SECRET), "the signing secret was not learnt"
    # Shown: in the results of the create and of the failure; hidden: nowhere.
    assert secrets["shown"] in out and secrets["failing"] in out
    assert secrets["hidden"] not in out
    assert "the output has been hidden due to the fact that 'no_log: true' was specified" in out
    assert f'"secret_key": "{PLACEHOLDER}"' in out
    findings = secret_recorder.scan(since=mark)
    assert not findings, "\n".join(f"- {f.where}: {f.origin} {f.secret} in ...{f.context}..." for f in findings)
