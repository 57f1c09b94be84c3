"""sso_login, the IAM Identity Center sign-in, through ansible-playbook against the installed
collection, with the stand-in of tests/support/fake_sso.py as SSO OIDC and the SSO portal
(AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO), HOME a temporary directory (the token
cache is HOME/.aws/sso/cache) and AWS_CONFIG_FILE a temporary config file.

- the device flow in two tasks as the module's EXAMPLES show it: the code, the approval, the
  token cached as the AWS CLI v2 writes it (keys, time format, mode, file name), then reused
  without any call; a second run while a sign-in is pending shares its code; the EXAMPLES in
  check mode;
- twenty forks at once start one device authorization and sign in once; forks waiting together
  get the one token approved meanwhile;
- refresh with the cached refresh token (rotated or kept), none with an expired registration, a
  sign-in when the refresh token is refused, a new registration when the service refuses the
  cached one (in the refresh, then in the device authorization started with it); a lock held
  longer than wait_timeout;
- failures, with their whole messages: denied, expired, nothing pending, wait_timeout, a
  service error's description, the config file's and the options' mistakes;
- check mode reports the decision and calls nothing, writes nothing: `pending` only for a
  sign-in that already waits (with its code), a wait with none pending fails as the run does;
- no secret the stand-in issued shows in any result or -vvv output, even when a careless
  service repeats them in an error;
- clients nobody here wrote read what the module cached: boto3 gets role credentials through an
  sso_session profile and a legacy profile, botocore refreshes the token near its expiry and
  rewrites the cache (which the module then reads), and the collection's aws_caller_info signs
  with the role credentials of the profile;
- another local user's pending file, token file or symbolic links in the cache directory (the
  sign-in lock among them, or the cache directory itself a link of theirs) are refused, nothing
  created or written through them; a regular lock file of theirs is only flock'ed (never
  written), as the credentials writer's lock is;
- the three config forms (sso_session, a profile naming one, a legacy profile), AWS_PROFILE
  and the options start_url + sso_region settle the same session.

The runs' cwd is a directory of its own, outside HOME: the secret scan keeps the files a run
writes under its cwd and temporary directories, and the token cache holds secrets on purpose.
Every test ends with the scan of what its runs printed and wrote for the stand-in's secrets.
"""

import base64
import datetime
import hashlib
import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import yaml
from fake_sso import DEFAULT_ACCOUNTS, DEVICE_GRANT, REFRESH_GRANT, Failure, FakeSso, stand_ins

from harness import VENV_BIN, assert_network_safe, merge_env

MODULE = "rustaws.creds.sso_login"
SESSION = "my-sso"
START_URL = "https://d-fake000001.awsapps.com/start"
REGION = "us-east-1"
LEGACY_URL = "https://d-fake000002.awsapps.com/start"
LEGACY_REGION = "eu-west-1"
SCOPES = ["sso:account:access"]
EIGHT_HOURS = 8 * 3600
ACCOUNT, ROLE = "111122223333", "Admin"
assert ROLE in DEFAULT_ACCOUNTS[ACCOUNT]["roles"]
CACHE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
TOKEN_KEYS = {"startUrl", "region", "accessToken", "expiresAt", "refreshToken", "clientId", "clientSecret",
              "registrationExpiresAt"}

CONFIG = f"""\
[sso-session {SESSION}]
sso_start_url = {START_URL}
sso_region = {REGION}
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = {SESSION}
sso_account_id = {ACCOUNT}
sso_role_name = {ROLE}
region = {REGION}

[profile legacy]
sso_start_url = {LEGACY_URL}
sso_region = {LEGACY_REGION}
sso_account_id = 444455556666
sso_role_name = Deploy
region = {LEGACY_REGION}

[profile plain]
region = {REGION}

[sso-session no-region]
sso_start_url = {START_URL}
"""


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def cache_time(moment):
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_cache_time(text):
    assert CACHE_TIME.fullmatch(text), text
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def report(findings):
    return "\n".join(f"- {f.where}: {f.origin} {f.secret} in ...{f.context}..." for f in findings)


# --------------------------------------------------------------------------------------------
# Fixtures: the stand-in (its secrets scanned for in what the test's runs produced), the machine


@pytest.fixture
def make_sso(known_secret, secret_recorder):
    """make_sso(**options): a started stand-in, closed after the test. Every secret it issued is
    then looked for in what this test's runs printed and wrote (it must be nowhere)."""
    mark = secret_recorder.mark()
    with stand_ins(known_secret) as make:
        yield make
    findings = secret_recorder.scan(since=mark)
    assert not findings, f"{len(findings)} secret(s) out of place:\n{report(findings)}"


@pytest.fixture
def sso(make_sso):
    return make_sso()


class Machine:
    """The controller as one user sees it: HOME (with the token cache), the AWS config file, and
    ansible-playbook runs of sso_login tasks on localhost or a fleet of local hosts."""

    def __init__(self, env, tmp_path, fake, home=None):
        self.fake = fake
        self.tmp = tmp_path
        self.home = pathlib.Path(home) if home else tmp_path / "home"
        self.home.mkdir(exist_ok=True)
        self.config = tmp_path / "aws-config"
        self.config.write_text(CONFIG)
        self.cwd = tmp_path / "run"
        self.cwd.mkdir(exist_ok=True)
        self.counter = 0
        self.env = merge_env(env, {
            "HOME": str(self.home), "AWS_CONFIG_FILE": str(self.config),
            "AWS_ENDPOINT_URL_SSO_OIDC": fake.url, "AWS_ENDPOINT_URL_SSO": fake.url,
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        })
        assert_network_safe(self.env)

    @property
    def cache_dir(self):
        return self.home / ".aws" / "sso" / "cache"

    def token_file(self, key=SESSION):
        return self.cache_dir / f"{sha1(key)}.json"

    def pending_file(self, key=SESSION):
        return self.cache_dir / f"{sha1(key)}.rustaws-creds-pending"

    def lock_file(self, key=SESSION):
        """The sign-in lock: credentials-file's lock (`<path>.lock`) of `<key>.rustaws-creds-sign-in`."""
        return self.cache_dir / f"{sha1(key)}.rustaws-creds-sign-in.lock"

    def token(self, key=SESSION):
        return json.loads(self.token_file(key).read_text())

    def inventory(self, hosts):
        path = self.cwd / f"hosts-{self.counter}.ini"
        path.write_text("[fleet]\n" + "".join(
            f"{h} ansible_connection=local ansible_python_interpreter={sys.executable}\n" for h in hosts))
        return path

    def play(self, tasks, hosts=("localhost",), forks=5, check=False, verbosity=3, env=None, rc=0):
        """Runs `tasks` (dicts; those with `register` get ignore_errors, so that a failure is a
        result too) on `hosts`, then keeps every registered result of every host. Returns
        ({register name: {host: result without invocation}}, completed process)."""
        self.counter += 1
        names = [t["register"] for t in tasks if "register" in t]
        tasks = [dict(t, ignore_errors=True) if "register" in t else t for t in tasks]
        out = self.cwd / f"results-{self.counter}.json"
        keep = "{{ {" + ", ".join(
            f"'{n}': dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, '{n}')"
            " | list))" for n in names) + "} | to_json }}"
        tasks.append({"name": "Keep the results", "ansible.builtin.copy": {"content": keep, "dest": str(out)},
                      "run_once": True, "check_mode": False})
        playbook = self.cwd / f"play-{self.counter}.yml"
        playbook.write_text(yaml.safe_dump([{"name": "sso_login", "hosts": "fleet", "gather_facts": False,
                                              "tasks": tasks}], sort_keys=False))
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory(hosts)), "-f", str(forks), str(playbook)]
        if check:
            cmd.append("--check")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        full_env = merge_env(self.env, env)
        assert_network_safe(full_env)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=full_env, cwd=self.cwd,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == rc, (f"ansible-playbook exited {proc.returncode}:\n{proc.stdout[-20000:]}\n"
                                       f"{proc.stderr}")
        results = json.loads(out.read_text())
        for by_host in results.values():
            for r in by_host.values():
                r.pop("invocation", None)
                # What ansible-core adds to a failure at -vvv when a module gives no traceback.
                if r.get("exception") == "(traceback unavailable)":
                    del r["exception"]
        return results, proc

    def login(self, check=False, **options):
        """One sso_login task on localhost: its result (without invocation)."""
        results, _ = self.play([{"name": "sso_login", MODULE: options, "register": "r"}], check=check)
        return results["r"]["localhost"]

    def sign_in(self, **options):
        """The whole device flow: start, approve, wait. Returns (first result, second result)."""
        first = self.login(**options)
        assert first["state"] == "pending", first
        self.fake.approve(first["user_code"])
        second = self.login(wait=True, **options)
        assert second["state"] == "signed_in", second
        return first, second

    def files(self):
        """Everything under HOME/.aws: path relative to HOME -> (mode, bytes or None for a dir)."""
        found = {}
        root = self.home / ".aws"
        if not root.exists():
            return found
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames:
                p = pathlib.Path(dirpath) / n
                found[str(p.relative_to(self.home))] = (mode(p), None)
            for n in filenames:
                p = pathlib.Path(dirpath) / n
                found[str(p.relative_to(self.home))] = (mode(p), p.read_bytes(), os.stat(p).st_mtime_ns)
        return found


@pytest.fixture
def machine(env, tmp_path, sso):
    return Machine(env, tmp_path, sso)


def pending_result(machine, r, changed, key=SESSION):
    """The whole result of a run that returns a pending sign-in, checked; its user code."""
    code = r.get("user_code", "")
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", code), r
    assert 590 <= r.get("code_expires_in", -1) <= 600, r
    assert r == {"changed": changed, "failed": False, "state": "pending", "pending": True,
                 "cache_file": str(machine.token_file(key)), "user_code": code,
                 "verification_uri": f"{machine.fake.url}/device",
                 "verification_uri_complete": f"{machine.fake.url}/device?user_code={code}",
                 "code_expires_in": r["code_expires_in"]}
    return code


def token_result(machine, r, state, changed, key=SESSION, lifetime=EIGHT_HOURS):
    """The whole result of a run that returns the cached token, checked against the cache."""
    cached = machine.token(key)
    assert lifetime - 30 <= r.get("expires_in", -1) <= lifetime, r
    assert r == {"changed": changed, "failed": False, "state": state, "pending": False,
                 "cache_file": str(machine.token_file(key)), "expires_at": cached["expiresAt"],
                 "expires_in": r["expires_in"]}


def check_token_cache(machine, key=SESSION, start_url=START_URL, region=REGION, grant=DEVICE_GRANT,
                      lifetime=EIGHT_HOURS):
    """The token cache file as the AWS CLI v2 writes it, holding what the stand-in issued."""
    fake = machine.fake
    path = machine.token_file(key)
    cached = machine.token(key)
    assert set(cached) == TOKEN_KEYS, cached.keys()
    assert (cached["startUrl"], cached["region"]) == (start_url, region)
    access = fake.token_info(cached["accessToken"])
    assert access is not None and (access["kind"], access["grant"]) == ("access", grant)
    assert access["client"] == cached["clientId"] and access["revoked"] is False
    refresh = fake.token_info(cached["refreshToken"])
    assert refresh is not None and refresh["kind"] == "refresh" and refresh["client"] == cached["clientId"]
    client = fake.clients[cached["clientId"]]
    assert cached["clientSecret"] == client.secret
    assert cached["registrationExpiresAt"] == cache_time(client.expires_at)
    assert abs(parse_cache_time(cached["expiresAt"]) - (time.time() + lifetime)) <= 30
    assert abs(parse_cache_time(cached["expiresAt"]) - access["expires_at"]) <= 1
    assert mode(path) == 0o600 and os.lstat(path).st_uid == os.geteuid()
    assert path.parent == machine.home / ".aws" / "sso" / "cache"
    return cached


# --------------------------------------------------------------------------------------------
# 1. The device flow as the EXAMPLES show it; the cache; a third run reuses it

EXAMPLE_TASKS = [
    {"name": "Start a sign-in, or reuse or refresh the session", MODULE: {"sso_session": SESSION},
     "register": "sso", "delegate_to": "localhost", "run_once": True},
    {"name": "Ask for the approval",
     "ansible.builtin.debug": {
         "msg": "Open {{ sso.verification_uri_complete }} and check the code {{ sso.user_code }}"},
     "when": "sso.pending", "run_once": True, "register": "asked"},
    {"name": "Wait for the approval", MODULE: {"sso_session": SESSION, "wait": True},
     "when": "sso.pending", "delegate_to": "localhost", "run_once": True, "register": "waited"},
]


def approve_when_asked(fake, timeout=60):
    """In the background: approves the first device authorization once it is started."""
    approved = []

    def go():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if fake.device_authorizations:
                time.sleep(0.5)
                approved.extend(fake.approve())
                return
            time.sleep(0.05)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread, approved


def test_the_examples_sign_in_and_cache_the_token_as_the_aws_cli_does(machine, sso):
    thread, approved = approve_when_asked(sso)
    results, _ = machine.play(EXAMPLE_TASKS)
    thread.join(60)
    first, asked, waited = (results[n]["localhost"] for n in ("sso", "asked", "waited"))

    code = pending_result(machine, first, changed=True)
    assert approved == [code]
    assert asked == {"changed": False, "failed": False, "msg": f"Open {sso.url}/device?user_code={code} and check "
                                                                f"the code {code}"}
    token_result(machine, waited, "signed_in", changed=True)

    # What was sent: one registration, one device authorization, polls until the approval.
    ops = sso.operations()
    assert ops[:2] == ["RegisterClient", "StartDeviceAuthorization"] and set(ops[2:]) == {"CreateToken"}, ops
    register, start = sso.calls[:2]
    client_id = register["client"]
    assert register == {"operation": "RegisterClient", "signed": False, "clientName": f"rustaws-creds-{SESSION}",
                        "clientType": "public", "scopes": SCOPES, "grantTypes": None, "issuerUrl": None,
                        "redirectUris": None, "client": client_id, "status": 200, "error": None}
    assert start == {"operation": "StartDeviceAuthorization", "signed": False, "client": client_id,
                     "startUrl": START_URL, "userCode": code, "status": 200, "error": None}
    polls = sso.calls[2:]
    assert {(c["status"], c["error"]) for c in polls[:-1]} <= {(400, "AuthorizationPendingException")}
    assert polls[-1]["status"] == 200 and polls[-1]["grantType"] == DEVICE_GRANT and polls[-1]["userCode"] == code

    # The cache: the AWS CLI v2's keys and formats, 0600 in a 0700 directory, named by the
    # session's SHA-1; the pending sign-in gone.
    cached = check_token_cache(machine)
    assert cached["clientId"] == client_id
    assert sso.token_info(cached["accessToken"])["serial"] == polls[-1]["token"]
    assert machine.token_file().name == "0ad374308c5a4e22f723adf10145eafad7c4031c.json"
    for d in (machine.home / ".aws", machine.home / ".aws" / "sso", machine.cache_dir):
        assert mode(d) == 0o700, d
    assert not os.path.lexists(machine.pending_file())
    # Beside the token: the module's sign-in lock, and the writer's locks of the two files.
    key = sha1(SESSION)
    assert sorted(p.name for p in machine.cache_dir.iterdir()) == sorted(
        [f"{key}.json", f"{key}.rustaws-creds-sign-in.lock", f"{key}.json.lock",
         f"{key}.rustaws-creds-pending.lock"])

    # A third run: the token is reused, nothing is called, nothing changes.
    before = machine.files()
    sso.clear()
    third = machine.login(sso_session=SESSION)
    token_result(machine, third, "valid", changed=False)
    assert sso.calls == []
    assert machine.files() == before


def test_endpoint_url_names_the_oidc_endpoint_and_keys_are_not_used(machine, sso):
    """The common options: endpoint_url instead of AWS_ENDPOINT_URL_SSO_OIDC; keys (given, say, by
    module_defaults for the group) sign nothing: every call is unsigned."""
    env = {"AWS_ENDPOINT_URL_SSO_OIDC": None}
    keys = {"access_key": "AKIASSOLOGINUNUSED01", "secret_key": "ssoLoginUnusedSecretKey000000000000000001"}
    results, _ = machine.play([{"name": "start", MODULE: {"sso_session": SESSION, "endpoint_url": sso.url, **keys},
                                "register": "r"}], env=env)
    code = pending_result(machine, results["r"]["localhost"], changed=True)
    sso.approve(code)
    results, _ = machine.play([{"name": "wait", MODULE: {"sso_session": SESSION, "endpoint_url": sso.url,
                                                         "wait": True, **keys}, "register": "r"}], env=env)
    token_result(machine, results["r"]["localhost"], "signed_in", changed=True)
    assert sso.calls and {c["signed"] for c in sso.calls} == {False}


# --------------------------------------------------------------------------------------------
# 2. A second run while a sign-in is pending shares its code


def test_a_second_run_while_a_sign_in_is_pending_returns_the_same_code(machine, sso):
    code = pending_result(machine, machine.login(sso_session=SESSION), changed=True)
    pending = json.loads(machine.pending_file().read_text())
    assert mode(machine.pending_file()) == 0o600
    assert sso.device_authorizations == 1
    sso.clear()
    again = machine.login(sso_session=SESSION)
    assert pending_result(machine, again, changed=False) == code
    assert again["verification_uri_complete"] == pending["verificationUriComplete"]
    assert sso.calls == [] and sso.device_authorizations == 0
    assert not machine.token_file().exists()


# --------------------------------------------------------------------------------------------
# 3. Twenty forks at once: one device authorization, one code, one token

HOSTS = [f"h{i:02d}" for i in range(20)]


def test_twenty_forks_share_one_sign_in(machine, sso):
    results, _ = machine.play([{"name": "sso_login", MODULE: {"sso_session": SESSION}, "register": "r"}],
                              hosts=HOSTS, forks=20, verbosity=1)
    started = results["r"]
    assert sorted(started) == HOSTS
    assert sso.device_authorizations == 1 and sso.count("RegisterClient") == 1
    (code,) = {r.get("user_code") for r in started.values()}
    changed = [h for h, r in started.items() if r["changed"]]
    assert len(changed) == 1, changed
    for host, r in started.items():
        assert pending_result(machine, r, changed=host in changed) == code

    assert sso.approve() == [code]
    sso.clear()
    results, _ = machine.play([{"name": "sso_login", MODULE: {"sso_session": SESSION, "wait": True},
                                "register": "r"}], hosts=HOSTS, forks=20, verbosity=1)
    waited = results["r"]
    states = sorted(r["state"] for r in waited.values())
    assert states == ["signed_in"] + ["valid"] * 19, states
    for r in waited.values():
        token_result(machine, r, r["state"], changed=r["state"] == "signed_in")
    # One token from the device grant: one CreateToken, and the cache holds its token.
    assert sso.operations() == ["CreateToken"]
    assert sso.calls[0]["status"] == 200 and sso.calls[0]["userCode"] == code
    issued = [t for t in sso.tokens.values() if t.kind == "access"]
    assert len(issued) == 1
    cached = check_token_cache(machine)
    assert sso.token_info(cached["accessToken"])["serial"] == sso.calls[0]["token"]


def test_forks_waiting_together_get_the_one_token_approved_meanwhile(machine, sso):
    hosts = HOSTS[:10]
    results, _ = machine.play([{"name": "sso_login", MODULE: {"sso_session": SESSION}, "register": "r"}],
                              hosts=hosts, forks=10, verbosity=1)
    (code,) = {r["user_code"] for r in results["r"].values()}
    sso.clear()

    def approve_after_the_first_poll():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not sso.token_calls:
            time.sleep(0.05)
        time.sleep(2)
        sso.approve(code)

    thread = threading.Thread(target=approve_after_the_first_poll, daemon=True)
    thread.start()
    results, _ = machine.play([{"name": "sso_login", MODULE: {"sso_session": SESSION, "wait": True},
                                "register": "r"}], hosts=hosts, forks=10, verbosity=1)
    thread.join(10)
    states = sorted(r["state"] for r in results["r"].values())
    assert states == ["signed_in"] + ["valid"] * 9, states
    polls = [(c["status"], c["error"]) for c in sso.calls]
    assert set(sso.operations()) == {"CreateToken"} and polls[-1] == (200, None)
    assert set(polls[:-1]) == {(400, "AuthorizationPendingException")}, polls
    assert len([t for t in sso.tokens.values() if t.kind == "access"]) == 1
    check_token_cache(machine)


# --------------------------------------------------------------------------------------------
# 4. Refresh


def test_a_token_near_expiry_is_refreshed_with_the_cached_refresh_token(machine, sso):
    machine.sign_in(sso_session=SESSION)
    old = machine.token()
    old_refresh = sso.token_info(old["refreshToken"])
    sso.clear()
    r = machine.login(sso_session=SESSION, min_ttl=43200)  # 8 hours left: less than min_ttl
    token_result(machine, r, "refreshed", changed=True)
    new = check_token_cache(machine, grant=REFRESH_GRANT)
    assert sso.operations() == ["CreateToken"]
    assert sso.calls[0] == {"operation": "CreateToken", "signed": False, "client": old["clientId"],
                            "grantType": REFRESH_GRANT, "refreshSerial": old_refresh["serial"],
                            "token": sso.token_info(new["accessToken"])["serial"], "status": 200, "error": None}
    assert new["accessToken"] != old["accessToken"] and new["refreshToken"] != old["refreshToken"]
    assert {k: new[k] for k in ("startUrl", "region", "clientId", "clientSecret", "registrationExpiresAt")} == {
        k: old[k] for k in ("startUrl", "region", "clientId", "clientSecret", "registrationExpiresAt")}
    # Without min_ttl beyond what is left, the refreshed token is reused.
    sso.clear()
    token_result(machine, machine.login(sso_session=SESSION), "valid", changed=False)
    assert sso.calls == []


def test_a_short_lived_token_is_refreshed_at_the_default_min_ttl(make_sso, env, tmp_path):
    fake = make_sso(access_token_lifetime=600)  # 10 minutes: inside the default min_ttl (900)
    machine = Machine(env, tmp_path, fake)
    _, second = machine.sign_in(sso_session=SESSION)
    token_result(machine, second, "signed_in", changed=True, lifetime=600)
    fake.access_token_lifetime = EIGHT_HOURS
    fake.clear()
    r = machine.login(sso_session=SESSION)
    token_result(machine, r, "refreshed", changed=True)
    check_token_cache(machine, grant=REFRESH_GRANT)
    assert [(c["operation"], c["grantType"], c["status"]) for c in fake.calls] == [
        ("CreateToken", REFRESH_GRANT, 200)]


def test_a_revoked_refresh_token_starts_a_sign_in(machine, sso):
    machine.sign_in(sso_session=SESSION)
    old = machine.token()
    before = machine.token_file().read_bytes()
    sso.revoke_refresh_tokens()
    sso.clear()
    r = machine.login(sso_session=SESSION, min_ttl=43200)
    code = pending_result(machine, r, changed=True)
    # The refused refresh, then a device authorization with the cached registration (not expired).
    assert [(c["operation"], c["status"], c["error"]) for c in sso.calls] == [
        ("CreateToken", 400, "InvalidGrantException"), ("StartDeviceAuthorization", 200, None)]
    assert sso.calls[0]["grantType"] == REFRESH_GRANT and sso.calls[1]["client"] == old["clientId"]
    assert sso.calls[1]["userCode"] == code
    assert machine.token_file().read_bytes() == before
    # The approval gives a new token from the device grant.
    sso.approve(code)
    r = machine.login(sso_session=SESSION, wait=True, min_ttl=43200)
    token_result(machine, r, "signed_in", changed=True)
    check_token_cache(machine)


def test_a_refresh_answer_without_a_refresh_token_keeps_the_cached_one(make_sso, env, tmp_path):
    """As the SDKs do (botocore would drop it): the refresh token stays usable."""
    fake = make_sso(rotate_refresh_tokens=False)
    machine = Machine(env, tmp_path, fake)
    machine.sign_in(sso_session=SESSION)
    old = machine.token()
    for _ in range(2):
        fake.clear()
        token_result(machine, machine.login(sso_session=SESSION, min_ttl=43200), "refreshed", changed=True)
        assert [(c["operation"], c["status"]) for c in fake.calls] == [("CreateToken", 200)]
        new = check_token_cache(machine, grant=REFRESH_GRANT)
        assert new["refreshToken"] == old["refreshToken"] and new["accessToken"] != old["accessToken"]


def test_a_cached_token_in_the_rust_sdks_time_format_is_read(machine, sso):
    """The Rust SDK writes fractional seconds when it refreshes; the module reads them."""
    machine.sign_in(sso_session=SESSION)
    cached = machine.token()
    cached["expiresAt"] = cached["expiresAt"][:-1] + ".25Z"
    machine.token_file().write_text(json.dumps(cached))
    sso.clear()
    r = machine.login(sso_session=SESSION)
    token_result(machine, r, "valid", changed=False)
    assert r["expires_at"] == cached["expiresAt"] and sso.calls == []


def test_no_refresh_with_an_expired_registration_but_a_new_one(machine, sso):
    """The cache's registration has expired: no refresh is tried; the sign-in registers anew."""
    machine.sign_in(sso_session=SESSION)
    cached = machine.token()
    cached["registrationExpiresAt"] = cache_time(time.time() - 60)
    machine.token_file().write_text(json.dumps(cached))
    sso.clear()
    r = machine.login(sso_session=SESSION, min_ttl=43200)
    code = pending_result(machine, r, changed=True)
    assert sso.operations() == ["RegisterClient", "StartDeviceAuthorization"]
    assert sso.calls[1]["client"] != cached["clientId"] and sso.calls[1]["userCode"] == code
    # Check mode says the same: a sign-in, not a refresh.
    r = machine.login(check=True, sso_session=SESSION, min_ttl=43200)
    assert pending_result(machine, r, changed=False) == code


def test_a_registration_the_service_refuses_is_not_used_again(machine, sso):
    """The service no longer knows the cached registration (expired or revoked before the time
    the cache says): the refresh is refused with invalid_client, the device authorization started
    with the kept registration too, and the module then registers anew and starts again with the
    new client, which the pending sign-in keeps."""
    machine.sign_in(sso_session=SESSION)
    old = machine.token()
    before = machine.token_file().read_bytes()
    sso.expire_registrations()
    sso.clear()
    r = machine.login(sso_session=SESSION, min_ttl=43200)
    assert r.get("state") == "pending", r
    code = pending_result(machine, r, changed=True)
    ops = [(c["operation"], c["status"], c["error"]) for c in sso.calls]
    assert ops == [("CreateToken", 401, "InvalidClientException"),
                   ("StartDeviceAuthorization", 401, "InvalidClientException"), ("RegisterClient", 200, None),
                   ("StartDeviceAuthorization", 200, None)], ops
    refresh, refused, register, start = sso.calls
    assert refresh["grantType"] == REFRESH_GRANT and refresh["client"] == old["clientId"]
    assert refused["client"] == old["clientId"] and "userCode" not in refused
    assert register["clientName"] == f"rustaws-creds-{SESSION}" and register["client"] != old["clientId"]
    assert start["client"] == register["client"] and start["userCode"] == code
    assert json.loads(machine.pending_file().read_text())["registration"]["clientId"] == register["client"]
    assert machine.token_file().read_bytes() == before
    # The approval gives the new client's token.
    sso.approve(code)
    token_result(machine, machine.login(sso_session=SESSION, wait=True, min_ttl=43200), "signed_in", changed=True)
    assert check_token_cache(machine)["clientId"] == register["client"]


def test_a_lock_held_longer_than_wait_timeout(machine, sso):
    import fcntl

    machine.cache_dir.mkdir(parents=True, mode=0o700)
    lock = machine.lock_file()
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        started = time.monotonic()
        r = machine.login(sso_session=SESSION, wait_timeout=2)
        waited = time.monotonic() - started
        # credentials-file's LockTimeout, for what was left of wait_timeout when the run came to
        # the lock (the deadline is set before the SDK's configuration is loaded): milliseconds
        # ("N ms"), or "N s" when that is whole seconds.
        shown = re.fullmatch(r".* for ((\d+) ms|([12]) s): giving up\..*", r.get("msg", ""), re.S)
        assert shown and 0 < int(shown[2] or 0) + 1000 * int(shown[3] or 0) <= 2000, r
        failed(r, f"Cannot take the sign-in lock: the lock file {lock} stayed locked by another process for "
                  f"{shown[1]}: giving up. Retry later, or find the process holding it (fuser {lock})")
        assert 2 <= waited < 60
    finally:
        os.close(fd)
    assert sso.calls == []
    # Released, the same task starts the sign-in.
    pending_result(machine, machine.login(sso_session=SESSION, wait_timeout=2), changed=True)


# --------------------------------------------------------------------------------------------
# 5. Failures, with their whole messages


def failed(r, msg):
    assert r == {"changed": False, "failed": True, "msg": msg}, r


def test_a_denied_sign_in(machine, sso):
    code = pending_result(machine, machine.login(sso_session=SESSION), changed=True)
    sso.deny(code)
    r = machine.login(sso_session=SESSION, wait=True)
    failed(r, f"The sign-in with code {code} was denied")
    assert not os.path.lexists(machine.pending_file()) and not machine.token_file().exists()
    assert [(c["operation"], c["error"]) for c in sso.calls][-1] == ("CreateToken", "AccessDeniedException")


def test_an_expired_code(machine, sso):
    code = pending_result(machine, machine.login(sso_session=SESSION), changed=True)
    sso.expire_device_codes()
    r = machine.login(sso_session=SESSION, wait=True)
    failed(r, f"The sign-in with code {code} expired before it was approved: run the task again without wait to "
              "get a new code")
    assert not os.path.lexists(machine.pending_file()) and not machine.token_file().exists()
    # The next run starts a new sign-in.
    sso.clear()
    assert pending_result(machine, machine.login(sso_session=SESSION), changed=True) != code
    assert sso.device_authorizations == 1


def test_an_error_of_the_service_shows_its_description(machine, sso):
    """SSO OIDC's errors carry their text in error_description (no message field): the module's
    message shows it, as botocore's and the AWS CLI's do ("... operation: Client registration has
    expired"), rather than "no message"; with the service's error and the answer's metadata."""
    code = pending_result(machine, machine.login(sso_session=SESSION), changed=True)
    sso.expire_registrations()
    r = machine.login(sso_session=SESSION, wait=True)
    assert r == {"changed": False, "failed": True,
                 "msg": "An error occurred (InvalidClientException) when calling the CreateToken operation: Client "
                        "registration has expired",
                 "error": {"code": "InvalidClientException", "message": "Client registration has expired"},
                 "response_metadata": {"http_status_code": 401, "request_id": sso.request_id}}, r
    assert code not in r["msg"]
    assert [(c["operation"], c["status"], c["error"]) for c in sso.calls][-1] == (
        "CreateToken", 401, "InvalidClientException")
    # Not an end of the sign-in: the pending file stays.
    assert os.path.exists(machine.pending_file()) and not machine.token_file().exists()


class FlakySso(FakeSso):
    """A stand-in whose CreateToken fails with an internal error while `failing` is set."""

    failing = False

    def _CreateToken(self, body, call):
        if self.failing:
            call.update(client=body.get("clientId"), grantType=body.get("grantType"))
            raise Failure("InternalServerException", "Internal error")
        return super()._CreateToken(body, call)


def test_a_server_error_during_the_wait_keeps_the_pending_sign_in(make_sso, env, tmp_path):
    """The code stays valid (the user may even have approved it already): a failed poll ends the
    wait, but the next wait finishes the same sign-in rather than needing a second code."""
    fake = make_sso()
    fake.__class__ = FlakySso
    machine = Machine(env, tmp_path, fake)
    code = pending_result(machine, machine.login(sso_session=SESSION), changed=True)
    fake.approve(code)
    fake.failing = True
    r = machine.login(sso_session=SESSION, wait=True, wait_timeout=5)
    assert r["failed"] is True, r
    fake.failing = False
    assert os.path.exists(machine.pending_file()), "the pending sign-in was discarded"
    token_result(machine, machine.login(sso_session=SESSION, wait=True), "signed_in", changed=True)
    assert fake.device_authorizations == 1


def test_wait_without_a_pending_sign_in(machine, sso):
    r = machine.login(sso_session=SESSION, wait=True)
    failed(r, f"No sign-in to sso-session {SESSION} ({START_URL}) is pending: run the task without wait first, to "
              "get the code to approve")
    r = machine.login(start_url=LEGACY_URL, sso_region=LEGACY_REGION, wait=True)
    failed(r, f"No sign-in to {LEGACY_URL} is pending: run the task without wait first, to get the code to approve")
    assert sso.calls == []


def test_wait_timeout_passes_without_the_approval(machine, sso):
    code = pending_result(machine, machine.login(sso_session=SESSION), changed=True)
    pending = json.loads(machine.pending_file().read_text())
    started = time.monotonic()
    r = machine.login(sso_session=SESSION, wait=True, wait_timeout=3)
    assert time.monotonic() - started < 30
    failed(r, f"The sign-in with code {code} was not approved within wait_timeout; the code stays valid until "
              f"{pending['expiresAt']}: approve it and run the task with wait again")
    assert CACHE_TIME.fullmatch(pending["expiresAt"])
    polls = [c for c in sso.calls if c["operation"] == "CreateToken"]
    assert 1 <= len(polls) <= 4 and {c["error"] for c in polls} == {"AuthorizationPendingException"}
    # The code stays: approved now, the next wait signs in.
    assert json.loads(machine.pending_file().read_text()) == pending
    sso.approve(code)
    token_result(machine, machine.login(sso_session=SESSION, wait=True), "signed_in", changed=True)


def test_mistakes_in_the_config_file_and_the_options(machine, sso):
    config = machine.config
    cases = [
        ({"sso_session": "nope"}, f"The AWS config file {config} has no [sso-session nope] section"),
        ({"sso_session": "no-region"}, f"[sso-session no-region] in {config} has no sso_region"),
        ({"profile": "plain"}, f"Profile plain in {config} has no SSO settings (sso_session, or sso_start_url and "
                               "sso_region)"),
        ({"profile": "nobody"}, f"The AWS config file {config} has no profile nobody: name an sso_session, or give "
                                "start_url and sso_region"),
        ({"start_url": START_URL}, "missing parameter(s) required by 'start_url': sso_region"),
        ({"start_url": "http://127.0.0.1/start", "sso_region": REGION},
         "start_url must be an https:// URL, got 'http://127.0.0.1/start'"),
        ({"sso_session": SESSION, "min_ttl": -1}, "min_ttl must be 0 to 43200 seconds, got -1"),
        ({"sso_session": SESSION, "min_ttl": 43201}, "min_ttl must be 0 to 43200 seconds, got 43201"),
        ({"sso_session": SESSION, "wait_timeout": 0}, "wait_timeout must be 1 to 3600 seconds, got 0"),
        ({"sso_session": SESSION, "wait_timeout": 3601}, "wait_timeout must be 1 to 3600 seconds, got 3601"),
        ({"sso_session": SESSION, "min_ttl": "soon"}, "argument 'min_ttl' is of type str and we were unable to "
                                                      "convert to int: \"'soon'\" cannot be converted to an int"),
    ]
    cases.append(({}, f"The AWS config file {config} has no profile default: name an sso_session, or give start_url "
                      "and sso_region"))
    tasks = [{"name": f"case {i}", MODULE: options, "register": f"r{i}"} for i, (options, _) in enumerate(cases)]
    tasks.append({"name": "no HOME", MODULE: {"sso_session": SESSION}, "environment": {"HOME": ""},
                  "register": "home"})
    results, _ = machine.play(tasks)
    for i, (options, msg) in enumerate(cases):
        r = results[f"r{i}"]["localhost"]
        assert r == {"changed": False, "failed": True, "msg": msg}, (options, r)
    failed(results["home"]["localhost"], "HOME is not set: the SSO token cache is ~/.aws/sso/cache")
    assert sso.calls == []
    assert not (machine.home / ".aws").exists()


# --------------------------------------------------------------------------------------------
# 6. Check mode


def would_start(machine, r, key=SESSION):
    """The whole check-mode result of a sign-in a run would start: no code exists yet, so not
    `pending` (nothing to approve, nothing to wait for)."""
    assert r == {"changed": True, "failed": False, "state": "pending", "pending": False,
                 "cache_file": str(machine.token_file(key))}, r


def test_check_mode_previews_a_sign_in_and_changes_nothing(machine, sso):
    results, _ = machine.play([
        {"name": "start", MODULE: {"sso_session": SESSION}, "register": "start"},
        {"name": "wait", MODULE: {"sso_session": SESSION, "wait": True}, "register": "wait"},
    ], check=True)
    # A wait with no sign-in pending fails as the run does.
    failed(results["wait"]["localhost"], f"No sign-in to sso-session {SESSION} ({START_URL}) is pending: run the "
                                         "task without wait first, to get the code to approve")
    would_start(machine, results["start"]["localhost"])
    assert sso.calls == [] and not (machine.home / ".aws").exists()


def test_the_examples_run_in_check_mode(machine, sso):
    """check_mode is "full" support: the EXAMPLES playbook runs with --check. The first task
    previews a sign-in, which has no code yet: not pending, so the debug task (which would run
    in check mode too, without a code to show) and the wait are skipped."""
    results, proc = machine.play(EXAMPLE_TASKS, check=True)
    first, asked, waited = (results[n]["localhost"] for n in ("sso", "asked", "waited"))
    would_start(machine, first)
    skipped = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False",
               "false_condition": "sso.pending"}
    assert asked == skipped, asked
    assert waited == skipped, waited
    assert sso.calls == [] and not (machine.home / ".aws").exists()


def test_check_mode_with_a_pending_sign_in_returns_its_code(machine, sso):
    code = pending_result(machine, machine.login(sso_session=SESSION), changed=True)
    before = machine.files()
    sso.clear()
    r = machine.login(check=True, sso_session=SESSION)
    assert pending_result(machine, r, changed=False) == code
    assert sso.calls == [] and machine.files() == before


def test_check_mode_previews_reuse_and_refresh_and_changes_nothing(machine, sso):
    machine.sign_in(sso_session=SESSION)
    before = machine.files()
    sso.clear()
    results, _ = machine.play([
        {"name": "valid", MODULE: {"sso_session": SESSION}, "register": "valid"},
        {"name": "refresh", MODULE: {"sso_session": SESSION, "min_ttl": 43200}, "register": "refresh"},
    ], check=True)
    token_result(machine, results["valid"]["localhost"], "valid", changed=False)
    # The refresh preview: the cached token's expiry (what a run would replace).
    token_result(machine, results["refresh"]["localhost"], "refreshed", changed=True)
    assert sso.calls == [] and machine.files() == before
    # A refresh token that cannot be used (no registration left in the file): a sign-in.
    cached = machine.token()
    del cached["clientSecret"]
    machine.token_file().write_text(json.dumps(cached))
    before = machine.files()
    r = machine.login(check=True, sso_session=SESSION, min_ttl=43200)
    would_start(machine, r)
    assert sso.calls == [] and machine.files() == before


# --------------------------------------------------------------------------------------------
# 7. Secrets: nothing the stand-in issued in any result or -vvv output


def test_no_issued_secret_in_any_result_or_vvv_output(machine, sso, secret_recorder):
    mark = secret_recorder.mark()
    outputs = []
    results, proc = machine.play([{"name": "start", MODULE: {"sso_session": SESSION}, "register": "r"}])
    outputs.append(proc.stdout + proc.stderr)
    code = results["r"]["localhost"]["user_code"]
    sso.approve(code)
    tasks = [{"name": "wait", MODULE: {"sso_session": SESSION, "wait": True}, "register": "w"},
             {"name": "valid", MODULE: {"sso_session": SESSION}, "register": "v"},
             {"name": "refresh", MODULE: {"sso_session": SESSION, "min_ttl": 43200}, "register": "f"},
             {"name": "check", MODULE: {"sso_session": SESSION, "min_ttl": 43200}, "register": "c",
              "check_mode": True}]
    more, proc = machine.play(tasks)
    outputs.append(proc.stdout + proc.stderr)
    assert [more[n]["localhost"]["state"] for n in ("w", "v", "f", "c")] == ["signed_in", "valid", "refreshed",
                                                                             "refreshed"]
    sso.revoke_refresh_tokens()
    failing, proc = machine.play([{"name": "again", MODULE: {"sso_session": SESSION, "min_ttl": 43200},
                                   "register": "a"}])
    outputs.append(proc.stdout + proc.stderr)
    sso.deny()
    failing2, proc = machine.play([{"name": "denied", MODULE: {"sso_session": SESSION, "wait": True,
                                                                "min_ttl": 43200}, "register": "d"}])
    outputs.append(proc.stdout + proc.stderr)
    assert failing2["d"]["localhost"]["failed"] is True

    # Every kind of secret was issued: client secret, device codes, access and refresh tokens.
    issued = sso.issued_secrets
    for kind in ("ClientSecret", "DeviceCode", "AccessToken", "RefreshToken"):
        assert any(s.startswith(f"fAkEsSo{kind}") for s in issued), kind
    everything = json.dumps([results, more, failing, failing2]) + "".join(outputs)
    assert '"user_code"' in everything
    for secret in issued:
        assert secret not in everything, f"{secret[:12]}... shown"
    # And through the session's scanner: everything these runs printed and wrote (the make_sso
    # fixture scans again when the test ends).
    for secret in issued:
        secret_recorder.add(secret, "fake SSO: issued secret")
    findings = secret_recorder.scan(since=mark)
    assert not findings, report(findings)


class CarelessSso(FakeSso):
    """A stand-in that repeats in its CreateToken errors the secrets it was sent (as a careless
    service or proxy might), in the body's `message` as well as its `error_description`: the
    module must still show none of them."""

    def _CreateToken(self, body, call):
        try:
            return super()._CreateToken(body, call)
        except Failure as failure:
            if failure.name == "InvalidClientException":
                sent = ", ".join(f"{k}={body.get(k)}" for k in ("clientSecret", "deviceCode", "refreshToken")
                                 if body.get(k))
                raise Failure(failure.name, f"{failure.description} ({sent})") from None
            raise

    def _error(self, service, failure):
        status, headers, text = super()._error(service, failure)
        body = json.loads(text)
        if "error_description" in body:
            body["message"] = body["error_description"]
        return status, headers, json.dumps(body)


def test_secrets_a_service_repeats_in_an_error_are_hidden(env, tmp_path, known_secret):
    fake = CarelessSso().start()
    try:
        machine = Machine(env, tmp_path, fake)
        code = pending_result(machine, machine.login(sso_session=SESSION), changed=True)
        fake.approve(code)
        fake.expire_registrations()  # the wait's CreateToken: invalid_client, repeating the secrets
        r = machine.login(sso_session=SESSION, wait=True)
        assert r["failed"] is True, r
        shown = json.dumps(r)
        leaked = [s for s in fake.issued_secrets if s in shown]
        masked = r["msg"]
        for secret in leaked:
            masked = masked.replace(secret, f"<{secret[:len('fAkEsSo') + 8]}...>")
        if leaked:
            pytest.fail(f"{len(leaked)} secret(s) in the result's msg: {masked}")
    finally:
        fake.close()
        for secret in fake.issued_secrets:
            known_secret(secret, "careless fake SSO: issued secret")


# --------------------------------------------------------------------------------------------
# 8. Clients nobody here wrote read what the module cached

BOTO3_SCRIPT = """
import json, sys, boto3
creds = boto3.Session(profile_name=sys.argv[1]).get_credentials().get_frozen_credentials()
print(json.dumps({"access_key": creds.access_key, "secret_key": creds.secret_key, "token": creds.token}))
"""


def boto3_credentials(machine, closed_url, profile="dev"):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EC2_"))}
    env.update(HOME=str(machine.home), AWS_CONFIG_FILE=str(machine.config),
               AWS_SHARED_CREDENTIALS_FILE=str(machine.tmp / "nonexistent-credentials"),
               AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=closed_url,
               AWS_ENDPOINT_URL_SSO_OIDC=machine.fake.url, AWS_ENDPOINT_URL_SSO=machine.fake.url)
    assert_network_safe(env)
    proc = subprocess.run([sys.executable, "-c", BOTO3_SCRIPT, profile], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_boto3_gets_role_credentials_with_the_token_the_module_cached(machine, sso, closed_url):
    machine.sign_in(sso_session=SESSION)
    cached = machine.token()
    sso.clear()
    creds = boto3_credentials(machine, closed_url)
    issued = sso.role_credentials[-1]
    assert creds == {"access_key": issued["accessKeyId"], "secret_key": issued["secretAccessKey"],
                     "token": issued["sessionToken"]}
    assert (issued["accountId"], issued["roleName"]) == (ACCOUNT, ROLE)
    assert sso.operations() == ["GetRoleCredentials"]
    assert sso.calls[0]["token"] == sso.token_info(cached["accessToken"])["serial"]
    assert machine.token() == cached  # a fresh token: botocore leaves it alone


def test_botocore_refreshes_what_the_module_cached_and_the_sdk_in_aws_caller_info_reads_it(
        make_sso, env, tmp_path, closed_url, moto, role_sts):
    fake = make_sso(access_token_lifetime=600)  # inside botocore's 15-minute refresh window
    machine = Machine(env, tmp_path, fake)
    machine.sign_in(sso_session=SESSION)
    old = machine.token()
    fake.access_token_lifetime = EIGHT_HOURS
    fake.clear()
    creds = boto3_credentials(machine, closed_url)

    # botocore refreshed the token with the module's refresh token and registration, and
    # rewrote the cache file; the role credentials came with the new token.
    assert fake.operations() == ["CreateToken", "GetRoleCredentials"], fake.operations()
    refresh_call, role_call = fake.calls
    new = machine.token()
    assert refresh_call == {"operation": "CreateToken", "signed": False, "client": old["clientId"],
                            "grantType": REFRESH_GRANT,
                            "refreshSerial": fake.token_info(old["refreshToken"])["serial"],
                            "token": fake.token_info(new["accessToken"])["serial"], "status": 200, "error": None}
    assert role_call["token"] == fake.token_info(new["accessToken"])["serial"]
    check_token_cache(machine, grant=REFRESH_GRANT)
    assert new["accessToken"] != old["accessToken"]
    issued = fake.role_credentials[-1]
    assert creds == {"access_key": issued["accessKeyId"], "secret_key": issued["secretAccessKey"],
                     "token": issued["sessionToken"]}

    # The module reads what botocore wrote: valid, no call.
    fake.clear()
    token_result(machine, machine.login(sso_session=SESSION), "valid", changed=False)
    assert fake.calls == []

    # The collection's aws_caller_info with the SSO profile: the SDK inside the module reads the
    # cache and gets role credentials from the portal, then signs with them (moto, then the
    # recording STS stand-in, which shows the key).
    results, _ = machine.play([
        {"name": "caller (moto)", "rustaws.creds.aws_caller_info": {"profile": "dev", "endpoint_url": moto.url},
         "register": "moto"},
        {"name": "caller (recording STS)",
         "rustaws.creds.aws_caller_info": {"profile": "dev", "endpoint_url": role_sts.url}, "register": "sts"},
    ])
    at_moto, at_sts = results["moto"]["localhost"], results["sts"]["localhost"]
    assert at_moto["failed"] is False and at_moto["account"] == "123456789012", at_moto
    assert at_sts["failed"] is False, at_sts
    assert fake.operations() == ["GetRoleCredentials", "GetRoleCredentials"]
    serial = fake.token_info(new["accessToken"])["serial"]
    assert [c["token"] for c in fake.calls] == [serial, serial]
    assert [(c["account_id"], c["role_name"]) for c in fake.calls] == [(ACCOUNT, ROLE)] * 2
    keys = [c["accessKeyId"] for c in fake.calls]
    assert {r.access_key for r in role_sts.requests} == {keys[1]}
    assert role_sts.actions() == ["GetCallerIdentity", "ListAccountAliases"]


# --------------------------------------------------------------------------------------------
# 9. Another local user's files in the cache directory

EVIL = "rustawsssoevil"


@pytest.fixture(scope="module")
def evil():
    if os.geteuid() != 0:
        pytest.skip("needs root (useradd)")
    from local_user import LocalUser

    with LocalUser(EVIL) as user:
        yield user


@pytest.fixture
def shared_home(evil):
    """A HOME outside the tests' private temporary directories whose token cache directory the
    other user's group may write (as a group-writable HOME would let them)."""
    home = pathlib.Path(tempfile.mkdtemp(prefix="rustaws-sso-home-"))
    os.chmod(home, 0o755)
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    os.chmod(home / ".aws", 0o755)
    os.chmod(home / ".aws" / "sso", 0o755)
    os.chown(cache, 0, evil.gid)
    os.chmod(cache, 0o770)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def who(evil):
    return f"user {EVIL} (uid {evil.uid})"


def evil_pending(fake, evil):
    """A pending sign-in of the other user's own: their client and device code."""
    import boto3
    import botocore

    oidc = boto3.client("sso-oidc", region_name=REGION, endpoint_url=fake.url,
                        config=botocore.config.Config(signature_version=botocore.UNSIGNED))
    client = oidc.register_client(clientName="evil", clientType="public", scopes=SCOPES)
    device = oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                             startUrl=START_URL)
    return json.dumps({
        "startUrl": START_URL, "region": REGION,
        "registration": {"clientId": client["clientId"], "clientSecret": client["clientSecret"],
                         "expiresAt": cache_time(client["clientSecretExpiresAt"])},
        "deviceCode": device["deviceCode"], "userCode": device["userCode"],
        "verificationUri": device["verificationUri"], "verificationUriComplete": device["verificationUriComplete"],
        "expiresAt": cache_time(time.time() + 600), "interval": 1})


def as_evil(evil, path, text, umask="077"):
    """Writes `text` into `path` as the other user."""
    encoded = base64.b64encode(text.encode()).decode()
    evil.run("sh", "-c", f"umask {umask}; echo {encoded} | base64 -d > {path}")


def plant(evil, path, text=None, link_to=None):
    if link_to is not None:
        evil.run("ln", "-s", link_to, path)
    else:
        as_evil(evil, path, text)


def test_another_users_lock_file_is_only_locked(env, tmp_path, sso, evil, shared_home):
    """A regular lock file of the other user's: opened and flock'ed as the credentials writer's
    lock is, never written (it holds no secret), so both runs go through; the file stays
    theirs, untouched."""
    machine = Machine(env, tmp_path, sso, home=shared_home)
    lock = machine.lock_file()
    plant(evil, lock, "")
    planted = os.lstat(lock)

    def unchanged():
        now = os.lstat(lock)
        assert (now.st_ino, now.st_uid, now.st_gid, stat.S_IMODE(now.st_mode), now.st_size, now.st_mtime_ns) == (
            planted.st_ino, evil.uid, planted.st_gid, 0o600, 0, planted.st_mtime_ns)

    code = pending_result(machine, machine.login(sso_session=SESSION), changed=True)
    unchanged()
    sso.approve(code)
    token_result(machine, machine.login(sso_session=SESSION, wait=True), "signed_in", changed=True)
    unchanged()
    assert lock.read_bytes() == b""
    assert sso.operations()[:2] == ["RegisterClient", "StartDeviceAuthorization"]
    check_token_cache(machine)
    key = sha1(SESSION)
    assert sorted(p.name for p in machine.cache_dir.iterdir()) == sorted(
        [lock.name, f"{key}.json", f"{key}.json.lock", f"{key}.rustaws-creds-pending.lock"])


@pytest.mark.parametrize("dangling", [False, True], ids=["to-their-file", "dangling"])
def test_another_users_lock_link_is_not_followed(env, tmp_path, sso, evil, shared_home, dangling):
    machine = Machine(env, tmp_path, sso, home=shared_home)
    target = evil.path(f"lock-target-{dangling}")
    if not dangling:
        evil.run("sh", "-c", f"umask 077; : > {target}")
    lock = machine.lock_file()
    plant(evil, lock, link_to=target)
    for wait in (False, True):
        failed(machine.login(sso_session=SESSION, wait=wait),
               f"Cannot take the sign-in lock: the lock file {lock} is a symbolic link, not a regular file: refusing "
               "to use it; remove it")
    assert sso.calls == []
    assert os.path.islink(lock) and sorted(p.name for p in machine.cache_dir.iterdir()) == [lock.name]
    if dangling:
        assert not os.path.lexists(target)
    else:
        assert target.read_bytes() == b"" and os.lstat(target).st_uid == evil.uid


@pytest.mark.parametrize("whose", ["theirs", "root"])
def test_a_cache_directory_link_of_another_user_gets_nothing(env, tmp_path, sso, evil, whose):
    """HOME/.aws/sso writable by the other user's group, who replaced `cache` with a link to a
    directory of their own, or to any directory of root's (a system directory, say): the module
    refuses at its sign-in lock, the first thing it makes, and creates nothing there (not even
    the lock file)."""
    home = pathlib.Path(tempfile.mkdtemp(prefix="rustaws-sso-home-"))
    system = pathlib.Path(tempfile.mkdtemp(prefix="rustaws-system-dir-"))
    try:
        os.chmod(home, 0o755)
        sso_dir = home / ".aws" / "sso"
        sso_dir.mkdir(parents=True)
        os.chmod(home / ".aws", 0o755)
        os.chown(sso_dir, 0, evil.gid)
        os.chmod(sso_dir, 0o770)
        if whose == "theirs":
            target = evil.path("their-cache")
            evil.run("mkdir", "-m", "777", target)
        else:
            target = system
        evil.run("ln", "-s", target, sso_dir / "cache")
        machine = Machine(env, tmp_path, sso, home=home)
        r = machine.login(sso_session=SESSION)
        failed(r, f"Cannot take the sign-in lock: refusing to follow the symbolic link {sso_dir / 'cache'}: it "
                  f"belongs to {who(evil)}, not to you or root, and {sso_dir} is not a directory only you or root "
                  "can write, so the link may have been planted to redirect this file. Give the path it points to "
                  "instead, if that file is meant")
        assert sso.calls == []
        created = sorted(p.name for p in target.iterdir())
        assert created == [], f"created through the planted link in {target}: {created}"
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(system, ignore_errors=True)
        shutil.rmtree(evil.path("their-cache"), ignore_errors=True)


def planted_message(path, evil, directory):
    return (f"Cannot read the SSO token cache: {path} belongs to {who(evil)}, who does not own {directory} alone: "
            "the file may have been planted there, and writing credentials into it would hand them to that user. "
            "Refusing; remove the file, or choose a file in a directory that only its owner can write")


def test_another_users_pending_file_is_refused(env, tmp_path, sso, evil, shared_home):
    machine = Machine(env, tmp_path, sso, home=shared_home)
    text = evil_pending(sso, evil)
    pending = machine.pending_file()
    plant(evil, pending, text)
    sso.clear()
    for wait in (False, True):
        failed(machine.login(sso_session=SESSION, wait=wait), planted_message(pending, evil, machine.cache_dir))
    assert sso.calls == []  # never polled with the other user's device code, nothing started
    assert pending.read_text() == text and os.lstat(pending).st_uid == evil.uid
    assert not machine.token_file().exists()


def test_another_users_token_file_is_refused(env, tmp_path, sso, evil, shared_home):
    """A token file of the other user's (their own session, say): neither used nor replaced."""
    machine = Machine(env, tmp_path, sso, home=shared_home)
    text = json.dumps({"startUrl": START_URL, "region": REGION, "accessToken": "theirAccessToken000000",
                       "expiresAt": cache_time(time.time() + 3600)})
    token = machine.token_file()
    plant(evil, token, text)
    for wait in (False, True):
        failed(machine.login(sso_session=SESSION, wait=wait), planted_message(token, evil, machine.cache_dir))
    assert sso.calls == []
    assert token.read_text() == text and os.lstat(token).st_uid == evil.uid


def test_another_users_pending_link_is_not_followed(env, tmp_path, sso, evil, shared_home):
    machine = Machine(env, tmp_path, sso, home=shared_home)
    text = evil_pending(sso, evil)
    target = evil.path("pending-target")
    as_evil(evil, target, text, umask="022")
    pending = machine.pending_file()
    plant(evil, pending, link_to=target)
    sso.clear()
    msg = (f"Cannot read the SSO token cache: refusing to follow the symbolic link {pending}: it belongs to "
           f"{who(evil)}, not to you or root, and {machine.cache_dir} is not a directory only you or root can "
           "write, so the link may have been planted to redirect this file. Give the path it points to instead, if "
           "that file is meant")
    for wait in (False, True):
        failed(machine.login(sso_session=SESSION, wait=wait), msg)
    assert sso.calls == []
    assert target.read_text() == text and os.path.islink(pending)
    assert not machine.token_file().exists()


def test_another_users_token_link_gets_no_token(env, tmp_path, sso, evil, shared_home):
    """The token file a link of the other user's to their own file: the new token is not written
    through it (the sign-in fails before the token is cached anywhere they can read)."""
    machine = Machine(env, tmp_path, sso, home=shared_home)
    target = evil.path("token-target")
    evil.run("sh", "-c", f"umask 022; : > {target}")
    token = machine.token_file()
    plant(evil, token, link_to=target)
    r = machine.login(sso_session=SESSION)
    msg = (f"Cannot read the SSO token cache: refusing to follow the symbolic link {token}: it belongs to "
           f"{who(evil)}, not to you or root, and {machine.cache_dir} is not a directory only you or root can "
           "write, so the link may have been planted to redirect this file. Give the path it points to instead, if "
           "that file is meant")
    failed(r, msg)
    assert target.read_bytes() == b"" and sso.calls == []


# --------------------------------------------------------------------------------------------
# 10. The config forms settle the same session


def test_the_config_forms_settle_the_same_session(machine, sso, closed_url, role_sts):
    machine.sign_in(sso_session=SESSION)
    sso.clear()
    results, _ = machine.play([
        {"name": "profile", MODULE: {"profile": "dev"}, "register": "profile"},
        {"name": "AWS_PROFILE", MODULE: {}, "register": "env", "environment": {"AWS_PROFILE": "dev"}},
        {"name": "options", MODULE: {"sso_session": SESSION, "start_url": START_URL, "sso_region": REGION},
         "register": "options"},
    ])
    for name in ("profile", "env", "options"):
        token_result(machine, results[name]["localhost"], "valid", changed=False)
    assert sso.calls == []

    # The legacy profile: cached under the start URL's SHA-1, as botocore looks it up.
    first, _ = machine.sign_in(profile="legacy")
    assert first["cache_file"] == str(machine.token_file(LEGACY_URL))
    assert machine.token_file(LEGACY_URL).name == f"{sha1(LEGACY_URL)}.json"
    check_token_cache(machine, key=LEGACY_URL, start_url=LEGACY_URL, region=LEGACY_REGION)
    legacy_register = [c for c in sso.calls if c["operation"] == "RegisterClient"]
    assert len(legacy_register) == 1 and re.fullmatch(r"rustaws-creds-\d+", legacy_register[0]["clientName"])
    assert [c["startUrl"] for c in sso.calls if c["operation"] == "StartDeviceAuthorization"] == [LEGACY_URL]
    sso.clear()
    r = machine.login(start_url=LEGACY_URL, sso_region=LEGACY_REGION)
    token_result(machine, r, "valid", changed=False, key=LEGACY_URL)
    assert sso.calls == []
    # Both sessions' caches side by side.
    assert {p.name for p in machine.cache_dir.glob("*.json")} == {f"{sha1(SESSION)}.json", f"{sha1(LEGACY_URL)}.json"}

    # botocore and the Rust SDK (aws_caller_info) find the legacy profile's token where the
    # module cached it, by the start URL.
    sso.clear()
    legacy = machine.token(LEGACY_URL)
    creds = boto3_credentials(machine, closed_url, profile="legacy")
    results, _ = machine.play([{"name": "caller", "rustaws.creds.aws_caller_info": {
        "profile": "legacy", "endpoint_url": role_sts.url}, "register": "caller"}])
    assert results["caller"]["localhost"]["failed"] is False, results
    serial = sso.token_info(legacy["accessToken"])["serial"]
    assert [(c["operation"], c["account_id"], c["role_name"], c["token"]) for c in sso.calls] == [
        ("GetRoleCredentials", "444455556666", "Deploy", serial)] * 2
    assert creds["access_key"] == sso.calls[0]["accessKeyId"]
    assert {q.access_key for q in role_sts.requests} == {sso.calls[1]["accessKeyId"]}
