"""The benchmark's work directory and what runs in it: the environment every measured process
starts from, ansible's configuration, the collection installed with the bench virtualenv's
ansible-galaxy, and the files ansible-core leaves on the host for one module run (captured with
ANSIBLE_KEEP_REMOTE_FILES=1) with the command that runs them again."""

import glob
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile

from common import MODULES, PLACEHOLDER_ID, first_json, log
from moto_server import TEST_ACCESS_KEY, TEST_SECRET_KEY


class Workspace:
    def __init__(self, opts):
        self.opts = opts
        opts.tarball = str(pathlib.Path(opts.tarball).resolve())
        self.work = pathlib.Path(tempfile.mkdtemp(prefix="rustaws-bench-"))
        self.bench_bin = pathlib.Path(opts.bench_venv).resolve() / "bin"
        self.python = self.bench_bin / "python"
        self.facts = {}
        self.closed = socket.socket()
        self.closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        self.closed_url = f"http://127.0.0.1:{self.closed.getsockname()[1]}"

    def close(self, keep):
        """Frees the closed port; removes the work directory unless `keep`."""
        self.closed.close()
        if keep:
            log(f"work directory kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # --- environment

    def env(self, **extra):
        """What every measured process starts from: nothing AWS-related from this machine's
        environment (no CA bundle or SSL_CERT_* variables either: a managed host normally has
        none), the test credentials, the metadata service off, the SDK's endpoint variable at a
        closed local port as a safety net, and ansible configured into the work directory."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "EC2_", "SSL_CERT_", "ANSIBLE_", "PYTHON"))
               and k not in ("S3_URL", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "VIRTUAL_ENV")
               and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        env.update(
            PATH=f"{self.bench_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            AWS_ACCESS_KEY_ID=TEST_ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=TEST_SECRET_KEY,
            AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE=str(self.work / "no-aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.work / "no-aws-credentials"),
            AWS_ENDPOINT_URL=self.closed_url,
            ANSIBLE_CONFIG=str(self.work / "ansible.cfg"),
            ANSIBLE_NOCOLOR="1",
        )
        env.update(extra)
        return env

    def write_config(self):
        (self.work / "inventory.ini").write_text(
            f"localhost ansible_connection=local ansible_python_interpreter={self.python}\n")
        (self.work / "ansible.cfg").write_text(
            "[defaults]\n"
            f"inventory = {self.work / 'inventory.ini'}\n"
            f"collections_path = {self.work / 'collections'}\n"
            f"local_tmp = {self.work / 'ansible-local'}\n"
            f"remote_tmp = {self.work / 'ansible-remote'}\n"
            "host_key_checking = False\n"
            "retry_files_enabled = False\n"
            "localhost_warning = False\n"
            "interpreter_python_fallback = []\n")

    def install_collection(self):
        proc = subprocess.run(
            [self.bench_bin / "ansible-galaxy", "collection", "install", "--offline", "-p",
             self.work / "collections", self.opts.tarball],
            capture_output=True, text=True, env=self.env())
        if proc.returncode != 0:
            sys.exit(f"ansible-galaxy collection install failed:\n{proc.stdout}\n{proc.stderr}")
        listing = subprocess.run([self.bench_bin / "ansible-galaxy", "collection", "list", "--format", "json"],
                                 capture_output=True, text=True, env=self.env()).stdout
        versions = {}
        for colls in json.loads(listing).values():
            for name, meta in colls.items():
                versions.setdefault(name, meta.get("version"))
        self.facts["collections"] = {k: versions.get(k) for k in ("rustaws.creds", "amazon.aws", "community.aws")}

    # --- capturing what ansible-core runs on the host

    def capture(self, endpoint, key, fqcn, args=None, env=None):
        """Runs the module once ad hoc with ANSIBLE_KEEP_REMOTE_FILES=1 (with MODULES[key]'s
        arguments unless `args` are given, in self.env() unless `env` is given); returns the kept
        remote directory (AnsiballZ_<module>[.py] and, for a binary module, args)."""
        side = "ours" if fqcn.startswith("rustaws.") else "theirs"
        remote = self.work / "capture" / endpoint.name / key.replace(":", "-") / side
        remote.mkdir(parents=True)
        args = {**(MODULES[key][2] if args is None else args), **endpoint.common_args()}
        env = dict(self.env() if env is None else env, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote))
        proc = subprocess.run(
            [self.bench_bin / "ansible", "localhost", "-m", fqcn, "-a", json.dumps(args)],
            capture_output=True, text=True, cwd=self.work, env=env)
        dirs = glob.glob(str(remote / "ansible-tmp-*"))
        if len(dirs) != 1:
            sys.exit(f"capture of {fqcn}: expected one kept directory in {remote}, found {dirs}\n"
                     f"{proc.stdout}\n{proc.stderr}")
        if key != "iam_access_key:delete" and proc.returncode != 0:
            sys.exit(f"capture of {fqcn} over {endpoint.name} failed:\n{proc.stdout}\n{proc.stderr}")
        return pathlib.Path(dirs[0])

    def command(self, kept, key, fqcn, key_id=None):
        """argv of one module run from the kept files; for the delete run, the key id goes
        into a copy of the arguments first (outside the timed part)."""
        name = MODULES[key][0].rsplit(".", 1)[1]
        if fqcn.startswith("rustaws."):
            exe, args = kept / f"AnsiballZ_{name}", kept / "args"
            if key_id:
                copy = kept / "args-run"
                copy.write_text(args.read_text().replace(PLACEHOLDER_ID, key_id))
                args = copy
            return [str(exe), str(args)]
        wrapper = kept / f"AnsiballZ_{name}.py"
        if key_id:
            copy = kept / f"run_{name}.py"
            copy.write_text(wrapper.read_text().replace(PLACEHOLDER_ID, key_id))
            wrapper = copy
        return [str(self.python), str(wrapper)]

    def check(self, run, what, want_key):
        if run.rc != 0:
            sys.exit(f"{what} failed (exit {run.rc}):\n{run.output[-2000:]}")
        result = first_json(run.output)
        if result.get("failed") or (want_key and want_key not in result):
            sys.exit(f"{what}: unexpected result keys {sorted(result)}; msg: {result.get('msg')}")
        return result
