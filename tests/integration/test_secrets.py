"""Secrets never leak. Known, distinctive secret values (a secret key, a session token,
an MFA code, a web-identity token, a profile's secret) go through every channel a module takes
them from (options, environment, AWS config file, token file, credentials returned by one task
and used by the next), through the module directly, ad hoc `ansible` and `ansible-playbook` at
-vvv, in successes, failures and check mode. sts_session_token refuses credentials that carry a
session token (GetSessionToken does), so the runs given one are sts_assume_role's, which takes
the same secrets (MFA included), or aws_caller_info's.

Each test scans what its own runs produced at once; the last test of the session scans what
every test of the suite produced (tests/support/secret_scanner.py says how values are learnt
and where they belong). A finding never shows the secret itself, only its first characters and
length.
"""

import json
import textwrap

import pytest

from harness import PLACEHOLDER, TEST_ACCESS_KEY

SECRET_KEY = "kNoWnSeCrEtKeY/rustaws+0123456789abcdefXYZ"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEKnownSessionToken/rustaws+00000000000000000000"
MFA_CODE = "847261"
WEB_IDENTITY_TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJydXN0YXdzLWtub3duLXN1YmplY3QiLCJhdWQiOiJydXN0YXdzIn0."
PROFILE_SECRET = "pRoFiLeSeCrEt/rustaws+known0000000000000000"
SERIAL = "arn:aws:iam::123456789012:mfa/known-user"
ROLE = "arn:aws:iam::123456789012:role/known-role"
ASSUME = {"role_arn": ROLE, "role_session_name": "known"}
KNOWN = {
    "KNOWN_SECRET_KEY": SECRET_KEY, "KNOWN_SESSION_TOKEN": SESSION_TOKEN, "KNOWN_MFA_CODE": MFA_CODE,
    "KNOWN_WEB_IDENTITY_TOKEN": WEB_IDENTITY_TOKEN,
}


def report(findings):
    return "\n".join(f"- {f.where}: {f.origin} {f.secret} in ...{f.context}..." for f in findings)


@pytest.fixture
def scanned(secret_recorder):
    """Asserts that what the test's own runs produced holds no secret out of place."""
    mark = secret_recorder.mark()
    yield secret_recorder
    findings = secret_recorder.scan(since=mark)
    assert not findings, f"{len(findings)} secret(s) out of place:\n{report(findings)}"


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "web-identity-token"
    path.write_text(WEB_IDENTITY_TOKEN + "\n")
    return path


def test_module_output_holds_no_input_secret(run_module, run_named_module, moto, scanned, aws_config_file):
    """The module run directly, secrets from options, environment, a profile and a token file."""
    rc, r, stdout, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET_KEY,
                                   "mfa_token": MFA_CODE, "mfa_serial_number": SERIAL})
    assert rc == 0, r
    assert r["invocation"]["module_args"]["secret_key"] == PLACEHOLDER
    # With a session token too (sts_assume_role: sts_session_token refuses one).
    rc, r, _, _ = run_named_module("sts_assume_role", {
        "endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET_KEY,
        "session_token": SESSION_TOKEN, "mfa_token": MFA_CODE, "mfa_serial_number": SERIAL, **ASSUME})
    assert rc == 0, r
    assert r["invocation"]["module_args"]["secret_key"] == PLACEHOLDER
    assert r["invocation"]["module_args"]["session_token"] == PLACEHOLDER
    rc, r, _, _ = run_named_module("sts_assume_role", {"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY,
                                                       **ASSUME},
                                   env={"AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN})
    assert rc == 0, r
    env = aws_config_file(f"[profile known]\naws_access_key_id = {TEST_ACCESS_KEY}\n"
                          f"aws_secret_access_key = {PROFILE_SECRET}\n")
    rc, r, _, _ = run_module({"endpoint_url": moto.url, "profile": "known"}, env=env)
    assert rc == 0, r
    # Failures with every secret present: the value checks, and a service error.
    rc, r, _, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET_KEY,
                              "mfa_token": MFA_CODE, "mfa_serial_number": f"bad {MFA_CODE} {SECRET_KEY}"})
    assert rc == 1 and "mfa_serial_number may only contain" in r["msg"], r
    rc, r, _, _ = run_named_module("sts_assume_role", {
        "endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET_KEY,
        "session_token": SESSION_TOKEN, "mfa_token": MFA_CODE, "mfa_serial_number": f"bad {MFA_CODE} {SECRET_KEY}",
        **ASSUME})
    assert rc == 1 and "mfa_serial_number may only contain" in r["msg"], r
    rc, r, _, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET_KEY,
                              "duration_seconds": 100, "mfa_token": MFA_CODE, "mfa_serial_number": SERIAL})
    assert rc == 1, r
    for value in (SECRET_KEY, SESSION_TOKEN, PROFILE_SECRET):
        assert scanned.secrets.get(value), f"{value[:4]}... was not learnt"


def test_web_identity_token_is_never_shown(run_named_module, moto, scanned, token_file):
    """sts_assume_role_with_web_identity with the token as option and as file."""
    for extra in ({"web_identity_token": WEB_IDENTITY_TOKEN}, {"web_identity_token_file": str(token_file)}):
        rc, r, _, _ = run_named_module("sts_assume_role_with_web_identity", {
            "endpoint_url": moto.url, "role_arn": ROLE, "role_session_name": "known", **extra})
        assert rc == 0, r
        assert set(r["sts_creds"]) >= {"access_key", "secret_key", "session_token"}
        if "web_identity_token" in extra:
            assert r["invocation"]["module_args"]["web_identity_token"] == PLACEHOLDER
    assert scanned.secrets.get(WEB_IDENTITY_TOKEN), "the token (option and file content) was not learnt"


PLAYBOOK = textwrap.dedent("""\
    - hosts: localhost
      gather_facts: false
      vars:
        moto: "{{ lookup('env', 'MOTO_URL') }}"
      tasks:
        - name: Session token with MFA, secrets from the environment of the controller
          rustaws.creds.sts_session_token:
            endpoint_url: "{{ moto }}"
            access_key: AKIAIOSFODNN7EXAMPLE
            secret_key: "{{ lookup('env', 'KNOWN_SECRET_KEY') }}"
            mfa_serial_number: %(serial)s
            mfa_token: "{{ lookup('env', 'KNOWN_MFA_CODE') }}"
          register: session%(no_log)s

        # sts_session_token refuses a session token: sts_assume_role takes every known secret.
        - name: A role with MFA, every secret from the environment of the controller
          rustaws.creds.sts_assume_role:
            endpoint_url: "{{ moto }}"
            access_key: AKIAIOSFODNN7EXAMPLE
            secret_key: "{{ lookup('env', 'KNOWN_SECRET_KEY') }}"
            session_token: "{{ lookup('env', 'KNOWN_SESSION_TOKEN') }}"
            mfa_serial_number: %(serial)s
            mfa_token: "{{ lookup('env', 'KNOWN_MFA_CODE') }}"
            role_arn: %(role)s
            role_session_name: known-mfa
          register: known%(no_log)s

        - name: The returned credentials, used by the next task
          rustaws.creds.sts_assume_role:
            endpoint_url: "{{ moto }}"
            access_key: "{{ session.sts_creds.access_key }}"
            secret_key: "{{ session.sts_creds.secret_key }}"
            session_token: "{{ session.sts_creds.session_token }}"
            role_arn: %(role)s
            role_session_name: known
          register: role%(no_log)s

        - name: Caller identity with the role's credentials
          rustaws.creds.aws_caller_info:
            endpoint_url: "{{ moto }}"
            access_key: "{{ role.sts_creds.access_key }}"
            secret_key: "{{ role.sts_creds.secret_key }}"
            session_token: "{{ role.sts_creds.session_token }}"%(no_log)s

        - name: Web identity
          rustaws.creds.sts_assume_role_with_web_identity:
            endpoint_url: "{{ moto }}"
            role_arn: %(role)s
            role_session_name: known
            web_identity_token: "{{ lookup('env', 'KNOWN_WEB_IDENTITY_TOKEN') }}"
          register: web%(no_log)s

        - name: A failure with every secret present
          rustaws.creds.sts_assume_role:
            endpoint_url: "{{ moto }}"
            access_key: AKIAIOSFODNN7EXAMPLE
            secret_key: "{{ lookup('env', 'KNOWN_SECRET_KEY') }}"
            session_token: "{{ lookup('env', 'KNOWN_SESSION_TOKEN') }}"
            mfa_serial_number: "bad serial {{ lookup('env', 'KNOWN_MFA_CODE') }}"
            mfa_token: "{{ lookup('env', 'KNOWN_MFA_CODE') }}"
            role_arn: %(role)s
            role_session_name: known
          ignore_errors: true
          register: failed%(no_log)s

        - name: A failure of sts_session_token with its secrets present
          rustaws.creds.sts_session_token:
            endpoint_url: "{{ moto }}"
            access_key: AKIAIOSFODNN7EXAMPLE
            secret_key: "{{ lookup('env', 'KNOWN_SECRET_KEY') }}"
            mfa_serial_number: "bad serial {{ lookup('env', 'KNOWN_MFA_CODE') }}"
            mfa_token: "{{ lookup('env', 'KNOWN_MFA_CODE') }}"
          ignore_errors: true
          register: failed_session%(no_log)s

        - name: Check mode with every secret present
          rustaws.creds.sts_session_token:
            endpoint_url: "{{ moto }}"
            access_key: AKIAIOSFODNN7EXAMPLE
            secret_key: "{{ lookup('env', 'KNOWN_SECRET_KEY') }}"
            mfa_serial_number: %(serial)s
            mfa_token: "{{ lookup('env', 'KNOWN_MFA_CODE') }}"
          check_mode: true%(no_log)s

        - ansible.builtin.assert:
            that:
              - session is changed
              - known is changed
              - role.sts_creds.secret_key | length > 0
              - web.sts_creds.session_token | length > 0
              - failed is failed
              - failed.msg is search('mfa_serial_number may only contain')
              - failed_session is failed
              - failed_session.msg is search('mfa_serial_number may only contain')
""")


def write_playbook(tmp_path, no_log):
    path = tmp_path / ("known-secrets-no-log.yml" if no_log else "known-secrets.yml")
    path.write_text(PLAYBOOK % {"serial": SERIAL, "role": ROLE, "no_log": "\n      no_log: true" if no_log else ""})
    return path


def run_playbook(env, moto, path, tmp_path):
    import subprocess

    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(path), "-vvv"],
        capture_output=True, text=True, timeout=300, env={**env, "MOTO_URL": moto.url, **KNOWN}, cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"ansible-playbook exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def test_playbook_at_vvv_shows_secrets_only_as_returned_credentials(env, moto, tmp_path, scanned):
    out = run_playbook(env, moto, write_playbook(tmp_path, no_log=False), tmp_path)
    assert '"mfa_token": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in out
    assert '"web_identity_token": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in out
    assert "sts_creds" in out  # the returned credentials are shown, as without no_log they are


def test_no_log_tasks_at_vvv_show_no_secret_at_all(env, moto, tmp_path, run_module, scanned):
    """With no_log on every task even the returned credentials stay hidden: the values moto
    returns for GetSessionToken (always the same) must not appear anywhere."""
    rc, first, _, _ = run_module({"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET_KEY})
    assert rc == 0, first
    issued = first["sts_creds"]
    out = run_playbook(env, moto, write_playbook(tmp_path, no_log=True), tmp_path)
    assert "the output has been hidden due to the fact that 'no_log: true' was specified" in out
    for name, value in [("issued secret key", issued["secret_key"]), ("issued session token", issued["session_token"]),
                        *KNOWN.items()]:
        assert value not in out, f"{name} shown although every task has no_log"
    assert "sts_creds" not in out


def test_adhoc_at_vvv_shows_no_input_secret(adhoc, moto, scanned):
    r = adhoc(f"endpoint_url={moto.url} access_key={TEST_ACCESS_KEY} secret_key={SECRET_KEY} "
              f"mfa_token={MFA_CODE} mfa_serial_number={SERIAL}", verbosity=3)
    assert (r.rc, r.status) == (0, "changed"), r.stdout + r.stderr
    # With a session token too: sts_assume_role, as sts_session_token refuses one.
    r = adhoc(f"endpoint_url={moto.url} access_key={TEST_ACCESS_KEY} secret_key={SECRET_KEY} "
              f"session_token={SESSION_TOKEN} mfa_token={MFA_CODE} mfa_serial_number={SERIAL} "
              f"role_arn={ROLE} role_session_name=known", verbosity=3, module="rustaws.creds.sts_assume_role")
    assert (r.rc, r.status) == (0, "changed"), r.stdout + r.stderr
    r = adhoc(f"endpoint_url={moto.url} access_key={TEST_ACCESS_KEY} secret_key={SECRET_KEY} "
              f"mfa_token={MFA_CODE} mfa_serial_number=bad#{MFA_CODE}", verbosity=3)
    assert (r.rc, r.status) == (2, "fatal"), r.stdout + r.stderr


def test_the_scanner_finds_a_leak(secret_recorder):
    """The scanner itself: a secret in a msg is found, the same secret as a returned
    credential is not, and a six-digit code is found only as a whole number."""
    from secret_scanner import SecretRecorder

    rec = SecretRecorder(secret_recorder.basetemp)
    rec.add(SECRET_KEY, "test")
    rec.add(MFA_CODE, "test")
    rec.record_output("allowed", json.dumps({"changed": True, "sts_creds": {"secret_key": SECRET_KEY}}))
    rec.record_output("digits", f"ansible-tmp-1795{MFA_CODE}.3-1-2 serial 99{MFA_CODE}01")
    assert rec.scan() == []
    rec.record_output("leak", "ok: [localhost] => " + json.dumps({"msg": f"used {SECRET_KEY}"}))
    rec.record_output("leak in invocation", json.dumps(
        {"invocation": {"module_args": {"sts_creds": {"secret_key": SECRET_KEY}}}}))
    rec.record_output("code", f"code {MFA_CODE}.")
    found = rec.scan()
    assert [f.where for f in found] == ["leak", "leak in invocation", "code"], found
    assert all(SECRET_KEY not in f.context and SECRET_KEY not in f.secret for f in found)


def test_the_recorder_catches_real_leaks(adhoc, moto, env, tmp_path, secret_recorder):
    """End to end, on purpose: a playbook printing a secret from the environment, and ansible
    keeping its remote files (the args file holds the task's secrets) are both found. What
    these runs recorded is then dropped, so the session's scan does not count them."""
    import subprocess

    mark = secret_recorder.mark()
    try:
        playbook = tmp_path / "leak.yml"
        playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                            "    - ansible.builtin.debug:\n        msg: \"{{ lookup('env', 'KNOWN_SECRET_KEY') }}\"\n")
        proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)],
                              capture_output=True, text=True, timeout=120, env={**env, **KNOWN}, cwd=tmp_path,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        r = adhoc(f"endpoint_url={moto.url} access_key={TEST_ACCESS_KEY} session_token={SESSION_TOKEN} "
                  f"secret_key={SECRET_KEY}", env={"ANSIBLE_KEEP_REMOTE_FILES": "1"},
                  module="rustaws.creds.aws_caller_info")
        assert r.rc == 0, r.stdout + r.stderr
        found = secret_recorder.scan(since=mark)
        assert any(f.where.startswith("ansible-playbook") and f.secret.startswith(SECRET_KEY[:3])
                   for f in found), report(found)
        assert any(" wrote " in f.where and f.where.endswith("/args") for f in found), report(found)
        assert all(value not in f.context for f in found for value in (SECRET_KEY, SESSION_TOKEN, MFA_CODE))
    finally:
        secret_recorder.forget(mark)


@pytest.mark.secret_scan
def test_nothing_the_suite_produced_holds_a_secret_out_of_place(secret_recorder):
    """Runs last (conftest.py moves it): every output and file of every watched run of the
    session, scanned for every secret learnt."""
    findings = secret_recorder.scan()
    kinds = {
        "secret key": any("secret" in o.lower() for o in secret_recorder.secrets.values()),
        "session token": any("session_token" in o.lower() for o in secret_recorder.secrets.values()),
        "MFA code": any(len(v) == 6 and v.isdigit() for v in secret_recorder.secrets),
        "web-identity token": WEB_IDENTITY_TOKEN in secret_recorder.secrets,
    }
    summary = (f"{secret_recorder.runs} runs, {len(secret_recorder.outputs)} outputs "
               f"({sum(len(t) for _, t in secret_recorder.outputs)} characters), "
               f"{len(secret_recorder.files)} files, {len(secret_recorder.secrets)} secret values")
    print(summary)
    assert secret_recorder.runs > 0 and secret_recorder.outputs, "nothing was recorded"
    assert all(kinds.values()), f"no secret of kind {[k for k, v in kinds.items() if not v]} was seen ({summary})"
    assert not findings, f"{len(findings)} secret(s) out of place ({summary}):\n{report(findings)}"
