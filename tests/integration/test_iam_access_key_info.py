"""iam_access_key_info: a user's access keys, oldest first, as
amazon.aws.iam_access_key_info returns them (`access_keys`, `[]` for an unknown user), never a
secret, in check mode too; errors read 'Failed to get access keys for user: ...' with the AWS
error code. Added per key: `age_days`, `last_used` (GetAccessKeyLastUsed) and `is_signing_key`;
added options: `all_users` (ListUsers, every page) and `older_than_days` (a key audit in one
task).

Against the shared moto, moto enforcing IAM authentication (conftest's auth_moto) for refusals,
a moto of its own with 150 users for all_users, and the recording fake IAM of
tests/support/fake_iam.py for pagination, order, retries, last use, ages and the calls made. The
upstream scenario list uses this module throughout (playbooks/iam_access_key_scenarios.yml, run
by test_iam_access_key.py).
"""

import datetime
import functools
import json
import subprocess
import sys

import pytest
from moto_server import MotoServer, boto3_client, no_aws_environment

from harness import (
    HOST_LINE, REMOVE, TEST_ACCESS_KEY, TEST_SECRET_KEY, assert_network_safe, check_bad_value, merge_env,
)

MODULE = "iam_access_key_info"
FQCN = f"rustaws.creds.{MODULE}"
KEYS = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}


AMAZON_FIELDS = ["access_key_id", "create_date", "status", "user_name"]
FIELDS = AMAZON_FIELDS + ["age_days", "last_used", "is_signing_key"]
NEVER_USED = {"date": None, "service_name": "N/A", "region": "N/A"}


def without_invocation(result):
    return {k: v for k, v in result.items() if k != "invocation"}


def amazon_fields(keys):
    """The keys as amazon.aws returns them: the first four fields."""
    return [{f: k[f] for f in AMAZON_FIELDS} for k in keys]


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def days_ago(days, hours=1):
    """A creation date `days` days and `hours` hours back: whole days stay put while a test runs."""
    return now() - datetime.timedelta(days=days, hours=hours)


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
        assert list(k) == FIELDS
        assert len(k["create_date"]) == 25 and k["create_date"].endswith("+00:00"), k["create_date"]
        # Made by this module's fixture; never used; the task signs with moto's example key.
        assert (k["age_days"], k["last_used"], k["is_signing_key"]) == (0, NEVER_USED, False), k
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
    assert amazon_fields(r["access_keys"]) == fake_iam.keys("paged")
    assert [k["access_key_id"] for k in r["access_keys"]] == [k.access_key_id for k in made]
    assert [k["status"] for k in r["access_keys"]] == ["Active", "Inactive", "Active"]
    assert r["access_keys"][0]["create_date"] == made[0].created.replace(microsecond=0).isoformat()
    listing = [q for q in fake_iam.requests if q.action == "ListAccessKeys"]
    assert [(q.form.get("Marker"), q.form["UserName"]) for q in listing] == [
        (None, "paged"), ("1", "paged"), ("2", "paged")]
    # Then the last use of each key, oldest first.
    assert [(q.action, q.form.get("AccessKeyId")) for q in fake_iam.requests[3:]] == [
        ("GetAccessKeyLastUsed", k.access_key_id) for k in made]
    assert {(q.access_key, q.scope) for q in fake_iam.requests} == {(TEST_ACCESS_KEY, "us-east-1/iam")}


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
    assert [(q.action, q.attempt, q.max_attempts) for q in fake_iam.requests] == [
        ("ListAccessKeys", 1, 11), ("ListAccessKeys", 2, 11), ("GetAccessKeyLastUsed", 1, 11)]
    fake_iam.clear_requests()
    fake_iam.inject("ListAccessKeys", "503", repeat=True)
    rc, r, _, _ = run_named_module(MODULE, {**args, "aws_config": {"retries": {"total_max_attempts": 2}}},
                                   check_mode=True)
    assert rc == 1 and r["failed"] is True, r
    assert r["msg"] == ("Failed to get access keys for user: An error occurred (ServiceUnavailable) when calling the "
                        "ListAccessKeys operation: Service is unavailable, injected by the fake IAM")
    assert r["error"]["code"] == "ServiceUnavailable" and r["response_metadata"]["http_status_code"] == 503
    assert fake_iam.attempts("ListAccessKeys") == [1, 2]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("changes,message", [
    pytest.param({"user_name": REMOVE}, "missing required arguments: user_name", id="no-user_name"),
    pytest.param({"user_name": REMOVE, "all_users": False}, "missing required arguments: user_name (or all_users: "
                 "true, to list the keys of every user)", id="all_users-false-alone"),
    pytest.param({"all_users": True}, "parameters are mutually exclusive: user_name|all_users. all_users: true lists "
                 "the keys of every user; give user_name alone to list one user's.", id="user_name-and-all_users"),
    pytest.param({"all_users": "maybe"}, "argument 'all_users' is of type str and we were unable to convert to bool",
                 id="all_users-not-a-bool"),
    pytest.param({"older_than_days": -1}, "older_than_days must be 0 or more, got -1", id="older_than_days-negative"),
    pytest.param({"user_name": REMOVE, "all_users": True, "older_than_days": -90},
                 "older_than_days must be 0 or more, got -90", id="audit-negative"),
    pytest.param({"older_than_days": "ninety"}, "argument 'older_than_days' is of type str and we were unable to "
                 "convert to int", id="older_than_days-not-an-int"),
    pytest.param({"older_than_days": 1.5}, "argument 'older_than_days' is of type float and we were unable to "
                 "convert to int", id="older_than_days-fraction"),
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
    _, (_, r, _, _) = check_bad_value(functools.partial(run_named_module, MODULE), args, changes, message, fake_iam,
                                      match="prefix", check_mode=check_mode)
    assert "access_keys" not in r


@pytest.mark.parametrize("value", ["", None], ids=["empty", "null"])
def test_an_empty_user_name_fails_before_any_call(run_named_module, fake_iam, value):
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": value})
    assert fake_iam.requests == [], fake_iam.requests
    assert rc == 1 and r["failed"] is True and "access_keys" not in r, r


def test_adhoc(env, moto, listed_user, tmp_path):
    """`ansible -m rustaws.creds.iam_access_key_info -a 'username=...' --check -v`."""
    full_env = merge_env(env, {
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


# --------------------------------------------------------------------------------------------
# Per key: age, last use, the signing key


def test_each_key_has_its_age_last_use_and_signing_flag(run_named_module, fake_iam):
    """age_days: whole days since create_date; last_used as GetAccessKeyLastUsed says it (date
    cut to whole seconds; service and region as IAM gives them, N/A for a key never used);
    is_signing_key for the key the task signs with, and only that one."""
    old, new = fake_iam.add_user("alice", keys=2)
    fake_iam.add_user("bob", keys=1)
    fake_iam.set_created(old.access_key_id, days_ago(120))
    fake_iam.set_created(new.access_key_id, days_ago(3))
    used = datetime.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=datetime.timezone.utc)
    fake_iam.set_last_used(old.access_key_id, used, service="s3", region="eu-west-1")
    # The fake checks no signature: the task signs as alice's newer key.
    args = {"endpoint_url": fake_iam.url, "access_key": new.access_key_id, "secret_key": TEST_SECRET_KEY,
            "user_name": "alice"}
    for check_mode in (False, True):
        fake_iam.clear_requests()
        rc, r, _, _ = run_named_module(MODULE, args, check_mode=check_mode)
        assert rc == 0 and r["changed"] is False, r
        assert amazon_fields(r["access_keys"]) == fake_iam.keys("alice")
        assert [{f: k[f] for f in ("access_key_id", "age_days", "last_used", "is_signing_key")}
                for k in r["access_keys"]] == [
            {"access_key_id": old.access_key_id, "age_days": 120, "is_signing_key": False,
             "last_used": {"date": "2026-03-04T05:06:07+00:00", "service_name": "s3", "region": "eu-west-1"}},
            {"access_key_id": new.access_key_id, "age_days": 3, "is_signing_key": True, "last_used": NEVER_USED},
        ]
        assert "warnings" not in r
        assert [(q.action, q.form.get("UserName"), q.form.get("AccessKeyId")) for q in fake_iam.requests] == [
            ("ListAccessKeys", "alice", None),
            ("GetAccessKeyLastUsed", None, old.access_key_id),
            ("GetAccessKeyLastUsed", None, new.access_key_id),
        ]
        assert {q.access_key for q in fake_iam.requests} == {new.access_key_id}


def test_an_unknown_user_makes_no_further_call(run_named_module, fake_iam):
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "user_name": "nobody"})
    assert rc == 0 and r["access_keys"] == [], r
    assert fake_iam.actions() == ["ListAccessKeys"]


def test_the_signing_key_of_a_profile_resolved_once(run_named_module, fake_iam, tmp_path):
    """A profile's credential_process runs once per task: the signing key is told from the same
    credentials the calls are signed with."""
    (key,) = fake_iam.add_user("carol", keys=1)
    runs = tmp_path / "process-runs"
    script = tmp_path / "credentials.py"
    script.write_text(
        "import json, pathlib\n"
        f"p = pathlib.Path({str(runs)!r})\n"
        "p.write_text(p.read_text() + 'run\\n' if p.exists() else 'run\\n')\n"
        f"print(json.dumps({{'Version': 1, 'AccessKeyId': {key.access_key_id!r}, "
        f"'SecretAccessKey': {TEST_SECRET_KEY!r}}}))\n")
    config = tmp_path / "aws-config"
    config.write_text(f"[profile audit]\ncredential_process = {sys.executable} {script}\n")
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, "profile": "audit", "user_name": "carol"},
                                   env={"AWS_CONFIG_FILE": str(config)})
    assert rc == 0, r
    assert [k["is_signing_key"] for k in r["access_keys"]] == [True]
    assert runs.read_text() == "run\n"
    assert {q.access_key for q in fake_iam.requests} == {key.access_key_id}


def test_an_unanswered_last_use_leaves_the_listing_and_warns(run_named_module, fake_iam):
    """amazon.aws never asks for the last use, so no answer of GetAccessKeyLastUsed fails a
    listing: a refusal (a policy allowing ListAccessKeys only) gives last_used null and a warning
    naming the keys, the other keys still asked about; any other failure (here after the
    retries) gives null for that key and the rest, which are not asked about."""
    made = fake_iam.add_user("alice", keys=3)
    ids = [k.access_key_id for k in made]
    args = {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice"}
    fake_iam.inject("GetAccessKeyLastUsed", (403, "AccessDenied", "not authorized to perform: "
                                             "iam:GetAccessKeyLastUsed"), repeat=True)
    rc, r, _, _ = run_named_module(MODULE, args)
    assert rc == 0, r
    assert amazon_fields(r["access_keys"]) == fake_iam.keys("alice")
    assert [k["last_used"] for k in r["access_keys"]] == [None, None, None]
    assert r["warnings"] == [
        f"IAM refused GetAccessKeyLastUsed (AccessDenied) for 3 key(s): {', '.join(ids)}. Their last_used is "
        "null; allow iam:GetAccessKeyLastUsed to see when they were last used."]
    assert fake_iam.attempts("GetAccessKeyLastUsed") == [1, 1, 1], "a refusal is not retried"

    fake_iam.clear_requests()
    fake_iam.inject("GetAccessKeyLastUsed", None, "503", repeat=True)
    rc, r, _, _ = run_named_module(MODULE, {**args, "aws_config": {"retries": {"total_max_attempts": 2}}})
    assert rc == 0, r
    assert [k["last_used"] for k in r["access_keys"]] == [NEVER_USED, None, None]
    assert r["warnings"] == [
        f"GetAccessKeyLastUsed failed, so last_used is null for 2 key(s): {ids[1]}, {ids[2]} (the keys after the "
        f"first were not asked about). Failed to get when access key {ids[1]} was last used: An error occurred "
        "(ServiceUnavailable) when calling the GetAccessKeyLastUsed operation: Service is unavailable, injected "
        "by the fake IAM"]
    assert [q.form.get("AccessKeyId") for q in fake_iam.requests if q.action == "GetAccessKeyLastUsed"] == [
        ids[0], ids[1], ids[1]]


# --------------------------------------------------------------------------------------------
# older_than_days and all_users: a key audit in one task


def test_older_than_days_keeps_the_older_keys(run_named_module, fake_iam):
    """Older than N days: created more than N × 24 hours ago (so age_days >= N); the last use is
    asked only of the keys kept."""
    ancient, recent = fake_iam.add_user("alice", keys=2)
    fake_iam.set_created(ancient.access_key_id, days_ago(90, hours=1))
    fake_iam.set_created(recent.access_key_id, days_ago(89, hours=23))
    args = {"endpoint_url": fake_iam.url, **KEYS, "user_name": "alice"}
    for days, kept in [(90, [ancient]), (89, [ancient, recent]), (0, [ancient, recent]), (91, []),
                       (10**12, [])]:
        fake_iam.clear_requests()
        rc, r, _, _ = run_named_module(MODULE, {**args, "older_than_days": days})
        assert rc == 0, r
        assert [k["access_key_id"] for k in r["access_keys"]] == [k.access_key_id for k in kept], days
        assert all(k["age_days"] >= days for k in r["access_keys"])
        assert fake_iam.actions() == ["ListAccessKeys"] + ["GetAccessKeyLastUsed"] * len(kept), days


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_all_users_over_several_pages(run_named_module, fake_iam, check_mode):
    """ListUsers page by page (Marker), then each user's keys (paged too), then the last use of
    the keys kept: every user's keys, oldest first across users."""
    fake_iam.users_page_size, fake_iam.page_size = 2, 1
    ages = {"u1": [200, 5], "u2": [], "u3": [95], "u4": [400, 100], "u5": [1]}
    made = {}
    for user, user_ages in ages.items():
        made[user] = fake_iam.add_user(user, keys=len(user_ages))
        for key, age in zip(made[user], user_ages):
            fake_iam.set_created(key.access_key_id, days_ago(age))
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "all_users": True},
                                   check_mode=check_mode)
    assert rc == 0 and r["changed"] is False, r
    every = sorted(((age, user, key.access_key_id) for user in ages for key, age in zip(made[user], ages[user])),
                   reverse=True)
    assert [(k["age_days"], k["user_name"], k["access_key_id"]) for k in r["access_keys"]] == every
    assert all(list(k) == FIELDS and k["last_used"] == NEVER_USED for k in r["access_keys"])
    users_calls = [q.form.get("Marker") for q in fake_iam.requests if q.action == "ListUsers"]
    assert users_calls == [None, "2", "4"]
    keys_calls = [(q.form["UserName"], q.form.get("Marker")) for q in fake_iam.requests if q.action == "ListAccessKeys"]
    assert keys_calls == [("u1", None), ("u1", "1"), ("u2", None), ("u3", None), ("u4", None), ("u4", "1"),
                          ("u5", None)]
    assert fake_iam.actions() == ["ListUsers"] * 3 + ["ListAccessKeys"] * 7 + ["GetAccessKeyLastUsed"] * 6
    assert [q.form["AccessKeyId"] for q in fake_iam.requests if q.action == "GetAccessKeyLastUsed"] == [
        key for _, _, key in every]

    # The audit: older than 90 days, across every user.
    fake_iam.clear_requests()
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": fake_iam.url, **KEYS, "all_users": True,
                                            "older_than_days": 90}, check_mode=check_mode)
    assert rc == 0, r
    assert [(k["age_days"], k["user_name"]) for k in r["access_keys"]] == [(400, "u4"), (200, "u1"), (100, "u4"),
                                                                           (95, "u3")]
    assert fake_iam.actions() == ["ListUsers"] * 3 + ["ListAccessKeys"] * 7 + ["GetAccessKeyLastUsed"] * 4


def test_all_users_a_user_gone_meanwhile_and_refusals(run_named_module, fake_iam):
    """A user deleted between ListUsers and its ListAccessKeys has no keys; a refused ListUsers,
    or a refused listing of one user's keys (the message names the user), fails."""
    fake_iam.add_user("stays", keys=1)
    fake_iam.add_user("goes", keys=1)

    def delete_user(request):
        with fake_iam.lock:
            fake_iam.users.pop(request.form["UserName"])
        return 404, "NoSuchEntity", "The user with name goes cannot be found."

    fake_iam.inject("ListAccessKeys", None, delete_user)
    args = {"endpoint_url": fake_iam.url, **KEYS, "all_users": True}
    rc, r, _, _ = run_named_module(MODULE, args)
    assert rc == 0, r
    assert [k["user_name"] for k in r["access_keys"]] == ["stays"]

    for refused, failed_to, actions in [
        ("ListUsers", "Failed to list users", ["ListUsers"]),
        ("ListAccessKeys", "Failed to get access keys for user stays", ["ListUsers", "ListAccessKeys"]),
    ]:
        fake_iam.clear_requests()
        fake_iam.inject(refused, (403, "AccessDenied", f"not authorized to perform: iam:{refused}"))
        rc, r, _, _ = run_named_module(MODULE, args)
        assert rc == 1 and "access_keys" not in r, r
        assert r["msg"] == (f"{failed_to}: An error occurred (AccessDenied) when calling the {refused} "
                            f"operation: not authorized to perform: iam:{refused}")
        assert fake_iam.actions() == actions


# --------------------------------------------------------------------------------------------
# Against moto: 150 users, and the key a task signs with


@pytest.fixture(scope="module")
def moto_150():
    """A moto of its own (the shared one holds other tests' users): 150 users, a key for each,
    a second for every tenth. Yields (url, {user: [key ids]})."""
    with MotoServer() as url, no_aws_environment():
        iam = boto3_client("iam", url)
        made = {}
        for i in range(150):
            user = f"audit-{i:03d}"
            iam.create_user(UserName=user)
            made[user] = [iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
                          for _ in range(2 if i % 10 == 0 else 1)]
        yield url, made


def test_all_users_on_moto_150_users(run_named_module, moto_150):
    """Every key of all 150 users. (moto 5.2.5 answers ListUsers in one page whatever the count
    or MaxItems; the paging itself is shown against the fake IAM above.)"""
    url, made = moto_150
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": url, **KEYS, "all_users": True}, check_mode=True)
    assert rc == 0, r
    keys = r["access_keys"]
    assert sorted((k["user_name"], k["access_key_id"]) for k in keys) == sorted(
        (user, key) for user, ids in made.items() for key in ids)
    assert len(keys) == 165
    assert [k["create_date"] for k in keys] == sorted(k["create_date"] for k in keys)
    assert all(k["age_days"] == 0 and k["last_used"] == NEVER_USED and not k["is_signing_key"] for k in keys)
    # Nothing is older than a day.
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": url, **KEYS, "all_users": True, "older_than_days": 1})
    assert rc == 0 and r["access_keys"] == [], r


def test_the_signing_key_on_moto(run_named_module, moto):
    """Signed with one of the user's keys: moto records that use, and the module flags the key."""
    with no_aws_environment():
        iam = boto3_client("iam", moto.url)
        iam.create_user(UserName="signer")
        ids = [iam.create_access_key(UserName="signer")["AccessKey"] for _ in range(2)]
    try:
        rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": moto.url, "access_key": ids[1]["AccessKeyId"],
                                                "secret_key": ids[1]["SecretAccessKey"], "user_name": "signer"})
        assert rc == 0, r
        first, second = r["access_keys"]
        assert (first["access_key_id"], first["is_signing_key"], first["last_used"]) == (
            ids[0]["AccessKeyId"], False, NEVER_USED)
        assert (second["access_key_id"], second["is_signing_key"]) == (ids[1]["AccessKeyId"], True)
        assert (second["last_used"]["service_name"], second["last_used"]["region"]) == ("iam", "us-east-1")
        used = datetime.datetime.fromisoformat(second["last_used"]["date"])
        assert abs((now() - used).total_seconds()) < 120, used
    finally:
        with no_aws_environment():
            for key in ids:
                iam.delete_access_key(UserName="signer", AccessKeyId=key["AccessKeyId"])
            iam.delete_user(UserName="signer")
