"""Fixtures: the collection installed from the tarball scripts/build made, a moto server on
127.0.0.1, a clean environment, and helpers that run the module directly and through Ansible."""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "support"))
from moto_server import TEST_ACCESS_KEY, TEST_SECRET_KEY, MotoServer  # noqa: E402

VENV_BIN = pathlib.Path(sys.executable).parent
FQCN = "rustaws.creds.sts_session_token"


@pytest.fixture(scope="session")
def collections():
    tarball = os.environ.get("COLLECTION_TARBALL")
    if not tarball:
        pytest.fail("COLLECTION_TARBALL is not set: run the suite through scripts/test")
    path = tempfile.mkdtemp(prefix="rustaws-collections-")
    subprocess.run(
        [VENV_BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", path, tarball],
        check=True, capture_output=True, env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": path},
    )
    return pathlib.Path(path)


@pytest.fixture(scope="session")
def moto():
    with MotoServer() as url:
        yield url


@pytest.fixture
def env(collections, tmp_path):
    """The environment every run gets: no AWS variable of the developer's or CI's, the
    metadata service off (only 127.0.0.1 may be contacted), no AWS config files."""
    clean = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("AWS_", "EC2_", "SSL_CERT_")) and k != "S3_URL"
    }
    clean.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_NOCOLOR="1",
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    )
    return clean


@pytest.fixture
def binary(collections):
    return collections / "ansible_collections/rustaws/creds/plugins/modules/sts_session_token"


class Runner:
    def __init__(self, binary, env, tmp_path, moto):
        self.binary, self.env, self.tmp, self.moto = binary, env, tmp_path, moto

    def creds(self):
        return {"endpoint_url": self.moto, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}

    def raw(self, argv, extra_env=None):
        proc = subprocess.run(
            [str(self.binary), *argv], capture_output=True, text=True, timeout=60,
            env={**self.env, **(extra_env or {})},
        )
        # The protocol: exactly one JSON object on one line, nothing on stderr.
        assert proc.stderr == "", proc.stderr
        lines = proc.stdout.splitlines()
        assert len(lines) == 1, proc.stdout
        result = json.loads(lines[0])
        assert isinstance(result, dict)
        assert proc.returncode == (1 if result.get("failed") else 0), (proc.returncode, result)
        return proc.returncode, result

    def module(self, args, extra_env=None):
        path = self.tmp / "args"
        path.write_text(json.dumps({**args, "_ansible_module_name": FQCN}))
        return self.raw([str(path)], extra_env)

    def ansible(self, cmd, extra_env=None):
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=300, cwd=HERE,
            env={**self.env, **(extra_env or {})},
        )

    def playbook(self, name, *args, extra_env=None):
        proc = self.ansible(
            ["ansible-playbook", "-i", "localhost,", "-c", "local", str(HERE / "playbooks" / name), *args],
            {"MOTO_URL": self.moto, **(extra_env or {})},
        )
        return proc

    def adhoc(self, module_args, *args, extra_env=None):
        proc = self.ansible(
            ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", FQCN, "-a", module_args, *args],
            {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal", **(extra_env or {})},
        )
        # minimal prints "localhost | STATUS => {json}", or just "localhost | STATUS".
        head, _, body = proc.stdout.partition(" => ")
        status = head.split("|")[-1].strip().split()[0] if "|" in head else ""
        return proc.returncode, status, (json.loads(body) if body.strip() else {})


@pytest.fixture
def run(binary, env, tmp_path, moto):
    return Runner(binary, env, tmp_path, moto)
