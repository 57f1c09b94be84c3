"""The README's example playbooks run as written, against moto.

Every ```yaml block of README.md that is a playbook (it has `hosts:`) is run with
ansible-playbook, with AWS_URL pointing at a moto server of its own (the `endpoint_url`
fallback), the moto test keys in the environment, an IAM user `deploy`, and the variables the
examples leave to the user (mfa_code, token_file) given with -e.
"""

import contextlib
import pathlib
import re
import subprocess
import tempfile
import threading

import pytest
from fake_sso import FakeSso
from moto_server import TEST_ACCESS_KEY, TEST_SECRET_KEY, MotoServer, create_iam_users

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)
# An unsigned JWT: moto accepts it for AssumeRoleWithWebIdentity.
TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZWFkbWUifQ."


def playbooks():
    text = README.read_text()
    found = []
    for match in BLOCK.finditer(text):
        body = match.group(1)
        if re.search(r"^\s*-?\s*hosts:", body, re.M):
            line = text.count("\n", 0, match.start()) + 1
            found.append(pytest.param(body, id=f"README.md:{line}"))
    return found


def test_the_readme_has_playbook_examples():
    # One per module section at least, and the real-AWS one.
    assert len(playbooks()) >= 5


@pytest.fixture(scope="module")
def readme_moto():
    with MotoServer() as url:
        create_iam_users(url, ["deploy"])
        yield url


@contextlib.contextmanager
def sso_sign_in(tmp_path, known_secret):
    """For the sso_login example: the IAM Identity Center stand-in as its endpoint, a config file
    with the example's sso-session, HOME for the token cache, and a user who approves every code
    as soon as it is shown."""
    config = tmp_path / "config"
    config.write_text("[sso-session my-sso]\nsso_start_url = https://d-1234567890.awsapps.com/start\n"
                      "sso_region = eu-west-1\n")
    done = threading.Event()
    # The token cache holds secrets on purpose: HOME is outside the test's directory, whose files
    # the secret scan reads.
    with FakeSso() as sso, tempfile.TemporaryDirectory(prefix="rustaws-sso-home-") as home:
        def approve():
            while not done.wait(0.1):
                with contextlib.suppress(KeyError):
                    sso.approve()
        user = threading.Thread(target=approve)
        user.start()
        try:
            yield sso, {"AWS_URL": sso.url, "HOME": home, "AWS_CONFIG_FILE": str(config)}
        finally:
            done.set()
            user.join()
            for secret in sso.issued_secrets:
                known_secret(secret, "IAM Identity Center stand-in: issued secret")


@pytest.mark.parametrize("playbook", playbooks())
def test_example_runs(playbook, readme_moto, env, tmp_path, known_secret):
    path = tmp_path / "example.yml"
    path.write_text(playbook)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    run_env = dict(
        env,
        AWS_URL=readme_moto,
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID=TEST_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=TEST_SECRET_KEY,
    )
    with contextlib.ExitStack() as stack:
        if "rustaws.creds.sso_login" in playbook:
            sso, sso_env = stack.enter_context(sso_sign_in(tmp_path, known_secret))
            run_env.update(sso_env)
        proc = run_example(path, token_file, run_env, tmp_path)
        assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
        assert re.search(r"^localhost\s+: ok=\d+ .*failed=0 ", proc.stdout, re.M), proc.stdout
        if "rustaws.creds.sso_login" in playbook:
            assert sso.device_authorizations == 1 and sso.count("CreateToken") >= 1, sso.counts()
            assert list(pathlib.Path(run_env["HOME"], ".aws/sso/cache").glob("*.json")), "the token is cached"


def run_example(path, token_file, run_env, tmp_path):
    return subprocess.run(
        [
            "ansible-playbook", "-i", "localhost,", "-c", "local", str(path),
            "-e", "mfa_code=123456", "-e", f"token_file={token_file}",
        ],
        capture_output=True, text=True, timeout=120, env=run_env, cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
