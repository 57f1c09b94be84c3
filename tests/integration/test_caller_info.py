"""aws_caller_info: account, arn, user_id and account_alias of the credentials in use;
check mode runs normally; a failure says 'Failed to retrieve caller identity:' with the error
code; bad options fail before any call.

A moto server of this module's own (an account alias is account-wide state), moto that
authenticates requests (conftest's auth_moto) for the service's refusals, and the recording fake
of tests/support/fake_role_sts.py for what is sent.
"""

import functools

import pytest
from fake_role_sts import ALIAS, CALLER_ARN
from moto_server import TEST_ACCESS_KEY, TEST_SECRET_KEY, MotoServer, boto3_client, no_aws_environment

from harness import REMOVE, check_bad_value

MODULE = "aws_caller_info"
KEYS = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}


@pytest.fixture(scope="module")
def caller_moto():
    with MotoServer() as url:
        yield url


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_identity_of_the_keys(run_named_module, caller_moto, check_mode):
    """moto's identity for keys it does not know; check mode runs the same calls."""
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": caller_moto, **KEYS}, check_mode=check_mode)
    assert rc == 0, r
    assert {k: v for k, v in r.items() if k != "invocation"} == {
        "changed": False, "account": "123456789012", "arn": "arn:aws:sts::123456789012:user/moto",
        "user_id": "AKIAIOSFODNN7EXAMPLE", "account_alias": ""}
    assert "skipped" not in r


def test_identity_of_an_iam_user_and_the_account_alias(run_named_module, caller_moto):
    with no_aws_environment():
        iam = boto3_client("iam", caller_moto)
        user = iam.create_user(UserName="caller-alice")["User"]
        key = iam.create_access_key(UserName="caller-alice")["AccessKey"]
    args = {"endpoint_url": caller_moto, "access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
    rc, r, _, _ = run_named_module(MODULE, args)
    assert rc == 0, r
    assert (r["arn"], r["user_id"], r["account"]) == (user["Arn"], user["UserId"], "123456789012")
    assert r["arn"] == "arn:aws:iam::123456789012:user/caller-alice"
    assert r["account_alias"] == ""
    with no_aws_environment():
        iam.create_account_alias(AccountAlias="rustaws-example")
    try:
        rc, r, _, _ = run_named_module(MODULE, args)
        assert rc == 0, r
        assert r["account_alias"] == "rustaws-example"
        rc, r, _, _ = run_named_module(MODULE, args, check_mode=True)
        assert rc == 0 and r["account_alias"] == "rustaws-example", r
    finally:
        with no_aws_environment():
            iam.delete_account_alias(AccountAlias="rustaws-example")


def test_what_is_sent(run_named_module, role_sts):
    """GetCallerIdentity and ListAccountAliases, both to endpoint_url, signed with the keys, for
    us-east-1 when no region is given."""
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": role_sts.url, **KEYS})
    assert rc == 0, r
    assert role_sts.actions() == ["GetCallerIdentity", "ListAccountAliases"]
    for request in role_sts.requests:
        assert request.access_key == TEST_ACCESS_KEY
        assert "/us-east-1/" in request.headers["authorization"]
    assert r["arn"] == CALLER_ARN and r["account_alias"] == ALIAS


@pytest.mark.parametrize("case,code,message", [
    ("unknown-key", "InvalidClientTokenId", "The security token included in the request is invalid."),
    ("wrong-secret", "SignatureDoesNotMatch", "The request signature we calculated does not match"),
])
def test_a_refused_call(run_named_module, auth_moto, case, code, message):
    key = {"unknown-key": ("AKIAUNKNOWNEXAMPLE01", auth_moto.key.secret_key),
           "wrong-secret": (auth_moto.key.access_key, "wrongSecretKeyValue/00000000000000000000")}[case]
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": auth_moto.url, "access_key": key[0], "secret_key": key[1]})
    assert rc == 1 and r["failed"] is True
    assert r["msg"].startswith(f"Failed to retrieve caller identity: An error occurred ({code}) when calling the "
                               "GetCallerIdentity operation: "), r["msg"]
    assert message in r["msg"]
    assert r["error"]["code"] == code
    assert r["response_metadata"]["http_status_code"] == 403
    assert not {"account", "arn", "user_id", "account_alias"} & set(r)


def test_no_account_alias_key_when_the_caller_may_not_list_aliases(run_named_module, auth_moto):
    """As amazon.aws: GetCallerIdentity needs no permission; without iam:ListAccountAliases the
    key is absent rather than ''."""
    rc, r, _, _ = run_named_module(MODULE, {"endpoint_url": auth_moto.url, "access_key": auth_moto.denied_key.access_key,
                                            "secret_key": auth_moto.denied_key.secret_key})
    assert rc == 0, r
    assert r["arn"] == "arn:aws:iam::123456789012:user/no-permissions"
    assert "account_alias" not in r


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("changes,message", [
    pytest.param({"bogus": 1}, f"Unsupported parameters for (rustaws.creds.{MODULE}) module: bogus.", id="unknown-option"),
    pytest.param({"endpoint_url": "127.0.0.1:5000"}, "endpoint_url must be an http:// or https:// URL, got '127.0.0.1:5000'",
                 id="endpoint-without-scheme"),
    pytest.param({"secret_key": REMOVE}, "access_key is set but secret_key is not", id="half-a-key-pair"),
    pytest.param({"aws_config": {"bogus": 1}}, "aws_config has an unsupported key 'bogus'", id="aws_config-key"),
    pytest.param({"validate_certs": "maybe"}, "is not a valid boolean", id="validate_certs"),
])
def test_a_bad_option_fails_before_any_call(run_named_module, role_sts, changes, message, check_mode):
    check_bad_value(functools.partial(run_named_module, MODULE), {"endpoint_url": role_sts.url, **KEYS}, changes,
                    message, role_sts, match="part", check_mode=check_mode)


def test_check_mode_playbook(playbook, caller_moto):
    """ansible-playbook --check: the module runs (it changes nothing) and returns the identity."""
    playbook("caller_check_mode.yml", args=["--check"], env={"CALLER_MOTO_URL": caller_moto})
