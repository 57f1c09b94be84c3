"""sts_assume_role: every option reaches the AssumeRole request, every bad value fails
before any call with a message naming the option (botocore's words where the upstream tests
assert them), check mode, the service's own errors, and the upstream scenario list
(amazon.aws's integration target for sts_assume_role) where moto can show it.

Where it is shown:
- the request: the recording fake STS of tests/support/fake_role_sts.py, which answers AssumeRole
  (moto never shows what it was sent, and checks none of AWS's limits);
- the scenarios: a moto server of this module's own that authenticates requests (IAM policies,
  role trust policies and their sts:ExternalId condition are enforced);
- credentials used by the next task: plain moto, whose GetCallerIdentity knows the sessions it
  issued; and a real ansible-playbook run (playbooks/assume_*.yml).
"""

import functools
import json
import re

import pytest
from fake_role_sts import EXPIRATION
from moto_server import allow, authenticating_moto, user_with_key

from harness import (
    PLACEHOLDER, REMOVE, TEST_ACCESS_KEY, TEST_SECRET_KEY, assert_next_task_signs_as, bad_value_cases, check_bad_value,
)

MODULE = "sts_assume_role"
ROLE = "arn:aws:iam::123456789012:role/deploy"
KEYS = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"
MFA_CODE = "024680"  # not inside the account number: a no_log value is masked wherever it appears
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read releases", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::releases/*"}]}
POLICY_ARNS = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/Boundary"]


def filler(n):
    """n letters and digits that do not repeat one character (a long run of one character
    could contain another test's secret, which the session-wide scan would then report)."""
    text = "abcdefghijklmnopqrstuvwxyz0123456789"
    return (text * (n // len(text) + 1))[:n]


def every_option():
    return {
        "role_arn": ROLE, "role_session_name": "release", "policy": POLICY, "policy_arns": POLICY_ARNS,
        "duration_seconds": 900, "external_id": "partner-42", "mfa_serial_number": MFA_SERIAL,
        "mfa_token": MFA_CODE, "tags": {"project": "release", "cost-center": 1234},
        "transitive_tag_keys": ["project"], "source_identity": "alice",
    }


# --------------------------------------------------------------------------------------------
# What is sent, and what comes back


def test_every_option_reaches_the_request(run_named_module, role_sts):
    rc, r, stdout, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, **KEYS, **every_option()})
    assert rc == 0, r
    (request,) = role_sts.requests
    assert request.access_key == TEST_ACCESS_KEY
    assert request.form == {
        "Action": "AssumeRole", "Version": "2011-06-15",
        "RoleArn": ROLE, "RoleSessionName": "release",
        # A dict is sent as compact JSON, in the order given.
        "Policy": json.dumps(POLICY, separators=(",", ":")),
        "PolicyArns.member.1.arn": POLICY_ARNS[0], "PolicyArns.member.2.arn": POLICY_ARNS[1],
        "DurationSeconds": "900", "ExternalId": "partner-42",
        "SerialNumber": MFA_SERIAL, "TokenCode": MFA_CODE,
        "Tags.member.1.Key": "project", "Tags.member.1.Value": "release",
        # A number as a tag value is sent as its text.
        "Tags.member.2.Key": "cost-center", "Tags.member.2.Value": "1234",
        "TransitiveTagKeys.member.1": "project",
        "SourceIdentity": "alice",
    }
    assert r["changed"] is True
    (key, secret, token) = (r["sts_creds"][k] for k in ("access_key", "secret_key", "session_token"))
    assert key.startswith("ASIAFAKEROLE") and secret.startswith("fakeRoleSecret/") and "Token" in token
    assert list(r["sts_creds"]) == ["access_key", "secret_key", "session_token", "expiration"]
    assert r["sts_creds"]["expiration"] == EXPIRATION
    assert r["sts_user"] == {"assumed_role_id": "AROAFAKEROLE00000006:release",
                             "arn": "arn:aws:sts::123456789012:assumed-role/deploy/release"}
    assert r["source_identity"] == "alice"
    # mfa_token is no_log: hidden in invocation and nowhere in the output.
    args = r["invocation"]["module_args"]
    assert args["mfa_token"] == PLACEHOLDER and args["secret_key"] == PLACEHOLDER
    assert args["mfa_serial_number"] == MFA_SERIAL and args["policy"] == POLICY
    assert MFA_CODE not in stdout and TEST_SECRET_KEY not in stdout


def test_a_string_policy_is_sent_as_it_is_and_unset_options_are_not_sent(run_named_module, role_sts):
    policy = '{ "Version": "2012-10-17",\n  "Statement": [] }'
    rc, r, _, _ = run_named_module(MODULE, {
        "endpoint_url": role_sts.url, **KEYS, "role_arn": ROLE, "role_session_name": "s1", "policy": policy,
        "policy_arns": [], "tags": {}, "transitive_tag_keys": [],
    })
    assert rc == 0, r
    (request,) = role_sts.requests
    assert request.form == {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": ROLE,
                            "RoleSessionName": "s1", "Policy": policy}
    # No SourceIdentity in the answer: no source_identity key.
    assert set(r) == {"changed", "sts_creds", "sts_user", "env", "expires_in", "invocation"}


@pytest.mark.parametrize("role_arn", [
    "arn:aws-cn:iam::123456789012:role/service-role/ci/deploy",
    "arn:aws-us-gov:iam::123456789012:role/deploy+ci=1,a.b@c-d",
    # Ceph RGW's roles: no account, or a tenant, in the account's place.
    "arn:aws:iam:::role/S3Access",
    "arn:aws:iam::testx:role/S3Access",
    # amazon.aws's integration target assumes this one and asserts AWS's AccessDenied.
    "arn:aws:iam::123456789:role/non-existing-role",
], ids=["aws-cn-path", "aws-us-gov-punctuation", "ceph-no-account", "ceph-tenant", "nine-digit-account"])
def test_every_shape_of_role_arn_is_sent_as_given(run_named_module, role_sts, role_arn):
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, **KEYS, "role_arn": role_arn,
                                            "role_session_name": "s1"})
    assert rc == 0, r
    (request,) = role_sts.requests
    assert request.form["RoleArn"] == role_arn


def test_a_policy_the_service_refuses_reads_as_in_amazon_aws(run_named_module, role_sts):
    """amazon.aws PR #2778: MalformedPolicyDocument -> 'Invalid policy document provided: ...'."""
    role = "arn:aws:iam::123456789012:role/error-MalformedPolicyDocument"
    policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}'
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, **KEYS, "role_arn": role,
                                            "role_session_name": "s1", "policy": policy})
    assert rc == 1 and r["failed"] is True
    assert r["msg"].startswith(
        "Invalid policy document provided: An error occurred (MalformedPolicyDocument) when calling the "
        "AssumeRole operation: "), r["msg"]
    assert r["error"]["code"] == "MalformedPolicyDocument"
    assert r["response_metadata"]["http_status_code"] == 400
    assert "sts_creds" not in r
    assert role_sts.actions() == ["AssumeRole"]


# --------------------------------------------------------------------------------------------
# Bad values: one JSON object, rc 1, a message naming the option, nothing sent (also in check mode)

LONG_ARN = "arn:aws:iam::123456789012:role/" + filler(2020)
ROLE_SHAPE = "must be a role ARN, arn:<partition>:iam::<account>:role/<name>"
BAD = [
    # (id, changes to a valid task (REMOVE leaves the option out), words the message must contain[, mark])
    ("role_arn-short", {"role_arn": "invalid role arn"},
     ["role_arn", "Invalid length for parameter RoleArn, value: 16, valid min length: 20"]),
    ("role_arn-long", {"role_arn": LONG_ARN}, ["role_arn", "Invalid length for parameter RoleArn", "valid max length: 2048"]),
    # Long enough, but not a role's ARN: the shape expected, the value, and what is wrong with it.
    ("role_arn-a-user", {"role_arn": "arn:aws:iam::123456789012:user/deploy"},
     [f"role_arn {ROLE_SHAPE}, got 'arn:aws:iam::123456789012:user/deploy' (not a role: role/ must follow the account)"]),
    ("role_arn-a-name", {"role_arn": "deploy-role-for-production"},
     [f"role_arn {ROLE_SHAPE}, got 'deploy-role-for-production' (not an ARN"]),
    ("role_arn-an-assumed-role", {"role_arn": "arn:aws:sts::123456789012:assumed-role/deploy/s1"},
     [f"role_arn {ROLE_SHAPE}, got", "(a role's service is iam)"]),
    ("role_arn-account-as-printed", {"role_arn": "arn:aws:iam::1234-5678-9012:role/deploy"},
     [f"role_arn {ROLE_SHAPE}, got", "(the account is 12 digits)"]),
    ("role_arn-region", {"role_arn": "arn:aws:iam:eu-west-1:123456789012:role/deploy"},
     [f"role_arn {ROLE_SHAPE}, got", "no region"]),
    ("role_arn-space-in-name", {"role_arn": "arn:aws:iam::123456789012:role/deploy role"},
     [f"role_arn {ROLE_SHAPE}, got", "the role name is 1 to 64"]),
    ("role_arn-name-65", {"role_arn": "arn:aws:iam::123456789012:role/" + filler(65)},
     [f"role_arn {ROLE_SHAPE}, got", "the role name is 1 to 64"]),
    ("role_session_name-short", {"role_session_name": "x"},
     ["role_session_name", "Invalid length for parameter RoleSessionName, value: 1, valid min length: 2"]),
    ("role_session_name-long", {"role_session_name": filler(65)}, ["role_session_name", "valid max length: 64"]),
    ("role_session_name-pattern", {"role_session_name": "has space"},
     ["role_session_name", "Member must satisfy regular expression pattern"]),
    # amazon.aws's integration target asserts AWS's words, 'The policy is not in the valid JSON format.'
    ("policy-not-json", {"policy": "invalid policy"},
     ["Invalid policy document provided: policy: The policy is not in the valid JSON format. (expected value"]),
    ("policy-cut-short", {"policy": '{"Version": "2012-10-17", "Statement": ['},
     ["Invalid policy document provided: policy: The policy is not in the valid JSON format. (EOF while parsing"]),
    ("policy-number", {"policy": 5}, [
        "Invalid policy document provided: policy must be a JSON policy document, as a string or a dictionary, "
        "got a number (5)"]),
    ("policy-a-list", {"policy": [POLICY]}, [
        "Invalid policy document provided: policy must be a JSON policy document, as a string or a dictionary, "
        "got a list"]),
    ("policy-json-list", {"policy": json.dumps([POLICY])}, [
        "Invalid policy document provided: policy must be a JSON object, a policy document with Version and "
        "Statement, got a string holding a list"]),
    ("policy-json-string", {"policy": '"s3:GetObject"'}, ["policy must be a JSON object", "got a string holding a string"]),
    ("policy-json-number", {"policy": "42"}, ["policy must be a JSON object", "got a string holding a number (42)"]),
    ("policy-long", {"policy": {"Version": "2012-10-17", "Sid": filler(2100)}},
     ["policy", "Invalid length for parameter Policy", "valid max length: 2048"]),
    ("policy_arns-eleven", {"policy_arns": [f"arn:aws:iam::aws:policy/P{i:02d}" for i in range(11)]},
     ["policy_arns", "at most 10"]),
    ("policy_arns-short", {"policy_arns": ["short"]}, ["policy_arns", "Invalid length for parameter PolicyArns"]),
    ("duration_seconds-not-int", {"duration_seconds": "invalid duration"},
     ["duration_seconds", "cannot be converted to an int"]),
    ("duration_seconds-low", {"duration_seconds": 899},
     ["duration_seconds", "Invalid value for parameter DurationSeconds, value: 899, valid min value: 900"]),
    ("duration_seconds-high", {"duration_seconds": 43201}, ["duration_seconds", "valid max value: 43200"]),
    ("external_id-pattern", {"external_id": "invalid external id"},
     ["external_id", "Member must satisfy regular expression pattern"]),
    ("external_id-short", {"external_id": "x"}, ["external_id", "Invalid length for parameter ExternalId"]),
    ("mfa_serial_number-pattern", {"mfa_serial_number": "invalid serial number", "mfa_token": "123456"},
     ["mfa_serial_number", "Member must satisfy regular expression pattern"]),
    ("mfa_serial_number-short", {"mfa_serial_number": "short", "mfa_token": "123456"},
     ["mfa_serial_number", "9 to 256 characters"]),
    ("mfa_token-pattern", {"mfa_serial_number": MFA_SERIAL, "mfa_token": "invalid token code"},
     ["mfa_token", "Member must satisfy regular expression pattern"]),
    ("mfa_token-five-digits", {"mfa_serial_number": MFA_SERIAL, "mfa_token": "12345"}, ["mfa_token", "six-digit"]),
    ("mfa_serial_number-alone", {"mfa_serial_number": MFA_SERIAL},
     ["mfa_serial_number is set but mfa_token is not", "Give both, or neither."]),
    ("mfa_token-alone", {"mfa_token": "123456"}, ["mfa_token is set but mfa_serial_number is not"]),
    ("tags-not-a-dict", {"tags": "notadict"}, ["tags", "unable to convert to dict"]),
    ("tags-empty-key", {"tags": {"": "v"}}, ["tags", "Invalid length for parameter Tags[].Key"]),
    ("tags-long-key", {"tags": {filler(129): "v"}}, ["tags", "valid max length: 128"]),
    ("tags-long-value", {"tags": {"k": filler(257)}}, ["tags", "valid max length: 256"]),
    ("tags-bad-character", {"tags": {"k": "semi;colon"}}, ["tags", "found ';'"]),
    ("tags-same-key-twice", {"tags": {"Project": "a", "project": "b"}}, ["tags", "more than once"]),
    ("tags-fifty-one", {"tags": {f"k{i}": "v" for i in range(51)}}, ["tags", "at most 50"]),
    ("transitive_tag_keys-not-a-tag", {"transitive_tag_keys": ["project"]},
     ["transitive_tag_keys", "not a key of tags"]),
    ("transitive_tag_keys-fifty-one", {"tags": {"a": "1"}, "transitive_tag_keys": ["a"] * 51},
     ["transitive_tag_keys", "at most 50"]),
    ("source_identity-pattern", {"source_identity": "aws:alice"},
     ["source_identity", "Member must satisfy regular expression pattern"]),
    ("source_identity-short", {"source_identity": "a"}, ["source_identity", "Invalid length for parameter SourceIdentity"]),
    ("no-role-options", {"role_arn": REMOVE, "role_session_name": REMOVE},
     ["missing required arguments: role_arn, role_session_name"]),
    ("only-role_arn", {"role_session_name": REMOVE}, ["missing required arguments: role_session_name"]),
    ("only-role_session_name", {"role_arn": REMOVE}, ["missing required arguments: role_arn"]),
    ("unknown-option", {"bogus": 1}, ["Unsupported parameters for (rustaws.creds.sts_assume_role) module: bogus."]),
]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("changes,words", bad_value_cases(BAD))
def test_a_bad_value_fails_before_any_call(run_named_module, role_sts, changes, words, check_mode):
    args = {"endpoint_url": role_sts.url, **KEYS, "role_arn": ROLE, "role_session_name": "s1"}
    _, (_, r, stdout, _) = check_bad_value(functools.partial(run_named_module, MODULE), args, changes, words,
                                           role_sts, check_mode=check_mode)
    assert "skipped" not in r and "sts_creds" not in r
    if "mfa_token" in changes:
        assert changes["mfa_token"] not in stdout


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_no_parameters_at_all(run_named_module, check_mode):
    """As amazon.aws's sts_assume_role target: no options and no credentials at all (nothing to
    call: only the closed safety-net endpoint of the environment)."""
    rc, r, _, _ = run_named_module(MODULE, {}, check_mode=check_mode)
    assert rc == 1 and r["failed"] is True
    assert r["msg"] == "missing required arguments: role_arn, role_session_name"


def test_check_mode_validates_and_skips_without_a_call(run_named_module, role_sts):
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, **KEYS, **every_option()},
                                   check_mode=True)
    assert rc == 0, r
    assert r["skipped"] is True and r["changed"] is False
    assert r["msg"] == "remote module (rustaws.creds.sts_assume_role) does not support check mode"
    assert "sts_creds" not in r
    assert r["invocation"]["module_args"]["mfa_token"] == PLACEHOLDER
    assert role_sts.requests == []


def test_check_mode_in_a_playbook(playbook, role_sts):
    """Through ansible-playbook: skipped with the standard message, a bad value still fails, and
    nothing reaches STS."""
    playbook("assume_check_mode.yml", env={"ROLE_STS_URL": role_sts.url})
    assert role_sts.requests == []


# --------------------------------------------------------------------------------------------
# Against moto


def test_every_option_against_moto_and_the_credentials_in_the_next_task(run_named_module, moto):
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": moto.url, **KEYS, **every_option()})
    assert rc == 0, r
    assert r["changed"] is True
    assert set(r["sts_creds"]) == {"access_key", "secret_key", "session_token", "expiration"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r["sts_creds"]["expiration"])
    assert r["sts_user"]["arn"] == "arn:aws:sts::123456789012:assumed-role/deploy/release"
    assert re.fullmatch(r"AROA\w+:release", r["sts_user"]["assumed_role_id"]), r["sts_user"]
    caller = assert_next_task_signs_as(run_named_module, moto.url, r)
    # (moto makes up a new role ID at every look-up of a role it does not hold)
    assert re.fullmatch(r"AROA\w+:release", caller["user_id"]), caller
    assert caller["account"] == "123456789012"


def test_chained_playbook(playbook):
    """sts_assume_role -> aws_caller_info with its credentials -> sts_assume_role again from those
    credentials -> aws_caller_info, with module_defaults group/rustaws.creds.aws (moto)."""
    proc = playbook("assume_chained.yml")
    assert re.search(r"^localhost\s+: ok=5\s+changed=2 ", proc.stdout, re.M), proc.stdout


# --------------------------------------------------------------------------------------------
# The upstream scenarios (amazon.aws's integration target for sts_assume_role) on a moto server
# that authenticates like AWS


@pytest.fixture(scope="module")
def iam_moto():
    """moto enforcing IAM: user `caller` may call sts:AssumeRole; user `nobody` may do nothing;
    role `reader` (trusted by caller) may only read IAM; role `partner` trusts caller only with
    the external ID partner-42."""

    def setup(iam):
        def trust(condition=None):
            statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/caller"},
                         "Action": "sts:AssumeRole"}
            if condition:
                statement["Condition"] = condition
            return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

        users = {"caller": user_with_key(iam, "caller", allow("sts:AssumeRole")),
                 "nobody": user_with_key(iam, "nobody")}
        iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust())
        iam.put_role_policy(RoleName="reader", PolicyName="iam-read-only",
                            PolicyDocument=allow("iam:Get*", "iam:List*"))
        iam.create_role(RoleName="partner", AssumeRolePolicyDocument=trust(
            {"StringEquals": {"sts:ExternalId": "partner-42"}}))
        return users

    with authenticating_moto(setup) as (url, users):
        yield {"url": url, **users}


def test_a_role_the_caller_may_not_assume(run_named_module, iam_moto):
    """As amazon.aws's target: AccessDenied, 'is not authorized to perform: sts:AssumeRole'."""
    rc, r, _, _ = run_named_module(MODULE, {
        "endpoint_url": iam_moto["url"], **iam_moto["nobody"],
        "role_arn": "arn:aws:iam::123456789:role/non-existing-role", "role_session_name": "s1"})
    assert rc == 1 and r["failed"] is True
    assert r["msg"].startswith("An error occurred (AccessDenied) when calling the AssumeRole operation: "), r["msg"]
    assert "is not authorized to perform: sts:AssumeRole" in r["msg"]
    assert r["error"]["code"] == "AccessDenied"
    assert r["response_metadata"]["http_status_code"] == 403
    assert "sts_creds" not in r


def test_unknown_key_is_refused_by_the_service(run_named_module, iam_moto):
    rc, r, _, _ = run_named_module(MODULE, {
        "endpoint_url": iam_moto["url"], "access_key": "AKIAUNKNOWNEXAMPLE01",
        "secret_key": iam_moto["caller"]["secret_key"], "role_arn": ROLE, "role_session_name": "s1"})
    assert rc == 1
    assert r["msg"].startswith("An error occurred (InvalidClientTokenId) when calling the AssumeRole operation"), r
    assert r["error"]["code"] == "InvalidClientTokenId"


def test_the_role_credentials_can_read_but_not_write(run_named_module, iam_moto):
    """As amazon.aws's target: a valid assumption returns the three credentials; with them a
    read-only IAM call works and a write is refused ('is not authorized to perform: iam:...')."""
    url = iam_moto["url"]
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": url, **iam_moto["caller"],
                                            "role_arn": "arn:aws:iam::123456789012:role/reader",
                                            "role_session_name": "upstream-12"})
    assert rc == 0, r
    creds = {k: r["sts_creds"][k] for k in ("access_key", "secret_key", "session_token")}
    assert all(creds.values())
    rc, caller, _, _ = run_named_module("aws_caller_info", {"endpoint_url": url, **creds})
    assert rc == 0, caller
    assert caller["arn"] == "arn:aws:sts::123456789012:assumed-role/reader/upstream-12" == r["sts_user"]["arn"]
    assert caller["user_id"] == r["sts_user"]["assumed_role_id"]
    rc, keys, _, _ = run_named_module("iam_access_key_info", {"endpoint_url": url, **creds, "user_name": "caller"})
    assert rc == 0, keys
    assert [k["access_key_id"] for k in keys["access_keys"]] == [iam_moto["caller"]["access_key"]]
    rc, write, _, _ = run_named_module("iam_access_key", {"endpoint_url": url, **creds, "user_name": "caller"})
    assert rc == 1 and write["failed"] is True
    assert "is not authorized to perform: iam:CreateAccessKey" in write["msg"], write["msg"]
    assert write["error"]["code"] == "AccessDenied"


def test_external_id_reaches_the_trust_policy(run_named_module, iam_moto):
    """The role's trust policy asks for sts:ExternalId partner-42: a wrong one is refused."""
    args = {"endpoint_url": iam_moto["url"], **iam_moto["caller"],
            "role_arn": "arn:aws:iam::123456789012:role/partner", "role_session_name": "partner"}
    rc, r, _, _ = run_named_module(MODULE, {**args, "external_id": "partner-41"})
    assert rc == 1 and r["error"]["code"] == "AccessDenied", r
    rc, r, _, _ = run_named_module(MODULE, {**args, "external_id": "partner-42"})
    assert rc == 0, r
    assert r["sts_user"]["arn"] == "arn:aws:sts::123456789012:assumed-role/partner/partner"


# amazon.aws's own sts_assume_role target gives each MFA option alone with a malformed value and
# asserts AWS's words; every module taking the MFA options checks the values before the pair rule.
MALFORMED_MFA = [
    ({"mfa_serial_number": "invalid serial number"},
     "mfa_serial_number may only contain letters, digits, _ and +=/:,.@-, got 'invalid serial number' "
     "(Member must satisfy regular expression pattern: [\\w+=/:,.@-]*)"),
    ({"mfa_token": "invalid token code"},
     "mfa_token must be the six-digit code shown by the MFA device "
     "(Member must satisfy regular expression pattern: [\\d]* and have length 6)"),
]
MFA_MODULES = {
    "sts_session_token": {},
    "sts_assume_role": {"role_arn": ROLE, "role_session_name": "mfa-check"},
    "sts_assume_roles": {"roles": [{"name": "one", "role_arn": ROLE}], "role_session_name": "mfa-check"},
}


@pytest.mark.parametrize("module", sorted(MFA_MODULES))
@pytest.mark.parametrize("given,msg", MALFORMED_MFA, ids=["serial", "token"])
def test_a_malformed_mfa_value_alone_fails_in_aws_words(run_named_module, closed_url, module, given, msg):
    args = {"endpoint_url": closed_url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
            **MFA_MODULES[module], **given}
    rc, r, _, _ = run_named_module(module, args)
    assert rc == 1 and r["failed"] and r["msg"] == msg, r
