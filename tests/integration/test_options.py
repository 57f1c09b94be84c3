"""Every alias and environment fallback of the common options, one run each, showing
that the value took effect; then the precedence rules.

How "took effect" is shown, per option:
- access_key, secret_key, profile: against the moto server that authenticates requests with
  IAM keys, so the call only succeeds with the right key pair;
- session_token: with aws_caller_info (GetCallerIdentity accepts session credentials, which
  sts_session_token refuses) against the recording fake of tests/support/fake_role_sts.py, which
  sees the security-token header of both its calls;
- region: against the recording fake STS, which sees the SigV4 credential scope;
- endpoint_url: the call reaches moto (the environment's safety net, AWS_ENDPOINT_URL, points
  at a closed port, so without the option nothing answers);
- aws_ca_bundle: moto over TLS with a private CA succeeds;
- debug_botocore_endpoint_logs (no effect): the value the module shows in its invocation.
The aliases and variables are the spec's (tests/support/module_spec.py).
"""

import module_spec
import pytest

from harness import PLACEHOLDER, TEST_ACCESS_KEY, TEST_SECRET_KEY

TOKEN = "FwoGZXIvYXdzEXAMPLEsessionTOKENvalue/0001+abcdefghijklmnop"
REGION = "ap-southeast-2"
# The module that shows session_token: sts_session_token refuses credentials that carry one.
TOKEN_PROBE = "aws_caller_info"
TOKEN_PROBE_CALLS = ["GetCallerIdentity", "ListAccountAliases"]


@pytest.fixture
def option_check(run_module, run_named_module, moto, auth_moto, fake_sts, role_sts, tls_moto, aws_config_file):
    """check(option, given) runs the module with `option` supplied by `given(value)` (which
    returns (extra args, extra env)) and asserts the value took effect. Returns the result."""

    def check(option, given):
        if option == "access_key":
            value = auth_moto.key.access_key
            args = {"endpoint_url": auth_moto.url, "secret_key": auth_moto.key.secret_key}
        elif option == "secret_key":
            value = auth_moto.key.secret_key
            args = {"endpoint_url": auth_moto.url, "access_key": auth_moto.key.access_key}
        elif option == "session_token":
            value = TOKEN
            args = {"endpoint_url": role_sts.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
        elif option == "profile":
            value = "p1"
            args = {"endpoint_url": auth_moto.url}
        elif option == "endpoint_url":
            value = moto.url
            args = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
        elif option == "region":
            value = REGION
            args = {"endpoint_url": fake_sts.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
        elif option == "aws_ca_bundle":
            value = tls_moto.ca_bundle
            args = {"endpoint_url": tls_moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
        elif option == "debug_botocore_endpoint_logs":
            value = True  # no effect besides the value shown (README)
            args = {"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
        else:
            raise AssertionError(f"the spec gives {option} an alias or a variable: add a way to show it took effect")
        extra_args, env = given(value)
        env = {k: str(v).lower() if isinstance(v, bool) else v for k, v in env.items()}
        if option == "profile":
            env = {**env, **aws_config_file(
                f"[profile p1]\naws_access_key_id = {auth_moto.key.access_key}\n"
                f"aws_secret_access_key = {auth_moto.key.secret_key}\n")}
        if option == "session_token":
            rc, r, _, _ = run_named_module(TOKEN_PROBE, {**args, **extra_args}, env=env)
            assert rc == 0, r
            assert r["changed"] is False and r["account"] == "123456789012"
        else:
            rc, r, _, _ = run_module({**args, **extra_args}, env=env)
            assert rc == 0, r
            assert r["changed"] is True and "sts_creds" in r
        shown = r["invocation"]["module_args"][option]
        assert shown == (PLACEHOLDER if COMMON[option]["no_log"] else value)
        if option == "session_token":
            assert role_sts.actions() == TOKEN_PROBE_CALLS
            assert [q.headers.get("x-amz-security-token") for q in role_sts.requests] == [TOKEN, TOKEN]
        if option == "region":
            assert [q.credential[2] for q in fake_sts.requests] == [REGION]
        return r

    return check


def assert_deprecated(result, name):
    deprecations = result.get("deprecations", [])
    assert len(deprecations) == 1, deprecations
    assert name in deprecations[0]["msg"]
    assert deprecations[0]["collection_name"] == "rustaws.creds"


# Every alias and variable of the common options, from the modules' spec (test_spec.py checks
# that the names the peers take are among them).
COMMON = module_spec.common_options()
ALIASES = module_spec.aliases(COMMON)


@pytest.mark.parametrize("alias,option,deprecated", ALIASES, ids=[a[0] for a in ALIASES])
def test_alias(option_check, alias, option, deprecated):
    r = option_check(option, lambda value: ({alias: value}, {}))
    if deprecated:
        assert_deprecated(r, alias)
        assert r["deprecations"][0]["msg"].startswith(f"Alias '{alias}' is deprecated; use '{option}' instead.")
    else:
        assert "deprecations" not in r


ENV_VARS = module_spec.env_vars(COMMON)


@pytest.mark.parametrize("var,option,deprecated", ENV_VARS, ids=[e[0] for e in ENV_VARS])
def test_environment_fallback(option_check, var, option, deprecated):
    r = option_check(option, lambda value: ({}, {var: value}))
    if deprecated:
        assert_deprecated(r, var)
    else:
        assert "deprecations" not in r


def test_without_an_endpoint_the_call_does_not_reach_moto(run_module):
    """The control for the endpoint cases: no endpoint option, so the SDK uses the
    environment's AWS_ENDPOINT_URL, a closed local port."""
    rc, r, _, _ = run_module({"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
                              "aws_config": {"retries": {"total_max_attempts": 1}}})
    assert rc == 1
    assert r["msg"].startswith("Could not connect to the endpoint URL"), r["msg"]


# ------------------------------------------------------------------------------------------
# Precedence


def fake_sts_args(fake_sts, **extra):
    return {"endpoint_url": fake_sts.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY, **extra}


ORDERED = ["access_key", "session_token", "region", "profile"]


@pytest.mark.parametrize("option,variables", [(o, COMMON[o]["env"]) for o in ORDERED], ids=ORDERED)
def test_first_present_environment_variable_wins(run_module, run_named_module, fake_sts, role_sts, aws_config_file,
                                                 option, variables):
    """All of an option's variables (the spec's, in order) set to different values: the first
    listed wins; unset it and the next one wins. What the fake STS received shows which value
    was used (for session_token, what aws_caller_info sent to the role modules' fake: every call
    carries the token)."""
    values = [{
        "access_key": f"AKIAENVIRONMENT{i:05d}",
        "session_token": f"token-value-from-variable-{i}",
        "region": ["eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "eu-south-1"][i],
        "profile": f"env{i}",
    }[option] for i in range(len(variables))]
    profile_keys = {f"env{i}": f"AKIAPROFILEENV{i:06d}" for i in range(len(variables))}
    config = aws_config_file("".join(
        f"[profile {p}]\naws_access_key_id = {k}\naws_secret_access_key = {TEST_SECRET_KEY}\n"
        for p, k in profile_keys.items()))
    for i in range(len(variables)):
        fake_sts.clear()
        role_sts.clear()
        env = {**config, **dict(zip(variables[i:], values[i:]))}
        args = fake_sts_args(fake_sts)
        if option in ("access_key", "profile"):
            del args["access_key"]
        if option == "profile":
            del args["secret_key"]
        if option == "session_token":
            rc, r, _, _ = run_named_module(TOKEN_PROBE, {**args, "endpoint_url": role_sts.url}, env=env)
            assert rc == 0, (env, r)
            assert role_sts.actions() == TOKEN_PROBE_CALLS
            seen = {q.headers.get("x-amz-security-token") for q in role_sts.requests}
            assert seen == {values[i]}, f"with {sorted(env)} the value of {variables[i]} should be used"
            continue
        rc, r, _, _ = run_module(args, env=env)
        assert rc == 0, (env, r)
        (request,) = fake_sts.requests
        seen = {
            "access_key": request.credential[0],
            "region": request.credential[2],
            "profile": request.credential[0],
        }[option]
        expected = profile_keys[values[i]] if option == "profile" else values[i]
        assert seen == expected, f"with {sorted(env)} the value of {variables[i]} should be used"


def test_secret_key_environment_order(run_module, auth_moto):
    """The secret is not visible in a request, so moto's signature check shows which one was
    used: only the first present variable holds the right secret."""
    variables = COMMON["secret_key"]["env"]
    wrong = "wrongSecretKeyValue/00000000000000000000"
    for i in range(len(variables)):
        env = {v: (auth_moto.key.secret_key if v == variables[i] else wrong) for v in variables[i:]}
        rc, r, _, _ = run_module({"endpoint_url": auth_moto.url, "access_key": auth_moto.key.access_key}, env=env)
        assert rc == 0, (variables[i], r)


def test_endpoint_environment_order(run_module, moto, closed_url):
    variables = COMMON["endpoint_url"]["env"]
    for i in range(len(variables)):
        env = {v: (moto.url if v == variables[i] else closed_url) for v in variables[i:]}
        rc, r, _, _ = run_module({"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}, env=env)
        assert rc == 0, (variables[i], r)
        assert r["invocation"]["module_args"]["endpoint_url"] == moto.url


def test_empty_first_region_variable_wins(run_module, fake_sts):
    """Present-but-empty counts as present (ansible's env_fallback): AWS_DEFAULT_REGION is
    ignored, and an empty region means none, so the module signs for us-east-1."""
    rc, r, _, _ = run_module(fake_sts_args(fake_sts), env={"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-3"})
    assert rc == 0, r
    assert r["invocation"]["module_args"]["region"] == ""
    assert [q.credential[2] for q in fake_sts.requests] == ["us-east-1"]


def test_empty_first_endpoint_variable_wins(run_module, moto):
    rc, r, _, _ = run_module(
        {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY, "aws_config": {"retries": {"total_max_attempts": 1}}},
        env={"AWS_URL": "", "EC2_URL": moto.url})
    assert r["invocation"]["module_args"]["endpoint_url"] == ""
    assert rc == 1 and r["msg"].startswith("Could not connect to the endpoint URL"), r


def test_empty_first_access_key_variable_wins(run_module, moto):
    rc, r, _, _ = run_module({"endpoint_url": moto.url, "secret_key": TEST_SECRET_KEY},
                             env={"AWS_ACCESS_KEY_ID": "", "AWS_ACCESS_KEY": TEST_ACCESS_KEY})
    assert r["invocation"]["module_args"]["access_key"] == ""
    assert rc == 1 and r["msg"].startswith("secret_key is set but access_key is not"), r


def test_task_argument_beats_environment(run_named_module, role_sts):
    """With a session token, so through aws_caller_info (sts_session_token refuses one)."""
    env = {"AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "AKIAFROMENVIRONMENT1",
           "AWS_SESSION_TOKEN": "token-from-the-environment"}
    rc, r, _, _ = run_named_module(TOKEN_PROBE, fake_sts_args(role_sts, region="us-west-2", session_token=TOKEN),
                                   env=env)
    assert rc == 0, r
    assert r["invocation"]["module_args"]["region"] == "us-west-2"
    assert role_sts.actions() == TOKEN_PROBE_CALLS
    for request in role_sts.requests:
        assert request.credential[0] == TEST_ACCESS_KEY
        assert request.credential[2] == "us-west-2"
        assert request.headers["x-amz-security-token"] == TOKEN


def test_task_alias_beats_environment(run_module, fake_sts):
    rc, r, _, _ = run_module(fake_sts_args(fake_sts, aws_region="us-west-2"), env={"AWS_REGION": "eu-west-3"})
    assert rc == 0, r
    assert [q.credential[2] for q in fake_sts.requests] == ["us-west-2"]


def test_task_endpoint_beats_environment(run_module, moto, closed_url):
    rc, r, _, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY},
                             env={"AWS_URL": closed_url})
    assert rc == 0, r


def test_task_secret_key_beats_environment(run_module, auth_moto):
    rc, r, _, _ = run_module(
        {"endpoint_url": auth_moto.url, "access_key": auth_moto.key.access_key, "secret_key": auth_moto.key.secret_key},
        env={"AWS_SECRET_ACCESS_KEY": "wrongSecretKeyValue/00000000000000000000"})
    assert rc == 0, r


def test_option_and_alias_both_set_alias_wins_with_warning(run_module, fake_sts):
    """AnsibleModule's behaviour: the alias's value is used and a warning says both were set."""
    rc, r, _, _ = run_module(fake_sts_args(fake_sts, region="eu-west-1", aws_region="eu-west-2"))
    assert rc == 0, r
    assert [q.credential[2] for q in fake_sts.requests] == ["eu-west-2"]
    assert r["warnings"] == ["Both option region and its alias aws_region are set."]


def test_region_from_the_profile_then_us_east_1(run_module, fake_sts, aws_config_file):
    env = aws_config_file(f"[profile p1]\naws_access_key_id = {TEST_ACCESS_KEY}\n"
                          f"aws_secret_access_key = {TEST_SECRET_KEY}\nregion = ca-central-1\n")
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url, "profile": "p1"}, env=env)
    assert rc == 0, r
    rc, r, _, _ = run_module(fake_sts_args(fake_sts))
    assert rc == 0, r
    assert [q.credential[2] for q in fake_sts.requests] == ["ca-central-1", "us-east-1"]


PROFILE_P1 = "[profile p1]\naws_access_key_id = AKIAPROFILEP1EXAMPLE\naws_secret_access_key = " + TEST_SECRET_KEY + "\n"


def test_profile_argument_beats_keys_from_environment(run_module, fake_sts, aws_config_file):
    env = {**aws_config_file(PROFILE_P1), "AWS_ACCESS_KEY_ID": "AKIAFROMENVIRONMENT1", "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY}
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url, "profile": "p1"}, env=env)
    assert rc == 0, r
    assert [q.credential[0] for q in fake_sts.requests] == ["AKIAPROFILEP1EXAMPLE"]


def test_key_arguments_beat_profile_from_environment(run_module, fake_sts, aws_config_file):
    env = {**aws_config_file(PROFILE_P1), "AWS_PROFILE": "p1"}
    rc, r, _, _ = run_module(fake_sts_args(fake_sts), env=env)
    assert rc == 0, r
    assert [q.credential[0] for q in fake_sts.requests] == [TEST_ACCESS_KEY]


def test_profile_and_keys_both_from_environment_conflict(run_module, fake_sts, aws_config_file):
    env = {**aws_config_file(PROFILE_P1), "AWS_PROFILE": "p1",
           "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY}
    rc, r, _, _ = run_module({"endpoint_url": fake_sts.url}, env=env)
    assert rc == 1
    assert r["msg"].startswith("Passing both a profile and access tokens is not supported."), r["msg"]
    assert "AWS_PROFILE" in r["msg"] and "AWS_ACCESS_KEY_ID" in r["msg"]
    assert fake_sts.requests == []
