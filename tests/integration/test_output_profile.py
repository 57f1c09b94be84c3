"""Credentials that outlive the task: the STS modules with `output_profile` write what they get
into a profile of the AWS shared credentials file and answer later runs from it.

- reuse: a second run of the same request makes no call and returns the same credentials with
  changed: false; every change of the request, near expiry (min_ttl) and force_refresh refresh;
  check mode reports the decision, calls nothing and writes nothing; an MFA serial number alone
  is enough while nothing needs refreshing;
- the file: bytes outside the profile kept (comments, odd spacing, CRLF, no final newline), mode
  0600, a symlink kept, a profile we did not write refused, a writer stopped at each step or
  killed at random never leaves a partial file, 20 parallel forks keep 20 profiles;
- what was written works: boto3 and this collection's modules sign with the profile (moto);
- sts_session_token refuses to run signed with temporary credentials, before any call.

A recording STS stand-in (STS below) issues new credentials on every call, valid for
`lifetime` seconds from now, so that reuse and expiry can be told apart.
"""

import configparser
import datetime
import os
import pathlib
import random
import signal
import stat
import subprocess
import sys
import time

import pytest

from fake_role_sts import RoleSTS, unsigned_jwt

HERE = pathlib.Path(__file__).resolve().parent
PLAYBOOKS = HERE / "playbooks"
SOURCE = {"access_key": "AKIASOURCEEXAMPLE001", "secret_key": "sourceSecretKeyForOutputProfileTests0001"}
ROLE = "arn:aws:iam::123456789012:role/deployer"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
STEPS = ["Locked", "Read", "TempWritten", "TempSynced", "Renamed", "DirSynced"]

# A credentials file as people keep them: comments, odd spacing, other profiles, CRLF line
# ends and no final newline.
FIXTURE = (
    b"# work accounts\r\n"
    b"[default]\r\n"
    b"aws_access_key_id=AKIADEFAULTEXAMPLE01\r\n"
    b"aws_secret_access_key  :  defaultSecretKeyNeverTouched000000001\r\n"
    b"\r\n"
    b"; the build account\r\n"
    b"[build]\r\n"
    b"  region = eu-west-1\r\n"
    b"aws_access_key_id = AKIABUILDEXAMPLE0001"
)


class STS(RoleSTS):
    """RoleSTS whose credentials expire `lifetime` seconds after each call."""

    lifetime = 3600

    def answer(self, r):
        status, headers, body = super().answer(r)
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.lifetime)
        return status, headers, body.replace("2031-02-03T04:05:06.789Z", expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    def calls(self):
        return [a for a in self.actions() if a != "GetCallerIdentity"]


@pytest.fixture(scope="module")
def sts_server():
    with STS() as server:
        yield server


@pytest.fixture
def sts(sts_server):
    sts_server.clear()
    sts_server.lifetime = 3600
    return sts_server


@pytest.fixture
def run(run_named_module, sts, creds_file):
    """run(module, **options) -> result; signed with SOURCE against the stand-in, the profile
    `out` of creds_file unless told otherwise."""

    def go(module="sts_session_token", env=None, check_mode=False, diff=False, **options):
        args = {**SOURCE, "endpoint_url": sts.url, "output_profile": "out", "credentials_file": str(creds_file),
                **options}
        if module == "sts_assume_role_with_web_identity":
            for k in ("access_key", "secret_key"):
                args.pop(k)
        args = {k: v for k, v in args.items() if v is not None}
        return run_named_module(module, args, env=env, check_mode=check_mode, diff=diff).result

    return go


def profile(path, name="out"):
    parser = configparser.RawConfigParser()
    parser.read_string(pathlib.Path(path).read_text())
    return dict(parser[name]) if parser.has_section(name) else None


ROLE_ARGS = {
    "sts_session_token": {},
    "sts_assume_role": {"role_arn": ROLE, "role_session_name": "deploy"},
    "sts_assume_role_with_web_identity": {"role_arn": ROLE, "role_session_name": "deploy",
                                          "web_identity_token": unsigned_jwt({"sub": "app"})},
}


# --------------------------------------------------------------------------------------------
# Reuse


@pytest.mark.parametrize("module", sorted(ROLE_ARGS))
def test_the_second_run_makes_no_call_and_returns_the_same_credentials(run, sts, creds_file, module):
    first = run(module, **ROLE_ARGS[module])
    assert first["changed"] is True, first
    assert first["refresh_reason"] == "the profile does not exist yet"
    assert first["credentials_file"] == str(creds_file)
    assert len(sts.calls()) == 1
    sts.clear()
    second = run(module, **ROLE_ARGS[module])
    assert sts.actions() == [], "a reused profile must make no call"
    assert second["changed"] is False and second["refresh_reason"] is None
    same = ["sts_creds", "env", "sts_user", "source_identity", "provider", "audience",
            "subject_from_web_identity_token"]
    assert {k: second.get(k) for k in same} == {k: first.get(k) for k in same}
    assert 3500 < second["expires_in"] <= 3600
    stored = profile(creds_file)
    assert stored["aws_access_key_id"] == first["sts_creds"]["access_key"]
    assert stored["aws_secret_access_key"] == first["sts_creds"]["secret_key"]
    assert stored["aws_session_token"] == first["sts_creds"]["session_token"]
    assert stored["expiration"] == first["sts_creds"]["expiration"]
    assert stored["x_rustaws_creds_managed"] == "true"


CHANGES = [
    ("sts_session_token", {"duration_seconds": 7200}),
    ("sts_session_token", {"access_key": "AKIAANOTHERSOURCE001"}),
    ("sts_session_token", {"region": "eu-west-1"}),
    ("sts_session_token", {"endpoint_url": "ENDPOINT/"}),
    ("sts_assume_role", {"role_arn": "arn:aws:iam::123456789012:role/other"}),
    ("sts_assume_role", {"role_session_name": "other"}),
    ("sts_assume_role", {"policy": '{"Version": "2012-10-17", "Statement": []}'}),
    ("sts_assume_role", {"policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}),
    ("sts_assume_role", {"duration_seconds": 1800}),
    ("sts_assume_role", {"external_id": "ext-2"}),
    ("sts_assume_role", {"tags": {"team": "b"}}),
    ("sts_assume_role", {"source_identity": "bob"}),
    ("sts_assume_role_with_web_identity", {"role_arn": "arn:aws:iam::123456789012:role/other"}),
]


@pytest.mark.parametrize("module,change", CHANGES, ids=[f"{m}-{next(iter(c))}" for m, c in CHANGES])
def test_each_change_of_the_request_refreshes(run, sts, module, change):
    base = {**ROLE_ARGS[module]}
    if module == "sts_assume_role":
        base.update(external_id="ext-1", tags={"team": "a"}, source_identity="alice")
    first = run(module, **base)
    change = {k: (sts.url + "/" if v == "ENDPOINT/" else v) for k, v in change.items()}
    sts.clear()
    changed = run(module, **{**base, **change})
    assert changed["changed"] is True, changed
    assert changed["refresh_reason"] == "the profile holds credentials obtained for another request"
    assert len(sts.calls()) == 1
    assert changed["sts_creds"] != first["sts_creds"]
    sts.clear()
    again = run(module, **{**base, **change})
    assert again["changed"] is False and sts.actions() == []


def test_a_policy_given_as_a_dict_is_the_same_request_as_its_json(run, sts):
    policy = {"Version": "2012-10-17", "Statement": []}
    run("sts_assume_role", **ROLE_ARGS["sts_assume_role"], policy=policy)
    sts.clear()
    again = run("sts_assume_role", **ROLE_ARGS["sts_assume_role"],
                policy='{"Version":"2012-10-17","Statement":[]}')
    assert again["changed"] is False and sts.actions() == []


def test_credentials_within_min_ttl_are_refreshed(run, sts):
    sts.lifetime = 1000
    run()
    sts.clear()
    kept = run(min_ttl=900)
    assert kept["changed"] is False and sts.actions() == []
    near = run(min_ttl=1200)
    assert near["changed"] is True and len(sts.calls()) == 1
    assert near["refresh_reason"].startswith("the credentials in the profile expire in ")
    assert near["refresh_reason"].endswith("within min_ttl (1200 s)")
    assert any("within min_ttl (1200 s): every run will get new ones" in w for w in near["warnings"])


def test_force_refresh_refreshes(run, sts):
    first = run()
    sts.clear()
    forced = run(force_refresh=True)
    assert forced["changed"] is True and forced["refresh_reason"] == "force_refresh is set"
    assert len(sts.calls()) == 1 and forced["sts_creds"] != first["sts_creds"]


def test_check_mode_says_what_a_run_would_do_and_writes_nothing(run, sts, creds_file):
    probe = run(check_mode=True)
    assert probe["changed"] is True and probe["refresh_reason"] == "the profile does not exist yet"
    assert "sts_creds" not in probe and sts.actions() == []
    assert not creds_file.exists() and not creds_file.parent.exists()
    first = run()
    before = creds_file.read_bytes()
    sts.clear()
    probe = run(check_mode=True)
    assert probe["changed"] is False and probe["sts_creds"] == first["sts_creds"]
    probe = run(check_mode=True, force_refresh=True)
    assert probe["changed"] is True and "sts_creds" not in probe
    assert sts.actions() == [] and creds_file.read_bytes() == before


def test_without_output_profile_check_mode_still_skips(run_named_module, sts):
    r = run_named_module("sts_session_token", {**SOURCE, "endpoint_url": sts.url}, check_mode=True).result
    assert r["skipped"] is True and sts.actions() == []


def test_diff_shows_which_keys_change_with_secrets_hidden(run, creds_file):
    first = run(diff=True)
    diff = first["diff"]
    assert diff["before"] == ""
    assert f"aws_access_key_id = {first['sts_creds']['access_key']}\n" in diff["after"]
    assert "aws_secret_access_key = <hidden, new>\n" in diff["after"]
    assert first["sts_creds"]["secret_key"] not in str(diff)
    assert first["sts_creds"]["session_token"] not in str(diff)
    assert diff["before_header"] == f"{creds_file} [out]"
    second = run(diff=True, force_refresh=True)
    assert "aws_secret_access_key = <hidden>\n" in second["diff"]["before"]
    assert "aws_secret_access_key = <hidden, new>\n" in second["diff"]["after"]
    assert second["sts_creds"]["secret_key"] not in str(second["diff"])


def test_diff_at_vvv_in_a_playbook_shows_no_secret(playbook, sts, creds_file):
    """The unified diff ansible prints; the end-of-session secret scan reads the whole output
    (and the credentials file, its lock and any temporary file) for secrets out of place."""
    env = {"FAKE_ROLE_STS_URL": sts.url, "CREDS_FILE": str(creds_file),
           "AWS_ACCESS_KEY_ID": SOURCE["access_key"], "AWS_SECRET_ACCESS_KEY": SOURCE["secret_key"]}
    for _ in range(2):
        out = playbook("output_profile_diff.yml", env=env, args=["--diff", "-vvv"]).stdout
        assert f"--- before: {creds_file} [diffed]" in out, out
        assert "+aws_secret_access_key = <hidden, new>" in out and "+aws_session_token = <hidden, new>" in out
    assert "-aws_secret_access_key = <hidden>" in out
    secret = profile(creds_file, "diffed")["aws_secret_access_key"]
    returned = out.count(f'"secret_key": "{secret}"') + out.count(f'"AWS_SECRET_ACCESS_KEY": "{secret}"')
    assert out.count(secret) == returned == 2, "only as the returned sts_creds and env"


# --------------------------------------------------------------------------------------------
# MFA


def test_mfa_options_come_together_without_output_profile(run_named_module, sts):
    for module in ("sts_session_token", "sts_assume_role"):
        args = {**SOURCE, "endpoint_url": sts.url, **ROLE_ARGS[module]}
        r = run_named_module(module, {**args, "mfa_serial_number": SERIAL}).result
        assert r["failed"] and r["msg"].startswith("mfa_serial_number is set but mfa_token is not"), r
        r = run_named_module(module, {**args, "mfa_token": "123456"}).result
        assert r["failed"] and r["msg"].startswith("mfa_token is set but mfa_serial_number is not"), r
    assert sts.actions() == []


def test_the_serial_alone_is_enough_while_the_profile_is_reused(run, sts):
    first = run(mfa_serial_number=SERIAL, mfa_token="123456")
    assert sts.requests[-1].form["TokenCode"] == "123456"
    sts.clear()
    kept = run(mfa_serial_number=SERIAL)
    assert kept["changed"] is False and kept["sts_creds"] == first["sts_creds"]
    ignored = run(mfa_serial_number=SERIAL, mfa_token="654321")
    assert ignored["changed"] is False and sts.actions() == []
    needed = run(mfa_serial_number=SERIAL, force_refresh=True)
    assert needed["failed"] and sts.actions() == []
    assert "new credentials are needed (force_refresh is set)" in needed["msg"]
    assert "need an MFA code" in needed["msg"] and "mfa_token" in needed["msg"]
    alone = run(mfa_token="123456")
    assert alone["failed"] and alone["msg"].startswith("mfa_token is set but mfa_serial_number is not")


def test_a_play_prompts_for_the_code_only_when_a_refresh_is_needed(playbook, sts, creds_file):
    """README's daily-MFA pattern: probe in check mode, pause only when changed."""
    env = {"FAKE_ROLE_STS_URL": sts.url, "CREDS_FILE": str(creds_file), **{
        "AWS_ACCESS_KEY_ID": SOURCE["access_key"], "AWS_SECRET_ACCESS_KEY": SOURCE["secret_key"]}}
    out = playbook("output_profile_mfa.yml", env=env, args=["-e", "mfa_code_answer=123456"]).stdout
    assert "prompted=True" in out
    assert [r.form.get("TokenCode") for r in sts.requests if r.action == "GetSessionToken"] == ["123456"]
    sts.clear()
    out = playbook("output_profile_mfa.yml", env=env, args=["-e", "mfa_code_answer=123456"]).stdout
    assert "prompted=False" in out and sts.actions() == []


# --------------------------------------------------------------------------------------------
# Refusals before any call


def test_a_profile_we_did_not_write_is_refused_unless_told(run, sts, creds_file):
    creds_file.parent.mkdir()
    creds_file.write_bytes(FIXTURE)
    r = run(output_profile="build")
    assert r["failed"] and sts.actions() == []
    assert r["msg"] == (f"output_profile build: profile [build] in {creds_file} was not written by this "
                        "collection, so it is left alone. Choose another output_profile, or set "
                        "overwrite_unmanaged_profile: true to replace it.")
    assert creds_file.read_bytes() == FIXTURE
    r = run(output_profile="build", overwrite_unmanaged_profile=True)
    assert r["changed"] is True and profile(creds_file, "build")["x_rustaws_creds_managed"] == "true"
    assert "region" not in profile(creds_file, "build"), "the section holds only what was written"


def test_the_profile_the_task_signs_with_is_refused(run_named_module, sts, tmp_path):
    creds = tmp_path / "credentials"
    creds.write_text(f"[source]\naws_access_key_id = {SOURCE['access_key']}\n"
                     f"aws_secret_access_key = {SOURCE['secret_key']}\n")
    r = run_named_module("sts_session_token", {"profile": "source", "endpoint_url": sts.url,
                                               "output_profile": "source"},
                         env={"AWS_SHARED_CREDENTIALS_FILE": str(creds)}).result
    assert r["failed"] and sts.actions() == []
    assert r["msg"] == ("output_profile source is the profile this task signs with; credentials written there "
                        "would sign the next run in its place. Choose another output_profile.")


@pytest.mark.parametrize("where", ["option", "environment", "profile"])
def test_sts_session_token_refuses_session_credentials(run_named_module, sts, tmp_path, where):
    token = "FwoGZXIvYXdzEOutputProfileTestSessionToken0000000001"
    args, env = {"endpoint_url": sts.url}, {}
    if where == "option":
        args.update(SOURCE, session_token=token)
    elif where == "environment":
        args.update(SOURCE)
        env["AWS_SESSION_TOKEN"] = token
    else:
        creds = tmp_path / "credentials"
        creds.write_text(f"[temp]\naws_access_key_id = ASIATEMPEXAMPLE00001\n"
                         f"aws_secret_access_key = {SOURCE['secret_key']}\naws_session_token = {token}\n")
        args["profile"] = "temp"
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(creds)
    r = run_named_module("sts_session_token", args, env=env).result
    assert r["failed"] and sts.actions() == [], r
    assert r["msg"].startswith("Cannot call GetSessionToken with session credentials"), r["msg"]
    assert "use sts_assume_role" in r["msg"]
    expected = {"option": "the session_token option", "environment": "AWS_SESSION_TOKEN",
                "profile": "profile temp"}[where]
    assert expected in r["msg"]


def test_a_role_profile_is_resolved_once_and_refused_for_a_session_token(run_named_module, sts, tmp_path,
                                                                         aws_config_file):
    creds = tmp_path / "credentials"
    creds.write_text(f"[base]\naws_access_key_id = {SOURCE['access_key']}\n"
                     f"aws_secret_access_key = {SOURCE['secret_key']}\n")
    env = aws_config_file(f"[profile role]\nrole_arn = {ROLE}\nsource_profile = base\n")
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_ENDPOINT_URL_STS=sts.url)
    r = run_named_module("sts_session_token", {"profile": "role", "endpoint_url": sts.url}, env=env).result
    assert r["failed"] and "(from profile role) are temporary" in r["msg"], r
    assert sts.actions() == ["AssumeRole"]


# --------------------------------------------------------------------------------------------
# The file


def test_bytes_outside_the_profile_are_kept(run, creds_file):
    creds_file.parent.mkdir()
    creds_file.write_bytes(FIXTURE)
    first = run()
    text = creds_file.read_bytes()
    assert text.startswith(FIXTURE + b"\r\n[out]\r\n"), text
    assert not text.endswith(b"\n"), "the file had no final newline and keeps none"
    assert b"\n" not in text.replace(b"\r\n", b""), "new lines use the file's CRLF"
    run(force_refresh=True)
    again = creds_file.read_bytes()
    assert again.startswith(FIXTURE + b"\r\n[out]\r\n") and again != text
    assert first["sts_creds"]["secret_key"].encode() not in again


def test_mode_0600_and_a_private_directory(run, creds_file):
    run()
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(creds_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(pathlib.Path(f"{creds_file}.lock").stat().st_mode) == 0o600


def test_a_symlinked_file_is_written_through(run, tmp_path):
    target = tmp_path / "real" / "credentials"
    target.parent.mkdir()
    target.write_bytes(FIXTURE)
    link = tmp_path / "link-credentials"
    link.symlink_to(target)
    run(credentials_file=str(link))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes().startswith(FIXTURE) and profile(target) is not None


@pytest.mark.parametrize("step", STEPS)
def test_a_writer_stopped_at_each_step_leaves_the_old_or_the_new_file(run_named_module, raw_module, sts, creds_file,
                                                                      step, hooked_executable):
    creds_file.parent.mkdir()
    creds_file.write_bytes(FIXTURE)
    args = {**SOURCE, "endpoint_url": sts.url, "output_profile": "out", "credentials_file": str(creds_file)}
    proc = raw_module("sts_session_token", args, env={"RUSTAWS_CREDS_TEST_STOP_AT": step},
                      executable=hooked_executable)
    assert proc.returncode != 0
    text = creds_file.read_bytes()
    if STEPS.index(step) < STEPS.index("Renamed"):
        assert text == FIXTURE, step
    else:
        assert text.startswith(FIXTURE + b"\r\n[out]\r\n") and profile(creds_file)["x_rustaws_creds_managed"] == "true"
    # The next run cleans up after the stopped one and writes a whole file.
    r = run_named_module("sts_session_token", {**args, "force_refresh": True}).result
    assert r["changed"] is True
    leftovers = [p.name for p in creds_file.parent.iterdir() if p.name not in ("credentials", "credentials.lock")]
    assert leftovers == []


def test_credentials_whose_write_fails_after_the_call_are_saved_not_printed(run_named_module, sts, tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the directory should be\n")
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    args = {**SOURCE, "endpoint_url": sts.url, "output_profile": "out",
            "credentials_file": str(blocked / "credentials")}
    run = run_named_module("sts_session_token", args, env={"HOME": str(home)})
    r = run.result
    saved = pathlib.Path(r["unsaved_credentials_file"])
    assert saved.parent == home / ".rustaws-creds/unsaved" and saved.name.startswith("out-"), saved
    assert r["msg"] == (
        f"Got new credentials from GetSessionToken but could not write them to profile [out] of "
        f"{blocked / 'credentials'}: cannot inspect {blocked / 'credentials'}: not a directory. They were "
        f"saved to {saved} instead (mode 0600, that one profile); they are not in this result.")
    assert r["failed"] and "sts_creds" not in r and "env" not in r and sts.calls() == ["GetSessionToken"]
    kept = profile(saved)
    assert kept["aws_secret_access_key"] not in run.stdout
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    # The saved file is a managed profile of its own: the same request is answered from it.
    sts.clear()
    again = run_named_module("sts_session_token", {**args, "credentials_file": str(saved)}).result
    assert again["changed"] is False and sts.calls() == [], again
    assert again["sts_creds"]["secret_key"] == kept["aws_secret_access_key"]


@pytest.mark.parametrize("step", STEPS)
def test_the_shipped_executable_has_no_test_hook(run_named_module, sts, creds_file, step):
    """RUSTAWS_CREDS_TEST_STOP_AT stops only debug builds: the shipped one writes the profile."""
    args = {**SOURCE, "endpoint_url": sts.url, "output_profile": "out", "credentials_file": str(creds_file)}
    r = run_named_module("sts_session_token", args, env={"RUSTAWS_CREDS_TEST_STOP_AT": step}).result
    assert r["changed"] is True and not r.get("failed"), r
    assert profile(creds_file, "out")["x_rustaws_creds_managed"] == "true"


def test_a_writer_killed_at_random_moments_never_leaves_a_partial_file(raw_module, sts, creds_file):
    creds_file.parent.mkdir()
    creds_file.write_bytes(FIXTURE)
    args = {**SOURCE, "endpoint_url": sts.url, "output_profile": "out", "credentials_file": str(creds_file),
            "force_refresh": True}
    rng = random.Random(16)
    outcomes = set()
    for _ in range(40):
        proc = raw_module("sts_session_token", args, popen=True)
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcomes.add(proc.returncode)
        text = creds_file.read_bytes()
        assert text.startswith(FIXTURE), "the rest of the file is never lost"
        stored = profile(creds_file)
        assert text == FIXTURE or (stored and set(stored) >= {
            "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "expiration",
            "x_rustaws_creds_managed", "x_rustaws_creds_request"}), text
    assert -signal.SIGKILL in outcomes, "no run was killed: the loop shows nothing"


def test_twenty_forks_writing_twenty_profiles_keep_all_twenty(env, sts, creds_file, tmp_path):
    from harness import merge_env, assert_network_safe

    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[fleet]\n" + "".join(f"h{i:02d} ansible_connection=local\n" for i in range(20)))
    full_env = merge_env(env, {"FAKE_ROLE_STS_URL": sts.url, "CREDS_FILE": str(creds_file),
                                "AWS_ACCESS_KEY_ID": SOURCE["access_key"],
                                "AWS_SECRET_ACCESS_KEY": SOURCE["secret_key"]})
    assert_network_safe(full_env)
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), "-f", "20",
                           str(PLAYBOOKS / "output_profile_forks.yml")], capture_output=True, text=True,
                          timeout=300, env=full_env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    parser = configparser.RawConfigParser()
    parser.read_string(creds_file.read_text())
    assert sorted(parser.sections()) == [f"h{i:02d}" for i in range(20)]
    keys = {parser[s]["aws_access_key_id"] for s in parser.sections()}
    assert len(keys) == 20 and len(sts.calls()) == 20


# --------------------------------------------------------------------------------------------
# What was written works (moto)


def test_boto3_and_our_modules_sign_with_the_written_profile(run_named_module, moto, creds_file):
    r = run_named_module("sts_session_token", {**SOURCE, "endpoint_url": moto.url, "output_profile": "daily",
                                               "credentials_file": str(creds_file)}).result
    assert r["changed"] is True
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds_file)}
    me = run_named_module("aws_caller_info", {"profile": "daily", "endpoint_url": moto.url}, env=env).result
    assert me["account"] and not me.get("failed"), me
    code = ("import boto3, sys; s = boto3.Session(profile_name='daily');"
            " c = s.client('sts', endpoint_url=sys.argv[1], region_name='us-east-1');"
            " print(c.get_caller_identity()['Account']); print(s.get_credentials().access_key)")
    out = subprocess.run([sys.executable, "-c", code, moto.url], capture_output=True, text=True, timeout=60,
                         env={"PATH": os.environ["PATH"], "AWS_SHARED_CREDENTIALS_FILE": str(creds_file),
                              "AWS_CONFIG_FILE": str(creds_file.parent / "none"), "AWS_EC2_METADATA_DISABLED": "true"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [me["account"], r["sts_creds"]["access_key"]]


# --------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture
def raw_module(collections_dir, env):
    """raw_module(name, args, env=None, popen=False): the module run as ansible-core runs it,
    without the protocol checks (a run that is stopped prints nothing)."""
    import json

    from harness import INTERNAL_ARGS, merge_env, assert_network_safe

    modules = collections_dir / "ansible_collections/rustaws/creds/plugins/modules"
    base = env
    counter = iter(range(10**6))

    def run(name, args, env=None, popen=False, executable=None):
        """executable: another build of the executable (hooked_executable) instead of the shipped one."""
        full_env = merge_env(base, env)
        assert_network_safe(full_env, args)
        payload = {**args, **INTERNAL_ARGS, "_ansible_module_name": f"rustaws.creds.{name}"}
        args_file = pathlib.Path(full_env["ANSIBLE_LOCAL_TEMP"]).parent / f"raw-args-{name}-{next(counter)}"
        args_file.write_text(json.dumps(payload))
        argv = [str(executable), name, str(args_file)] if executable else [str(modules / name), str(args_file)]
        if popen:
            return subprocess.Popen(argv, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        return subprocess.run(argv, env=full_env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)

    return run
