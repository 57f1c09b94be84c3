"""The Linux-aarch64 build (libexec/Linux-aarch64/rustaws-creds), run on this x86_64 machine
under qemu-user, which scripts/setup-platforms registers with binfmt_misc for aarch64 ELF files:

- every module, run directly against moto, gives the Linux-x86_64 build's result (the same
  keys, and the same values but for new credentials, key ids, times and request ids); a bad
  value fails with the same whole message; no secret shows where it does not belong;
- sso_login signs in against the IAM Identity Center stand-in (start, approval, wait, reuse)
  with the same results as the x86_64 build, and caches the same token file;
- a managed host that reports aarch64: an ssh host (tests/support/ssh_host.py) whose user's
  login shell is Debian's arm64 busybox, through a link named `sh` that is also the host's
  ansible_shell_executable, so every command Ansible sends runs in an aarch64 shell and
  `uname -sm` there says `Linux aarch64`. The plugin uploads the aarch64 build to the user's cache
  once and runs every later task from it; the standard path copies the aarch64 build; and
  delivery_scenarios.yml gives on both paths the per-task results of an x86_64 host.
"""

import hashlib
import itertools
import json
import os
import pathlib
import re
import shutil
import tempfile

import elf
import pytest
from fake_role_sts import unsigned_jwt
from fake_sso import FakeSso
from moto_server import boto3_client, no_aws_environment
from play_results import VOLATILE, results
from ssh_host import SshHost

from harness import CACHE, FROM_CACHE, PLACEHOLDER, TEST_ACCESS_KEY, TEST_SECRET_KEY, Play, count

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUSYBOX = ROOT / "build/platforms/busybox-arm64/bin/busybox"
# The platforms of the Linux builds, with the ELF machine of each.
PLATFORMS = {"Linux-aarch64": 183, "Linux-x86_64": 62}
KEYS = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
ROLE = "arn:aws:iam::123456789012:role/arm"
# The smallest successful call of each module against moto.
CALLS = {
    "sts_session_token": KEYS,
    "sts_assume_role": {**KEYS, "role_arn": ROLE, "role_session_name": "arm"},
    "sts_assume_role_with_web_identity": {"role_arn": ROLE, "role_session_name": "arm",
                                          "web_identity_token": unsigned_jwt({"sub": "arm", "aud": "rustaws"})},
    "sts_assume_roles": {**KEYS, "role_session_name": "arm", "roles": [{"name": "arm", "role_arn": ROLE}]},
    "aws_caller_info": KEYS,
    "iam_access_key": {**KEYS, "user_name": "aarch64-keys"},  # each build adds one key
    "iam_access_key_info": {**KEYS, "user_name": "aarch64-info"},
}
SECRET_KEY = "aRm64SeCrEtKeY/rustaws+0123456789abcdefXYZ"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEaRm64SessionToken/rustaws+000000000000000000000"
MFA_CODE = "615243"
SERIAL = "arn:aws:iam::123456789012:mfa/arm"
UPLOADED = re.compile(r"rustaws\.creds: uploading (\S+) \(")
# Besides the volatile values of play_results: the ids of new credentials and keys, and the
# new key's secret and time.
NEW_EACH_CALL = VOLATILE | {"access_key", "AWS_ACCESS_KEY_ID", "assumed_role_id", "access_key_id",
                            "secret_access_key", "create_date", "cache_file", "user_code", "verification_uri_complete",
                            "expires_at", "expires_in", "code_expires_in"}


def uploaded(proc):
    """The builds the plugin uploaded to a host's cache."""
    return UPLOADED.findall(proc.stdout)


@pytest.fixture(scope="module")
def builds(collections_dir):
    """The installed collection's Linux builds by platform, each checked to be an ELF file of its
    architecture, so that no test here can run the x86_64 build in place of the aarch64 one."""
    libexec = collections_dir / "ansible_collections/rustaws/creds/libexec"
    found = {p: libexec / p / "rustaws-creds" for p in PLATFORMS}
    assert {p: elf.read(f).e_machine for p, f in found.items()} == PLATFORMS
    return found


@pytest.fixture(scope="module")
def iam_users(moto):
    """On the shared moto: aarch64-info with one key, aarch64-keys with none."""
    with no_aws_environment():
        iam = boto3_client("iam", moto.url)
        for name in ("aarch64-info", "aarch64-keys"):
            iam.create_user(UserName=name)
        iam.create_access_key(UserName="aarch64-info")
    yield
    with no_aws_environment():
        iam = boto3_client("iam", moto.url)
        for name in ("aarch64-info", "aarch64-keys"):
            for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            iam.delete_user(UserName=name)


def comparable(value, key=None):
    """A result with each value that is new on every call replaced by its type."""
    if isinstance(value, dict):
        return {k: comparable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return type(value).__name__ if key in NEW_EACH_CALL else value


@pytest.fixture(autouse=True)
def scanned(secret_recorder):
    """Every test here ends with the secret scan (tests/support/secret_scanner.py) of what its
    own runs printed and wrote."""
    mark = secret_recorder.mark()
    yield
    findings = secret_recorder.scan(since=mark)
    assert not findings, "\n".join(f"{f.where}: {f.origin} {f.secret} in ...{f.context}..." for f in findings)


# --------------------------------------------------------------------------------------------
# The modules, run directly


@pytest.mark.parametrize("module", list(CALLS))
def test_each_module_gives_the_x86_64_builds_result(module, builds, run_named_module, moto, iam_users):
    args = {"endpoint_url": moto.url, **CALLS[module]}
    arm, x86 = (run_named_module(module, args, executable=builds[p]) for p in PLATFORMS)
    assert arm.rc == 0, arm.result
    assert comparable(arm.result) == comparable(x86.result)


def test_sso_login_signs_in_as_the_x86_64_build_does(builds, run_named_module, known_secret, tmp_path):
    """The device flow in two runs, then a reuse, on each build in a HOME of its own; the
    results are the same but for the code and the times, and so are the token files' keys."""
    config = tmp_path / "config"
    config.write_text("[sso-session arm]\nsso_start_url = https://d-arm0000001.awsapps.com/start\n"
                      "sso_region = eu-west-1\n")
    seen, caches = {}, {}
    # The token cache holds secrets on purpose: HOME is outside the test's directory, whose files
    # the secret scan reads.
    with FakeSso() as sso, tempfile.TemporaryDirectory(prefix="rustaws-sso-home-") as homes:
        for platform, executable in builds.items():
            home = pathlib.Path(homes) / platform
            home.mkdir()
            env = {"HOME": str(home), "AWS_CONFIG_FILE": str(config), "AWS_ENDPOINT_URL_SSO_OIDC": sso.url}
            run = lambda **more: run_named_module(  # noqa: E731
                "sso_login", {"sso_session": "arm", **more}, env=env, executable=executable)
            start = run()
            assert start.rc == 0, start.result
            sso.approve(start.result["user_code"])
            wait, again = run(wait=True), run()
            seen[platform] = [comparable(r.result, None) for r in (start, wait, again)]
            assert [r.result["state"] for r in (start, wait, again)] == ["pending", "signed_in", "valid"]
            cache = list((home / ".aws/sso/cache").glob("*.json"))
            caches[platform] = [(f.name, sorted(json.loads(f.read_text()))) for f in cache]
        for secret in sso.issued_secrets:
            known_secret(secret, "IAM Identity Center stand-in: issued secret")
    assert seen["Linux-aarch64"] == seen["Linux-x86_64"]
    assert caches["Linux-aarch64"] == caches["Linux-x86_64"]


def test_a_bad_value_fails_with_the_whole_message_and_no_secret_shows(builds, run_named_module, moto, known_secret):
    """sts_assume_role given a secret key, a session token and an MFA code: once right, once with
    an MFA serial number quoting two of them, refused before any call with the x86_64 build's
    message, both masked. known_secret hands the three to the scan: the recorder does not read
    the arguments of a run given `executable=`."""
    for name, value in (("secret key", SECRET_KEY), ("session token", SESSION_TOKEN), ("MFA code", MFA_CODE)):
        known_secret(value, f"test_aarch64: the {name} given")
    args = {"endpoint_url": moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": SECRET_KEY,
            "session_token": SESSION_TOKEN, "mfa_serial_number": SERIAL, "mfa_token": MFA_CODE,
            "role_arn": ROLE, "role_session_name": "arm"}
    ok = run_named_module("sts_assume_role", args, executable=builds["Linux-aarch64"])
    assert ok.rc == 0, ok.result
    assert ok.result["invocation"]["module_args"]["secret_key"] == PLACEHOLDER
    bad = {**args, "mfa_serial_number": f"bad {MFA_CODE} {SECRET_KEY}"}
    arm, x86 = (run_named_module("sts_assume_role", bad, executable=builds[p]) for p in PLATFORMS)
    assert arm.rc == 1
    assert arm.result["msg"] == (
        "mfa_serial_number may only contain letters, digits, _ and +=/:,.@-, got 'bad ******** ********' "
        "(Member must satisfy regular expression pattern: [\\w+=/:,.@-]*)")
    assert arm.result == x86.result


# --------------------------------------------------------------------------------------------
# A managed host that reports aarch64


@pytest.fixture
def arm64_sh():
    """Debian's arm64 busybox and a link `sh` to it, in a directory every user can read (the
    tests' temporary directories are private to root). Returns the link."""
    assert BUSYBOX.is_file() and elf.read(BUSYBOX).e_machine == PLATFORMS["Linux-aarch64"], \
        f"{BUSYBOX} is missing or not arm64: run scripts/setup-platforms"
    d = pathlib.Path(tempfile.mkdtemp(prefix="rustaws-arm64-sh-"))
    try:
        d.chmod(0o755)
        shutil.copy(BUSYBOX, d / "busybox")
        (d / "sh").symlink_to("busybox")
        yield d / "sh"
    finally:
        shutil.rmtree(d)


@pytest.fixture
def scenario(arm64_sh, env, moto, tmp_path):
    """scenario(arch, **host_vars): delivery_scenarios.yml at -vvv on a new ssh host, x86_64 or
    aarch64, stopped before this returns (one ssh host at a time). Returns the process and the
    files in the host's cache, {name: content}."""
    hosts = itertools.count()

    def run(arch, **host_vars):
        d = tmp_path / f"{arch}-{next(hosts)}"
        (d / "cp").mkdir(parents=True)
        shell = {"shell": str(arm64_sh)} if arch == "aarch64" else {}
        with SshHost(d / "host", **shell) as host:
            if shell:
                host_vars["ansible_shell_executable"] = arm64_sh
            proc = Play(host, env, d, moto.url).run("delivery_scenarios.yml", "-e", "target=remote", "--diff",
                                                    **host_vars)
            cache = host.path(CACHE)
            files = {f.name: f.read_bytes() for f in cache.iterdir()} if cache.is_dir() else {}
        return proc, files

    return run


def warnings(proc):
    return re.findall(r"\[(?:WARNING|DEPRECATION WARNING)\]: (.*)", proc.stderr)


def copied(proc):
    """The builds ansible-core's standard path copied to the host, as their real paths."""
    return [os.path.realpath(src) for src in re.findall(r"^<[^>]+> PUT (\S+) TO ", proc.stdout, re.M)
            if "/ansible-local-" not in src]  # not the args files


def test_an_aarch64_host_gets_the_aarch64_build_once_and_runs_every_task_from_the_cache(scenario, builds):
    """The first task uploads the build the run script asks for (`uname -sm` in busybox); all
    eight module calls run from the cache, which holds that build under its SHA-256."""
    x86, _ = scenario("x86_64")
    arm, cache = scenario("aarch64")
    build = builds["Linux-aarch64"]
    sha256 = hashlib.sha256(build.read_bytes()).hexdigest()
    assert uploaded(x86) == [str(builds["Linux-x86_64"])]
    assert uploaded(arm) == [str(build)]
    assert count(FROM_CACHE, arm) == count(FROM_CACHE, x86) == 8
    assert sorted(cache) == [sha256, sha256 + ".cksum"]
    assert hashlib.sha256(cache[sha256]).hexdigest() == sha256
    assert [s for s, _ in results(x86.stdout)] == ["changed", "skipping", "changed", "ok", "ok", "ok", "changed",
                                                    "fatal"]
    assert results(arm.stdout) == results(x86.stdout)
    assert warnings(arm) == warnings(x86)


def test_on_the_standard_path_an_aarch64_host_gets_the_aarch64_build_copied(scenario, builds):
    """The plugin asks the host `uname -sm` and hands ansible-core the build for it, which every
    task copies (the -vvv PUT lines, whose source may be a link to the build)."""
    x86, _ = scenario("x86_64", rustaws_creds_delivery="standard")
    arm, cache = scenario("aarch64", rustaws_creds_delivery="standard")
    assert copied(x86) == [os.path.realpath(builds["Linux-x86_64"])] * 8
    assert copied(arm) == [os.path.realpath(builds["Linux-aarch64"])] * 8
    assert cache == {}
    assert results(arm.stdout) == results(x86.stdout)
    assert warnings(arm) == warnings(x86)
