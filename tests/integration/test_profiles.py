"""Profiles that assume a role: `role_arn` + `source_profile`, and `role_arn` +
`web_identity_token_file`, used through `profile:` by sts_assume_role, aws_caller_info and
iam_access_key_info; and AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN in the environment. (Not
sts_session_token: a role's credentials carry a session token, and GetSessionToken refuses
those, so the module does too. sts_assume_role stands for the modules that return credentials.)

The role assumption of the profile must go to the task's endpoint_url like every other call:
the environment's AWS_ENDPOINT_URL points at a closed local port, so a call that went there
would fail. moto shows the identity the modules end up with (the assumed role); the recording
fake of tests/support/fake_role_sts.py shows the order of the calls, which key signed each, and
the signing region.
"""

import pytest
from fake_role_sts import unsigned_jwt
from moto_server import TEST_ACCESS_KEY, TEST_SECRET_KEY, MotoServer, boto3_client, no_aws_environment

MODULES = ["sts_assume_role", "aws_caller_info", "iam_access_key_info"]
ACCOUNT = "123456789012"
# The role sts_assume_role assumes with the credentials of the profile's role (role chaining).
TARGET_ROLE, TARGET_SESSION = "reader", "chained-session"
TARGET_ARN = f"arn:aws:iam::{ACCOUNT}:role/{TARGET_ROLE}"
# What each module calls after the profile's role assumption.
CALLS = {
    "sts_assume_role": ["AssumeRole"],
    "aws_caller_info": ["GetCallerIdentity", "ListAccountAliases"],
    "iam_access_key_info": ["ListAccessKeys", "GetAccessKeyLastUsed"],
}
JWT = unsigned_jwt({"iss": "https://oidc.example.test", "aud": "sts.amazonaws.test", "sub": "profile-app"})


@pytest.fixture(scope="module")
def profile_moto():
    """A moto server with IAM user `profile-user` and one access key of it."""
    with MotoServer() as url:
        with no_aws_environment():
            iam = boto3_client("iam", url)
            iam.create_user(UserName="profile-user")
            key = iam.create_access_key(UserName="profile-user")["AccessKey"]["AccessKeyId"]
        yield url, key


@pytest.fixture
def profiles(aws_config_file, tmp_path):
    """The AWS config file: `base` (static keys), `deployer` (role_arn + source_profile base) and
    `oidc` (role_arn + web_identity_token_file), the role profiles with their own region.
    Returns the environment that points AWS_CONFIG_FILE at it."""
    token = tmp_path / "profile-token"
    token.write_text(JWT)
    return aws_config_file(
        f"[profile base]\naws_access_key_id = {TEST_ACCESS_KEY}\naws_secret_access_key = {TEST_SECRET_KEY}\n\n"
        f"[profile deployer]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/deployer\nsource_profile = base\n"
        "role_session_name = deployer-session\nregion = eu-west-3\n\n"
        f"[profile oidc]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/oidc-app\nweb_identity_token_file = {token}\n"
        "role_session_name = oidc-session\nregion = eu-west-3\n")


def module_args(name, url, **extra):
    args = {"endpoint_url": url, **extra}
    if name == "iam_access_key_info":
        args["user_name"] = "profile-user"
    if name == "sts_assume_role":
        args.update(role_arn=TARGET_ARN, role_session_name=TARGET_SESSION)
    return args


def check_moto_result(name, r, role, session, key):
    assert r.rc == 0, r.result
    result = r.result
    if name == "aws_caller_info":
        assert result["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"
        assert result["account"] == ACCOUNT and result["user_id"].endswith(f":{session}")
    elif name == "sts_assume_role":
        assert set(result["sts_creds"]) == {"access_key", "secret_key", "session_token", "expiration"}
        assert result["sts_user"]["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{TARGET_ROLE}/{TARGET_SESSION}"
    else:
        assert [k["access_key_id"] for k in result["access_keys"]] == [key]


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("profile,role,session", [
    ("deployer", "deployer", "deployer-session"),
    ("oidc", "oidc-app", "oidc-session"),
], ids=["source_profile", "web_identity_token_file"])
def test_role_profile_against_moto(run_named_module, profile_moto, profiles, name, profile, role, session):
    url, key = profile_moto
    r = run_named_module(name, module_args(name, url, profile=profile), env=profiles)
    check_moto_result(name, r, role, session, key)
    assert r.result["invocation"]["module_args"]["profile"] == profile


@pytest.mark.parametrize("name", MODULES)
def test_source_profile_role_assumption_goes_to_endpoint_url(run_named_module, role_sts, profiles, name):
    """AssumeRole signed with the base profile's key, then the module's own calls signed with the
    role's credentials, all to endpoint_url, signed for the profile's region."""
    r = run_named_module(name, module_args(name, role_sts.url, profile="deployer"), env=profiles)
    assert r.rc == 0, r.result
    assume, *rest = role_sts.requests
    assert assume.action == "AssumeRole"
    assert assume.form["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/deployer"
    assert assume.form["RoleSessionName"] == "deployer-session"
    assert assume.access_key == TEST_ACCESS_KEY
    assert [q.action for q in rest] == CALLS[name]
    for q in rest:
        assert q.access_key in role_sts.issued, "signed with the credentials of the role"
        if name == "sts_assume_role":
            assert (q.form["RoleArn"], q.form["RoleSessionName"]) == (TARGET_ARN, TARGET_SESSION)
    for q in role_sts.requests:
        assert "/eu-west-3/" in q.headers["authorization"]
    if name == "aws_caller_info":
        assert r.result["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/deployer-session"


@pytest.mark.parametrize("name", MODULES)
def test_web_identity_profile_goes_to_endpoint_url(run_named_module, role_sts, profiles, name):
    """AssumeRoleWithWebIdentity, unsigned, with the file's token; then the module's calls signed
    with the role's credentials; all to endpoint_url."""
    r = run_named_module(name, module_args(name, role_sts.url, profile="oidc"), env=profiles)
    assert r.rc == 0, r.result
    assume, *rest = role_sts.requests
    assert assume.action == "AssumeRoleWithWebIdentity"
    assert assume.form["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/oidc-app"
    assert assume.form["RoleSessionName"] == "oidc-session"
    assert assume.form["WebIdentityToken"] == JWT
    assert not assume.signed
    assert [q.action for q in rest] == CALLS[name]
    for q in rest:
        assert q.access_key in role_sts.issued
        if name == "sts_assume_role":
            assert (q.form["RoleArn"], q.form["RoleSessionName"]) == (TARGET_ARN, TARGET_SESSION)
    assert JWT not in r.stdout


@pytest.fixture
def web_identity_env(tmp_path):
    token = tmp_path / "env-token"
    token.write_text(JWT + "\n")
    return {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/env-role",
            "AWS_ROLE_SESSION_NAME": "env-session"}


@pytest.mark.parametrize("name", MODULES)
def test_web_identity_from_the_environment_against_moto(run_named_module, profile_moto, web_identity_env, name):
    url, key = profile_moto
    r = run_named_module(name, module_args(name, url), env=web_identity_env)
    check_moto_result(name, r, "env-role", "env-session", key)


def test_web_identity_from_the_environment_goes_to_endpoint_url(run_named_module, role_sts, web_identity_env):
    r = run_named_module("aws_caller_info", {"endpoint_url": role_sts.url}, env=web_identity_env)
    assert r.rc == 0, r.result
    assert role_sts.actions() == ["AssumeRoleWithWebIdentity", "GetCallerIdentity", "ListAccountAliases"]
    assume = role_sts.requests[0]
    assert not assume.signed
    assert assume.form["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/env-role"
    assert assume.form["RoleSessionName"] == "env-session"
    # The SDK's provider sends the file as it is, its trailing newline included (botocore's
    # does the same); only the module's own web_identity_token_file option strips it.
    assert assume.form["WebIdentityToken"] in (JWT, JWT + "\n")
    assert r.result["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/env-role/env-session"


def test_profiles_in_a_playbook(playbook, profile_moto, profiles):
    """The three modules with `profile:` and endpoint_url from module_defaults, through
    ansible-playbook."""
    url, key = profile_moto
    playbook("profile_modules.yml", env={**profiles, "PROFILE_MOTO_URL": url, "PROFILE_USER_KEY": key})
