"""Integration fixtures: the collection installed from the tarball scripts/build made, local AWS
stand-ins on 127.0.0.1 (moto, moto with IAM authentication, moto over TLS with the private CA,
two recording fake STS: one that answers GetSessionToken, one that answers the calls of the
other modules), a clean environment, and three ways to run the module: the installed binary
directly, ad hoc `ansible`, and `ansible-playbook`. Only fixtures and hooks: the constants
and helpers they use, which the test files import too, are in tests/support/harness.py (this
file puts tests/support on the import path).

Network rule: only 127.0.0.1 is ever contacted. Every run gets AWS_EC2_METADATA_DISABLED=true
and AWS_ENDPOINT_URL pointing at a closed local port (the AWS SDK honours it when no
endpoint_url is given), and the helpers refuse to run with any non-local endpoint.

Secret scan: every `subprocess.run` of `ansible`, `ansible-playbook` or the module
executable during the session, from these fixtures or straight from a test, goes through a
recorder (tests/support/secret_scanner.py). It learns the secret values each run is given and each result
returns, keeps what the run printed and the files it wrote under the session's temporary
directory, and test_secrets.py's last test (run after every other test) scans all of it.
"""

import json
import os
import pathlib
import re
import socket
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
import module_spec  # noqa: E402
from certificates import CertificateAuthority  # noqa: E402
from fake_iam import FakeIAM, RotationIAM  # noqa: E402
from fake_role_sts import RoleSTS  # noqa: E402
from fake_sts import FakeSTS  # noqa: E402
from harness import (  # noqa: E402
    FQCN, HOST_LINE, INTERNAL_ARGS, PLAYBOOKS, VENV_BIN, AdhocRun, AuthMoto, IamKey, TlsMoto, assert_network_safe,
    assert_urls_local, check_protocol, merge_env,
)
from moto_server import PROXY_VARS, MotoServer, allow, authenticating_moto, user_with_key  # noqa: E402
from secret_scanner import SecretRecorder, recording_subprocess_run  # noqa: E402


# --------------------------------------------------------------------------------------------
# The collection


@pytest.fixture(scope="session")
def collections_dir(tmp_path_factory):
    tarball = os.environ.get("COLLECTION_TARBALL")
    if not tarball:
        pytest.fail(
            "COLLECTION_TARBALL is not set. Run the suite through scripts/test, or build with "
            "scripts/build and set COLLECTION_TARBALL to the tarball it prints.",
            pytrace=False,
        )
    if not os.path.isfile(tarball):
        pytest.fail(f"COLLECTION_TARBALL={tarball} does not exist", pytrace=False)
    path = tmp_path_factory.mktemp("collections")
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(path), tarball],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(path)},
    )
    if proc.returncode != 0:
        pytest.fail(f"ansible-galaxy collection install failed:\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def module_binary(collections_dir):
    path = collections_dir / "ansible_collections/rustaws/creds/plugins/modules/sts_session_token"
    assert path.is_file(), f"{path} is not in the installed collection"
    assert os.access(path, os.X_OK), f"{path} is not executable"
    return path


@pytest.fixture(scope="session")
def hooked_executable():
    """A debug build of the executable: the only kind that honours the test hook
    RUSTAWS_CREDS_TEST_STOP_AT (the shipped release build ignores it). Built here with cargo,
    from the same tree as the tarball (cargo test has compiled its dependencies already)."""
    root = HERE.parent.parent
    proc = subprocess.run(["cargo", "build", "--quiet", "--bin", "rustaws-creds"], cwd=root, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"cargo build of the hooked executable failed:\n{proc.stderr}"
    meta = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"], cwd=root,
                          capture_output=True, text=True, timeout=120, check=True)
    path = pathlib.Path(json.loads(meta.stdout)["target_directory"]) / "debug" / "rustaws-creds"
    assert os.access(path, os.X_OK), path
    return path


# --------------------------------------------------------------------------------------------
# Local servers


@pytest.fixture(scope="session")
def closed_url():
    """An http URL on 127.0.0.1 where nothing listens: the port is bound (so nothing else takes
    it) but never listened on, so connections are refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture(scope="session")
def moto():
    """The shared moto server (no authentication: any key works)."""
    server = MotoServer()
    with server:
        yield server


@pytest.fixture(scope="session")
def fake_sts_server():
    with FakeSTS() as server:
        yield server


@pytest.fixture
def fake_sts(fake_sts_server):
    """The recording STS stand-in, with no requests recorded yet."""
    fake_sts_server.clear()
    return fake_sts_server


@pytest.fixture(scope="session")
def role_sts_server():
    with RoleSTS() as server:
        yield server


@pytest.fixture
def role_sts(role_sts_server):
    """The recording stand-in of tests/support/fake_role_sts.py (it answers GetCallerIdentity,
    AssumeRole and more), with no requests recorded yet. It shows what a module sends when it
    signs with a session token (sts_session_token refuses to: AWS refuses GetSessionToken
    signed with session credentials)."""
    role_sts_server.clear()
    return role_sts_server


@pytest.fixture(scope="module")
def iam_server():
    """The recording IAM stand-in that also answers STS GetCallerIdentity (fake_iam.RotationIAM)."""
    with RotationIAM() as server:
        yield server


@pytest.fixture
def iam(iam_server):
    iam_server.reset()
    iam_server.refusals = 0
    return iam_server


@pytest.fixture(scope="session")
def auth_moto():
    """A second moto server that authenticates every request like AWS does (signature checked
    against IAM access keys, IAM policies enforced)."""

    def setup(iam):
        return (user_with_key(iam, "ansible-tester", allow("sts:GetSessionToken")),
                user_with_key(iam, "no-permissions"))

    with authenticating_moto(setup) as (url, (allowed, denied)):
        yield AuthMoto(url, IamKey(**allowed), IamKey(**denied))


@pytest.fixture(scope="session")
def private_ca(tmp_path_factory):
    """The tests' private certificate authority; its certificate is in the file `.path`."""
    ca = CertificateAuthority("rustaws test CA")
    ca.write(tmp_path_factory.mktemp("private-ca"))
    return ca


@pytest.fixture(scope="session")
def tls_moto(tmp_path_factory, private_ca):
    """moto over https, with a server certificate for 127.0.0.1 issued by the private CA."""
    d = tmp_path_factory.mktemp("tls")
    other = CertificateAuthority("unrelated test CA").write(d, "other-ca")
    cert, key = private_ca.write_server(d)
    with MotoServer(tls_cert=cert, tls_key=key) as url:
        yield TlsMoto(url, private_ca.path, other)


# --------------------------------------------------------------------------------------------
# Environment


@pytest.fixture(scope="session")
def ansible_cfg(tmp_path_factory):
    """An empty ansible.cfg, so no configuration of the developer's or the tree's applies."""
    path = tmp_path_factory.mktemp("ansible-cfg") / "ansible.cfg"
    path.write_text("[defaults]\n")
    return path


@pytest.fixture
def env(collections_dir, closed_url, ansible_cfg, tmp_path):
    """The environment every run starts from: nothing AWS-related from the developer's or CI's
    environment (no variable any module option reads, see the spec), no AWS config files, the
    metadata service off, and the SDK's own endpoint variable pointing at a closed local port as
    a safety net."""
    option_vars = module_spec.all_env()
    clean = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("AWS_", "EC2_", "SSL_CERT_", "ANSIBLE_"))
        and k not in option_vars and k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
        and k.lower() not in PROXY_VARS
    }
    clean.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "nonexistent-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "nonexistent-aws-credentials"),
        AWS_ENDPOINT_URL=closed_url,
        ANSIBLE_CONFIG=str(ansible_cfg),
        ANSIBLE_COLLECTIONS_PATH=str(collections_dir),
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        # The "remote" (here: local) temporary directory too, so that whatever ansible leaves
        # there is inside the test's directory, where the secret scan looks.
        ANSIBLE_REMOTE_TMP=str(tmp_path / "ansible-remote"),
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return clean


# --------------------------------------------------------------------------------------------
# Running the module


@pytest.fixture
def run_binary(module_binary, env, tmp_path):
    """Runs the installed binary with the given argv (after argv[0]) in the test's directory;
    checks the protocol."""

    def run(argv, env_extra=None):
        full_env = merge_env(env, env_extra)
        assert_network_safe(full_env)
        proc = subprocess.run(
            [str(module_binary), *map(str, argv)], capture_output=True, text=True, timeout=60,
            env=full_env, stdin=subprocess.DEVNULL, cwd=tmp_path,
        )
        return check_protocol(proc)

    return run


@pytest.fixture
def run_module(run_binary, env, tmp_path):
    """Runs the installed binary the way ansible-core does: one args file holding the options
    followed by the `_ansible_*` keys (keyword arguments override those, e.g. check_mode=True).
    Returns (rc, result, stdout, stderr)."""
    base = env
    counter = iter(range(10**6))

    def run(args, env=None, **internal):
        assert_network_safe(merge_env(base, env), args)
        payload = {**args, **INTERNAL_ARGS, **{f"_ansible_{k}": v for k, v in internal.items()}}
        path = tmp_path / f"args-{next(counter)}"
        path.write_text(json.dumps(payload))
        try:
            return run_binary([path], env)
        finally:
            # As ansible-core does: the args file holds the task's secrets; it does not stay.
            path.unlink(missing_ok=True)

    return run


@pytest.fixture
def run_named_module(collections_dir, env, tmp_path):
    """run(name, args, env=None, **internal): run_module for any module of the collection
    (the one executable picks the module by the name it runs under)."""
    base = env
    counter = iter(range(10**6))
    modules = collections_dir / "ansible_collections/rustaws/creds/plugins/modules"

    def run(name, args, env=None, executable=None, **internal):
        """executable: another build of the executable to run the module with (hooked_executable)."""
        path = modules / name
        assert path.exists(), f"{path} is not in the installed collection"
        argv = [str(executable), name] if executable else [str(path)]
        full_env = merge_env(base, env)
        assert_network_safe(full_env, args)
        internal.setdefault("module_name", f"rustaws.creds.{name}")
        payload = {**args, **INTERNAL_ARGS, **{f"_ansible_{k}": v for k, v in internal.items()}}
        args_file = tmp_path / f"args-{name}-{next(counter)}"
        args_file.write_text(json.dumps(payload))
        try:
            proc = subprocess.run([*argv, str(args_file)], capture_output=True, text=True, timeout=60,
                                  env=full_env, stdin=subprocess.DEVNULL, cwd=tmp_path)
        finally:
            args_file.unlink(missing_ok=True)
        return check_protocol(proc)

    return run


@pytest.fixture
def adhoc(env, tmp_path):
    """`ansible localhost -m rustaws.creds.sts_session_token -a ARGS` (or another module, by its
    FQCN) with the default callback at -v, which prints each host's result as JSON (also for
    skipped hosts)."""
    base = env

    def run(module_args, env=None, check=False, verbosity=1, module=FQCN):
        full_env = merge_env(
            base, {"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
                       **(env or {})})
        assert_network_safe(full_env)
        assert_urls_local(module_args)
        cmd = ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", module, "-a", module_args,
               "-" + "v" * verbosity]
        if check:
            cmd.append("--check")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=full_env, cwd=tmp_path,
                              stdin=subprocess.DEVNULL)
        found = list(HOST_LINE.finditer(proc.stdout))
        assert len(found) == 1, f"expected one host result:\n{proc.stdout}\n{proc.stderr}"
        result, _ = json.JSONDecoder().raw_decode(proc.stdout, found[0].end())
        return AdhocRun(proc.returncode, found[0].group(1), result, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def playbook(env, moto, fake_sts, tmp_path):
    """ansible-playbook -i localhost, -c local on a file of playbooks/; the local endpoints are in
    the environment (MOTO_URL, FAKE_STS_URL). Asserts the exit status (0 unless told)."""
    base = env

    def run(name, env=None, args=(), rc=0):
        full_env = merge_env(base, {"MOTO_URL": moto.url, "FAKE_STS_URL": fake_sts.url, **(env or {})})
        assert_network_safe(full_env)
        assert_urls_local((PLAYBOOKS / name).read_text())
        proc = subprocess.run(
            ["ansible-playbook", "-i", "localhost,", "-c", "local", str(PLAYBOOKS / name), *args],
            capture_output=True, text=True, timeout=300, env=full_env, cwd=tmp_path, stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == rc, f"ansible-playbook exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        if rc == 0:
            assert re.search(r"^localhost\s+: ok=\d+ .*failed=0 ", proc.stdout, re.M), proc.stdout
        return proc

    return run


@pytest.fixture
def creds_file(tmp_path):
    """Where a test's output_profile writes: a credentials file in a directory that does not
    exist yet (the writer creates both)."""
    return tmp_path / "aws" / "credentials"


@pytest.fixture
def aws_config_file(tmp_path):
    """Writes an AWS config file; returns the env pointing AWS_CONFIG_FILE at it."""

    def write(text):
        path = tmp_path / "aws-config"
        path.write_text(text)
        return {"AWS_CONFIG_FILE": str(path)}

    return write


# --------------------------------------------------------------------------------------------
# Secrets: what every watched run was given and printed (tests/support/secret_scanner.py says
# what counts as a secret and where one may appear), scanned at the end of the session.


@pytest.fixture(scope="session", autouse=True)
def secret_recorder(tmp_path_factory):
    """Routes every watched subprocess.run of the session through the recorder."""
    recorder = SecretRecorder(tmp_path_factory.getbasetemp())
    real_run = subprocess.run
    subprocess.run = recording_subprocess_run(recorder, real_run)
    try:
        yield recorder
    finally:
        subprocess.run = real_run


@pytest.fixture
def known_secret(secret_recorder):
    """known_secret(value, origin): a value the end-of-session scan must not find anywhere
    outside the places secrets belong (for secrets the recorder cannot learn by itself)."""
    return secret_recorder.add


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "secret_scan: the end-of-session secret scan; runs after every other test")


def pytest_collection_modifyitems(session, config, items):
    """The secret scan runs last, over what every other test produced."""
    last = [item for item in items if item.get_closest_marker("secret_scan")]
    if last:
        items[:] = [item for item in items if not item.get_closest_marker("secret_scan")] + last


@pytest.fixture(scope="module")
def fake_iam_server():
    """The recording fake IAM (tests/support/fake_iam.py), one per test module."""
    with FakeIAM() as server:
        yield server


@pytest.fixture
def fake_iam(fake_iam_server, known_secret):
    """The recording fake IAM, empty; every secret it issued during the test is registered with
    the session's secret scan afterwards."""
    fake_iam_server.reset()
    yield fake_iam_server
    for secret in fake_iam_server.issued_secrets:
        known_secret(secret, "fake IAM: issued secret")
