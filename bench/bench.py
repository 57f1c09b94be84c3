"""Benchmark: rustaws.creds against the Python modules it replaces. Run by scripts/bench.

Runs under the project's .venv (moto, cryptography, boto3 for the set-up); everything measured runs
with the bench virtualenv (the `ansible` package: ansible-core plus amazon.aws and community.aws,
boto3, botocore), so both sides get the same ansible-core, the same controller and the same moto.

What is measured, each against a moto server on 127.0.0.1, over HTTP and over HTTPS (moto with a
certificate from a private CA, trusted through the modules' `aws_ca_bundle` option):

1. One module run, the way ansible-core runs it on the managed host. The files are the ones
   ansible-core itself put there: an ad hoc run with ANSIBLE_KEEP_REMOTE_FILES=1 leaves, for a
   Python module, the AnsiballZ wrapper (module, module_utils and arguments in one file), run as
   `python AnsiballZ_<module>.py`; for ours, the copied executable and its args file, run as
   `AnsiballZ_<module> args`. Wall time from spawn to exit, peak RSS and CPU from wait4().
   iam_access_key is a pair: create a key, then delete it (its id written into the delete run's
   arguments before the clock starts); the pair's time is create + delete.
2. A playbook of 20 tasks of each module (iam_access_key: 10 create + delete pairs), hosts:
   localhost, connection local, the whole `ansible-playbook` wall time; beside it 20 tasks of
   ansible.builtin.debug (no module is sent or run: ansible's own per-task floor) and of
   ansible.builtin.ping (the smallest Python module).
3. Fan-out: 100 roles in one sts_assume_roles task, against a loop of 100 sts_assume_role tasks
   of ours and a loop of 100 amazon.aws.sts_assume_role tasks, over HTTP: the whole
   `ansible-playbook` wall time, the task's own duration (a callback's clock, from the task's
   start to its result), and the executable alone (one run with an args file of 100 roles, as
   ansible-core writes it, against 100 runs of sts_assume_role's one after another), also with
   bench/shaped_link.py adding a network delay in front of moto.
4. The size of the shipped executable and of the Galaxy tarball.

Medians are reported; runs of the two sides alternate so that a noisy moment hits both.
"""

import argparse
import datetime
import glob
import ipaddress
import json
import os
import pathlib
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import types

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))
from moto_server import TEST_ACCESS_KEY, TEST_SECRET_KEY, MotoServer  # noqa: E402

MiB = 1024 * 1024
PLACEHOLDER_ID = "AKIABENCHPLACEHOLDER"  # 20 characters, like a real access key id
IAM_USER = "bench-user"
ROLE_ARN = "arn:aws:iam::123456789012:role/bench"

# Module -> (ours, theirs, arguments)
MODULES = {
    "sts_session_token": ("rustaws.creds.sts_session_token", "community.aws.sts_session_token",
                          {"duration_seconds": 900}),
    "sts_assume_role": ("rustaws.creds.sts_assume_role", "amazon.aws.sts_assume_role",
                        {"role_arn": ROLE_ARN, "role_session_name": "bench"}),
    "iam_access_key:create": ("rustaws.creds.iam_access_key", "amazon.aws.iam_access_key",
                              {"user_name": IAM_USER, "state": "present"}),
    "iam_access_key:delete": ("rustaws.creds.iam_access_key", "amazon.aws.iam_access_key",
                              {"user_name": IAM_USER, "id": PLACEHOLDER_ID, "state": "absent"}),
}

# Target -> (comparison, limit, unit) for the value a row is judged by.
TARGETS = {
    "run_ratio": (">=", 30.0, "x"),  # one module run at least 30x faster
    "playbook_ratio": (">=", 10.0, "x"),  # 20-task playbook (connection: local) at least 10x faster
    "debug_ratio": ("<=", 1.3, "x debug"),  # ... and at most 1.3 times the 20 x debug playbook
    "rss_mib": ("<=", 10.0, " MiB"),  # peak memory of one run
    "module_mib": ("<=", 5.0, " MiB"),  # the module file
    "tarball_mib": ("<=", 12.0, " MiB"),
    "remote_task_s": ("<=", 0.25, " s"),  # per task on the shaped link
    "remote_ratio": (">=", 3.0, "x"),  # ... at least 3x faster than the pipelined Python module
    "fanout_ratio": (">=", 10.0, "x"),  # 100 roles: one sts_assume_roles task 10x faster than our loop
    "fanout_wall_s": ("<=", 0.5, " s"),  # ... and under 0.5 s
}
SECTIONS = ("single", "playbooks", "fanout", "remote", "sizes")
FANOUT_ROLES = 100
FANOUT_CONCURRENCY = (8, 1, 32)  # the default first
# The executable-alone runs again through bench/shaped_link.py: (Mbit/s, one-way delay ms), a
# delay like a nearby AWS region's and no bottleneck to speak of.
FANOUT_DELAY = (10000, 10)
# A callback that writes each task's duration (its start to its result, loops included) as JSON
# to $BENCH_TASK_TIMES: the task's share of an ansible-playbook run.
TASK_TIMER = '''
import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_task_time"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.started, self.took = {}, {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.started[task._uuid] = time.perf_counter()

    def done(self, result):
        task = result._task
        self.took[task.get_name()] = time.perf_counter() - self.started[task._uuid]

    def v2_runner_on_ok(self, result):
        self.done(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.done(result)

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["BENCH_TASK_TIMES"], "w") as f:
            json.dump(self.took, f)
'''
# The shaped link of the remote-host rows: (label, (Mbit/s, one-way delay ms) or None).
LINKS = (("no shaping", None), ("20 Mbit/s, 25 ms each way", (20, 25)))
CACHE = ".ansible/tmp/rustaws-creds"


# ------------------------------------------------------------------------------------------------
# Small helpers


def log(msg):
    print(f"-- {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_json(text):
    i = text.find("{")
    if i < 0:
        raise ValueError(f"no JSON object in output: {text[:300]!r}")
    obj, _ = json.JSONDecoder().raw_decode(text, i)
    return obj


class Run:
    """One process: wall seconds (spawn to reaped), CPU seconds (user + system), exit status and
    output; with rss=True it runs under /usr/bin/time instead, for the peak RSS only.

    Why two kinds of run: Linux carries the high-water RSS of the address space a process had
    before execve() into its ru_maxrss, so a child spawned from this Python harness (80 MB)
    would report 80 MB whatever it used. GNU time is a small C program: spawned from it, the
    child's ru_maxrss is its own (plus the 2 MB time had). Its own start-up would add to the
    wall time, so that is measured in separate, direct runs."""

    def __init__(self, argv, env, cwd, rss=False):
        self.rss = None
        if rss:
            fd, rss_file = tempfile.mkstemp(prefix="rss-", dir=cwd)
            os.close(fd)
            argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        self.wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.rc = proc.returncode
        self.cpu = usage.ru_utime + usage.ru_stime
        self.output = out.decode(errors="replace")
        if rss:
            text = pathlib.Path(rss_file).read_text().strip().splitlines()
            os.unlink(rss_file)
            self.rss = int(text[-1]) * 1024  # KiB


def median(values):
    return statistics.median(values)


def fmt_time(seconds):
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_mib(n):
    return f"{n / MiB:.2f} MiB"


# ------------------------------------------------------------------------------------------------
# TLS: a private CA and a certificate for 127.0.0.1


def make_tls(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = dict(not_valid_before=now - datetime.timedelta(days=1), not_valid_after=now + datetime.timedelta(days=7))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rustaws bench CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(valid["not_valid_before"]).not_valid_after(valid["not_valid_after"])
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(valid["not_valid_before"]).not_valid_after(valid["not_valid_after"])
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    (d / "server.pem").write_bytes(cert.public_bytes(pem))
    (d / "server.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    return d / "ca.pem", d / "server.pem", d / "server.key"


# ------------------------------------------------------------------------------------------------
# The bench


class Endpoint:
    def __init__(self, name, url, ca_bundle=None, label=None):
        self.name = name  # a short name for files: "HTTP", "HTTPS", "HTTPS-front"
        self.label = label or name  # for the table
        self.url = url
        self.ca_bundle = ca_bundle

    def answer_time(self, n=20):
        """Median time of one STS request on a new connection (as a module makes it): connect,
        TLS handshake, request, whole answer; from this Python process."""
        import http.client
        import ssl
        import urllib.parse

        u = urllib.parse.urlsplit(self.url)
        body = "Action=GetCallerIdentity&Version=2011-06-15"
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Authorization": f"AWS4-HMAC-SHA256 Credential={TEST_ACCESS_KEY}/20260101/us-east-1/sts/"
                                    "aws4_request, SignedHeaders=host, Signature=0"}
        times = []
        for _ in range(n + 2):
            start = time.perf_counter()
            if self.ca_bundle:
                conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10,
                                                   context=ssl.create_default_context(cafile=str(self.ca_bundle)))
            else:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            conn.request("POST", "/", body, headers)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 200:
                sys.exit(f"{self.url}: GetCallerIdentity answered {resp.status}")
            times.append(time.perf_counter() - start)
        return median(times[2:])

    def assume_role_time(self, count, width, repeats=5):
        """Median time for `count` AssumeRole requests from this Python process, `width` at a time
        (threads), each on a new connection: what the server needs for a fan-out, whoever asks."""
        import concurrent.futures
        import http.client
        import urllib.parse

        u = urllib.parse.urlsplit(self.url)
        body = ("Action=AssumeRole&Version=2011-06-15&RoleSessionName=bench"
                "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fbench")
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Authorization": f"AWS4-HMAC-SHA256 Credential={TEST_ACCESS_KEY}/20260101/us-east-1/sts/"
                                    "aws4_request, SignedHeaders=host, Signature=0"}

        def one(_):
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            conn.request("POST", "/", body, headers)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 200:
                sys.exit(f"{self.url}: AssumeRole answered {resp.status}")

        times = []
        with concurrent.futures.ThreadPoolExecutor(width) as pool:
            for _ in range(repeats + 1):
                start = time.perf_counter()
                list(pool.map(one, range(count)))
                times.append(time.perf_counter() - start)
        return median(times[1:])

    def common_args(self):
        args = {"endpoint_url": self.url, "region": "us-east-1"}
        if self.ca_bundle:
            args["aws_ca_bundle"] = str(self.ca_bundle)
        return args

    def iam(self):
        import boto3

        return boto3.session.Session(
            aws_access_key_id=TEST_ACCESS_KEY, aws_secret_access_key=TEST_SECRET_KEY, region_name="us-east-1",
        ).client("iam", endpoint_url=self.url, verify=str(self.ca_bundle) if self.ca_bundle else None)

    def delete_keys(self):
        iam = self.iam()
        for k in iam.list_access_keys(UserName=IAM_USER)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=IAM_USER, AccessKeyId=k["AccessKeyId"])


class TlsFront:
    """bench/tls_front.py in front of moto's HTTP port: `with TlsFront(cert, key, port) as url`."""

    def __init__(self, cert, key, upstream):
        self.args = [sys.executable, str(HERE / "tls_front.py"), str(free_port()), str(cert), str(key), str(upstream)]
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.__exit__()
            sys.exit("bench/tls_front.py did not start")
        return f"https://127.0.0.1:{self.args[2]}"

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class ShapedLink:
    """bench/shaped_link.py between the controller and the ssh host: `with ShapedLink(host, (mbit,
    ms)) as (address, port)`; with no shape, the host's own address and port."""

    def __init__(self, host, shape):
        self.host, self.shape, self.proc = host, shape, None

    def __enter__(self):
        if self.shape is None:
            return self.host.address, self.host.port
        port = free_port()
        rate, delay = self.shape
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "shaped_link.py"), str(port), self.host.address, str(self.host.port),
             str(rate), str(delay)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.__exit__()
            sys.exit("bench/shaped_link.py did not start")
        return "127.0.0.1", port

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Bench:
    def __init__(self, opts):
        self.opts = opts
        opts.tarball = str(pathlib.Path(opts.tarball).resolve())
        self.work = pathlib.Path(tempfile.mkdtemp(prefix="rustaws-bench-"))
        self.bench_bin = pathlib.Path(opts.bench_venv).resolve() / "bin"
        self.python = self.bench_bin / "python"
        self.rows = []  # (section, what, ours, theirs, ratio, target, verdict)
        self.facts = {}

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

    def capture(self, endpoint, key, fqcn, args=None):
        """Runs the module once ad hoc with ANSIBLE_KEEP_REMOTE_FILES=1 (with MODULES[key]'s
        arguments unless `args` are given); returns the kept remote directory
        (AnsiballZ_<module>[.py] and, for a binary module, args)."""
        side = "ours" if fqcn.startswith("rustaws.") else "theirs"
        remote = self.work / "capture" / endpoint.name / key.replace(":", "-") / side
        remote.mkdir(parents=True)
        args = {**(MODULES[key][2] if args is None else args), **endpoint.common_args()}
        proc = subprocess.run(
            [self.bench_bin / "ansible", "localhost", "-m", fqcn, "-a", json.dumps(args)],
            capture_output=True, text=True, cwd=self.work,
            env=self.env(ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote)))
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

    # --- 1. one module run

    def check(self, run, what, want_key):
        if run.rc != 0:
            sys.exit(f"{what} failed (exit {run.rc}):\n{run.output[-2000:]}")
        result = first_json(run.output)
        if result.get("failed") or (want_key and want_key not in result):
            sys.exit(f"{what}: unexpected result keys {sorted(result)}; msg: {result.get('msg')}")
        return result

    def single_runs(self, endpoint):
        kept = {}
        for key, (ours, theirs, _) in MODULES.items():
            for fqcn in (ours, theirs):
                kept[key, fqcn] = self.capture(endpoint, key, fqcn)
        endpoint.delete_keys()
        env = self.env()
        runs, warm = self.opts.runs, self.opts.warmup
        for key in ("sts_session_token", "sts_assume_role"):
            ours, theirs, _ = MODULES[key]
            timed = {ours: [], theirs: []}
            rss = {ours: [], theirs: []}
            for i in range(warm + runs):
                for fqcn in (ours, theirs):
                    argv = self.command(kept[key, fqcn], key, fqcn)
                    t = Run(argv, env, self.work)
                    self.check(t, f"{fqcn} over {endpoint.name}", "sts_creds")
                    m = Run(argv, env, self.work, rss=True)
                    self.check(m, f"{fqcn} over {endpoint.name} (under time)", "sts_creds")
                    if i >= warm:
                        timed[fqcn].append((t.wall, t.cpu))
                        rss[fqcn].append(m.rss)
            self.add_single(endpoint, key, timed[ours], timed[theirs], rss[ours], rss[theirs])
        ours, theirs, _ = MODULES["iam_access_key:create"]
        timed = {ours: [], theirs: []}
        rss = {ours: [], theirs: []}
        for i in range(warm + runs):
            for fqcn in (ours, theirs):
                t = self.iam_pair(kept, fqcn, endpoint, env, rss=False)
                m = self.iam_pair(kept, fqcn, endpoint, env, rss=True)
                if i >= warm:
                    timed[fqcn].append((t[0].wall + t[1].wall, t[0].cpu + t[1].cpu))
                    rss[fqcn].append(max(m[0].rss, m[1].rss))
        self.add_single(endpoint, "iam_access_key create+delete", timed[ours], timed[theirs], rss[ours], rss[theirs])
        self.facts.setdefault("wrapper_bytes", {})
        for key, (ours, theirs, _) in MODULES.items():
            name = ours.rsplit(".", 1)[1]
            self.facts["wrapper_bytes"][theirs] = (kept[key, theirs] / f"AnsiballZ_{name}.py").stat().st_size
            self.facts["wrapper_bytes"][ours] = (kept[key, ours] / f"AnsiballZ_{name}").stat().st_size

    def iam_pair(self, kept, fqcn, endpoint, env, rss):
        """Creates a key, then deletes it; returns the two runs."""
        what = f"{fqcn} over {endpoint.name}{' (under time)' if rss else ''}"
        c = Run(self.command(kept["iam_access_key:create", fqcn], "iam_access_key:create", fqcn), env, self.work, rss)
        key_id = self.check(c, f"{what}: create", "access_key_id")["access_key_id"]
        argv = self.command(kept["iam_access_key:delete", fqcn], "iam_access_key:delete", fqcn, key_id)
        d = Run(argv, env, self.work, rss)
        if not self.check(d, f"{what}: delete", None).get("changed"):
            sys.exit(f"{what}: the delete of {key_id} did not delete it")
        return c, d

    def add_single(self, endpoint, key, ours, theirs, ours_rss, theirs_rss):
        section = f"One module run, {endpoint.label}"
        ow, tw = median([w for w, _ in ours]), median([w for w, _ in theirs])
        self.row(section, f"{key}: wall", fmt_time(ow), fmt_time(tw), tw / ow, "run_ratio")
        oc, tc = median([c for _, c in ours]), median([c for _, c in theirs])
        self.row(section, f"{key}: CPU (user + system)", fmt_time(oc), fmt_time(tc), tc / oc, None)
        self.rss_row(section, key, ours_rss, theirs_rss)

    def rss_row(self, section, key, ours, theirs):
        # The target is checked against the largest run, not the median.
        self.row(section, f"{key}: peak RSS (median; max)",
                 f"{fmt_mib(median(ours))}; {fmt_mib(max(ours))}",
                 f"{fmt_mib(median(theirs))}; {fmt_mib(max(theirs))}", None, "rss_mib", value=max(ours) / MiB)

    # --- 2. playbooks

    def write_playbooks(self, endpoint):
        common = endpoint.common_args()
        books = {}

        def book(name, tasks):
            path = self.work / f"{endpoint.name}-{name}.yml"
            play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
            path.write_text(json.dumps(play, indent=1))  # JSON is YAML
            books[name] = path

        for key in ("sts_session_token", "sts_assume_role"):
            ours, theirs, args = MODULES[key]
            for side, fqcn in (("ours", ours), ("theirs", theirs)):
                book(f"{key}-{side}", [{"name": f"{key} {i}", fqcn: {**args, **common}} for i in range(1, 21)])
        ours, theirs, _ = MODULES["iam_access_key:create"]
        for side, fqcn in (("ours", ours), ("theirs", theirs)):
            tasks = []
            for i in range(1, 11):
                tasks.append({"name": f"create {i}", fqcn: {"user_name": IAM_USER, "state": "present", **common},
                              "register": f"key{i}"})
                tasks.append({"name": f"delete {i}", fqcn: {"user_name": IAM_USER, "state": "absent",
                                                            "id": f"{{{{ key{i}.access_key_id }}}}", **common}})
            book(f"iam_access_key-{side}", tasks)
        book("noop", [{"name": f"noop {i}", "ansible.builtin.debug": {"msg": "noop"}} for i in range(1, 21)])
        book("ping", [{"name": f"ping {i}", "ansible.builtin.ping": {}} for i in range(1, 21)])
        return books

    def playbook(self, path, endpoint):
        r = Run([str(self.bench_bin / "ansible-playbook"), str(path)], self.env(), self.work)
        ok = r.rc == 0 and "failed=0" in r.output and ("ok=20 " in r.output or "changed=20 " in r.output)
        if not ok:
            sys.exit(f"{path.name} over {endpoint.name} failed (exit {r.rc}):\n{r.output[-3000:]}")
        return r

    def playbooks(self, endpoint):
        books = self.write_playbooks(endpoint)
        order = list(books)
        samples = {name: [] for name in order}
        endpoint.delete_keys()
        for i in range(self.opts.playbook_warmup + self.opts.playbook_runs):
            for name in order:
                r = self.playbook(books[name], endpoint)
                if i >= self.opts.playbook_warmup:
                    samples[name].append(r.wall)
        section = f"Playbook of 20 tasks, {endpoint.label}"
        noop, ping = median(samples["noop"]), median(samples["ping"])
        for key in ("sts_session_token", "sts_assume_role", "iam_access_key"):
            o, t = median(samples[f"{key}-ours"]), median(samples[f"{key}-theirs"])
            label = key if key != "iam_access_key" else "iam_access_key (10 create+delete pairs)"
            self.row(section, f"{label}: wall", fmt_time(o), fmt_time(t), t / o, "playbook_ratio")
            if key != "iam_access_key":  # 20 module runs, as many as the debug playbook's tasks
                self.row(section, f"{label}: wall / the debug playbook's", f"{o / noop:.2f}x", f"{t / noop:.2f}x",
                         None, "debug_ratio", value=o / noop)
            net = (t - noop) / (o - noop) if o > noop else float("inf")
            self.row(section, f"{label}: above the debug floor", fmt_time(o - noop), fmt_time(t - noop), net, None)
        self.row(section, "20 x ansible.builtin.debug (floor: no module runs)", fmt_time(noop), "", None, None)
        self.row(section, "20 x ansible.builtin.ping (smallest Python module)", "", fmt_time(ping), None, None)

    # --- 3. fan-out: many roles in one task

    def fanout_roles(self):
        return [{"name": f"bench-{i:03d}", "role_arn": f"arn:aws:iam::123456789012:role/bench-{i:03d}"}
                for i in range(FANOUT_ROLES)]

    def fanout_books(self, endpoint):
        """name -> playbook: the 100 roles (play variables) in one sts_assume_roles task, in a loop
        of our sts_assume_role and of amazon.aws's; and one debug task, ansible-playbook's floor."""
        common = endpoint.common_args()
        each = {"role_arn": "{{ item.role_arn }}", "role_session_name": "bench", **common}
        tasks = {
            "one-task": {"name": "100 roles in one task",
                         "rustaws.creds.sts_assume_roles": {"roles": "{{ bench_roles }}",
                                                            "role_session_name": "bench", **common},
                         "no_log": True},
            "ours-loop": {"name": "100 roles, one sts_assume_role each",
                          "rustaws.creds.sts_assume_role": each, "loop": "{{ bench_roles }}", "no_log": True},
            "theirs-loop": {"name": "100 roles, one sts_assume_role each",
                            "amazon.aws.sts_assume_role": each, "loop": "{{ bench_roles }}", "no_log": True},
            "debug": {"name": "ansible-playbook's floor", "ansible.builtin.debug": {"msg": "noop"}},
        }
        books = {}
        for name, task in tasks.items():
            play = {"hosts": "localhost", "gather_facts": False, "vars": {"bench_roles": self.fanout_roles()},
                    "tasks": [task]}
            path = self.work / f"fanout-{endpoint.name}-{name}.yml"
            path.write_text(json.dumps([play], indent=1))
            books[name] = (path, task["name"])
        return books

    def fanout_playbook(self, name, path, task_name):
        """One run: (ansible-playbook wall, the task's duration)."""
        times = self.work / "task-times.json"
        times.unlink(missing_ok=True)
        env = self.env(ANSIBLE_CALLBACK_PLUGINS=str(self.work / "callback_plugins"),
                       ANSIBLE_CALLBACKS_ENABLED="bench_task_time", BENCH_TASK_TIMES=str(times))
        r = Run([str(self.bench_bin / "ansible-playbook"), str(path)], env, self.work)
        want = "ok=1 " if name == "debug" else "changed=1 "
        if r.rc != 0 or "failed=0" not in r.output or want not in r.output:
            sys.exit(f"{path.name} failed (exit {r.rc}):\n{r.output[-3000:]}")
        return r.wall, json.loads(times.read_text())[task_name]

    def fanout_module_runs(self, endpoint):
        """The executable alone: one sts_assume_roles run with 100 roles (per max_concurrency),
        and 100 runs of sts_assume_role's one after another; (wall, CPU) medians."""
        ours = "rustaws.creds.sts_assume_roles"
        argvs = {}
        for width in FANOUT_CONCURRENCY:
            kept = self.capture(endpoint, f"fanout-c{width}", ours,
                                {"roles": self.fanout_roles(), "role_session_name": "bench",
                                 "max_concurrency": width})
            argvs[width] = [str(kept / "AnsiballZ_sts_assume_roles"), str(kept / "args")]
        kept = self.capture(endpoint, "fanout-single", "rustaws.creds.sts_assume_role", MODULES["sts_assume_role"][2])
        single = [str(kept / "AnsiballZ_sts_assume_role"), str(kept / "args")]
        env = self.env()
        timed = {w: [] for w in (*FANOUT_CONCURRENCY, "loop")}
        for i in range(self.opts.warmup + self.opts.runs):
            for width, argv in argvs.items():
                r = Run(argv, env, self.work)
                result = self.check(r, f"{ours} with 100 roles, max_concurrency {width}", "roles")
                if len(result["roles"]) != FANOUT_ROLES or result["failed_roles"]:
                    sys.exit(f"{ours}: {len(result['roles'])} roles, failed: {result['failed_roles']}")
                if i >= self.opts.warmup:
                    timed[width].append((r.wall, r.cpu))
            wall = cpu = 0.0
            for _ in range(FANOUT_ROLES):
                r = Run(single, env, self.work)
                self.check(r, "rustaws.creds.sts_assume_role (fan-out comparison)", "sts_creds")
                wall, cpu = wall + r.wall, cpu + r.cpu
            if i >= self.opts.warmup:
                timed["loop"].append((wall, cpu))
        return {k: (median([w for w, _ in v]), median([c for _, c in v])) for k, v in timed.items()}

    def fanout(self, endpoint):
        cb = self.work / "callback_plugins"
        cb.mkdir(exist_ok=True)
        (cb / "bench_task_time.py").write_text(TASK_TIMER)
        books = self.fanout_books(endpoint)
        order = list(books)
        walls = {name: [] for name in order}
        tasks = {name: [] for name in order}
        for i in range(self.opts.playbook_warmup + self.opts.playbook_runs):
            for name in order[i % len(order):] + order[:i % len(order)]:
                wall, took = self.fanout_playbook(name, *books[name])
                if i >= self.opts.playbook_warmup:
                    walls[name].append(wall)
                    tasks[name].append(took)
        log(f"fan-out over {endpoint.label}: the executable alone, {self.opts.runs} runs")
        module = self.fanout_module_runs(endpoint)

        section = f"Fan-out: {FANOUT_ROLES} roles, {endpoint.label}"
        w = {name: median(v) for name, v in walls.items()}
        t = {name: median(v) for name, v in tasks.items()}
        one, loop, theirs = "one-task", "ours-loop", "theirs-loop"
        self.row(section, "ansible-playbook wall: one sts_assume_roles task (against amazon.aws's loop)",
                 fmt_time(w[one]), fmt_time(w[theirs]), w[theirs] / w[one], None)
        self.row(section, "ansible-playbook wall: a loop of 100 sts_assume_role tasks",
                 fmt_time(w[loop]), fmt_time(w[theirs]), w[theirs] / w[loop], None)
        self.row(section, "ansible-playbook wall: our loop / one sts_assume_roles task",
                 f"{fmt_time(w[loop])} / {fmt_time(w[one])}", "", w[loop] / w[one], "fanout_ratio")
        self.row(section, "ansible-playbook wall: one sts_assume_roles task", fmt_time(w[one]), "", None,
                 "fanout_wall_s", value=w[one])
        self.row(section, "ansible-playbook wall: one ansible.builtin.debug task (start-up floor, no module)",
                 fmt_time(w["debug"]), "", None, None)
        self.row(section, "the task's duration (callback): one sts_assume_roles task (against amazon.aws's loop)",
                 fmt_time(t[one]), fmt_time(t[theirs]), t[theirs] / t[one], None)
        self.row(section, "the task's duration (callback): a loop of 100 sts_assume_role tasks",
                 fmt_time(t[loop]), fmt_time(t[theirs]), t[theirs] / t[loop], None)
        self.row(section, "the task's duration (callback): our loop / one sts_assume_roles task",
                 f"{fmt_time(t[loop])} / {fmt_time(t[one])}", "", t[loop] / t[one], None)
        self.row(section, "the task's duration (callback): one debug task", fmt_time(t["debug"]), "", None, None)
        for width in (1, 8):
            at = "one after another" if width == 1 else f"{width} at a time"
            self.row(section, f"the server's answer to 100 AssumeRole requests (new connections, from a Python "
                     f"client), {at}", fmt_time(endpoint.assume_role_time(FANOUT_ROLES, width)), "(same server)",
                     None, None)
        self.fanout_module_rows(section, "the executable alone", module)
        # The same runs with a network delay between module and moto, where concurrency pays.
        rate, delay = FANOUT_DELAY
        upstream = types.SimpleNamespace(address="127.0.0.1", port=int(endpoint.url.rsplit(":", 1)[1]))
        with ShapedLink(upstream, FANOUT_DELAY) as (address, port):
            slow = Endpoint(f"{endpoint.name}-delayed", f"http://{address}:{port}")
            log(f"fan-out, {delay} ms each way: the executable alone, {self.opts.runs} runs")
            delayed = self.fanout_module_runs(slow)
        self.fanout_module_rows(section, f"the executable alone, {delay} ms each way to moto", delayed)
        self.facts["fanout"] = {"walls": w, "tasks": t, "module": module, "delayed": delayed}

    def fanout_module_rows(self, section, label, module):
        ow = module[FANOUT_CONCURRENCY[0]][0]
        for width in FANOUT_CONCURRENCY:
            mw, mc = module[width]
            default = " (default)" if width == FANOUT_CONCURRENCY[0] else ""
            self.row(section, f"{label}: one sts_assume_roles run, max_concurrency {width}{default}: wall; CPU",
                     f"{fmt_time(mw)}; {fmt_time(mc)}", "", None, None)
        lw, lc = module["loop"]
        self.row(section, f"{label}: 100 sts_assume_role runs one after another: wall; CPU (ratio: against one "
                 "sts_assume_roles run, max_concurrency 8)", f"{fmt_time(lw)}; {fmt_time(lc)}", "", lw / ow, None)

    # --- 4. a managed host over ssh

    def remote(self, endpoint):
        """sts_session_token on a managed host reached over ssh: tests/support/ssh_host.py's sshd
        on 127.0.0.2 with an unprivileged user whose shell is /bin/sh, reached directly and through
        bench/shaped_link.py. Per task = (wall of 10 tasks - wall of 1 task) / 9, so ansible's
        start-up, the inventory and the ssh connection cancel out; ControlPersist keeps the
        connection between runs, as ansible's defaults do."""
        from ssh_host import SshHost

        with SshHost(self.work / "ssh-host") as host:
            for label, shape in LINKS:
                log(f"managed host over ssh, {label}: {self.opts.remote_runs} runs of each variant")
                with ShapedLink(host, shape) as (address, port):
                    self.remote_link(host, address, port, label, shape, endpoint)

    def remote_variants(self):
        """name -> (FQCN, extra environment, extra inventory variables)."""
        ours, theirs, _ = MODULES["sts_session_token"]
        return {
            "ours": (ours, {}, {}),
            "ours-standard": (ours, {"RUSTAWS_CREDS_DELIVERY": "standard"}, {}),
            # The Python module on the host: Debian's python3 with the bench virtualenv's boto3.
            "theirs-pipelined": (theirs, {"ANSIBLE_PIPELINING": "True"},
                                 {"ansible_python_interpreter": "/usr/bin/python3"}),
        }

    def remote_books(self, endpoint):
        _, _, args = MODULES["sts_session_token"]
        args = {**args, **endpoint.common_args(), "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
        site = glob.glob(str(self.bench_bin.parent / "lib/python3*/site-packages"))[0]
        books = {}
        for name, (fqcn, _, _) in self.remote_variants().items():
            for n in (1, 10):
                play = {"hosts": "remote", "gather_facts": False,
                        "tasks": [{"name": f"task {i}", fqcn: args} for i in range(1, n + 1)]}
                if name.startswith("theirs"):
                    play["environment"] = {"PYTHONPATH": site}
                path = self.work / f"remote-{name}-{n}.yml"
                path.write_text(json.dumps([play], indent=1))
                books[name, n] = path
        return books

    def remote_link(self, host, address, port, label, shape, endpoint):
        books = self.remote_books(endpoint)
        variants = self.remote_variants()
        inventories = {}
        for name, (_, _, inv_vars) in variants.items():
            path = self.work / f"remote-{name}.ini"
            path.write_text(host.inventory_line("remote", ansible_host=address, ansible_port=port, **inv_vars) + "\n")
            inventories[name] = path

        def run(name, n):
            env = self.env(ANSIBLE_REMOTE_TMP="~/.ansible/tmp", **variants[name][1])
            r = Run([str(self.bench_bin / "ansible-playbook"), "-i", str(inventories[name]), str(books[name, n])],
                    env, self.work)
            if r.rc != 0 or "failed=0" not in r.output or f"changed={n} " not in r.output:
                sys.exit(f"{books[name, n].name} over {label} failed (exit {r.rc}):\n{r.output[-3000:]}")
            return r.wall

        per_task = {name: [] for name in variants}
        first = []
        order = list(variants)
        for i in range(1 + self.opts.remote_runs):
            for name in order[i % len(order):] + order[:i % len(order)]:
                one, ten = run(name, 1), run(name, 10)
                if i:
                    per_task[name].append((ten - one) / 9)
            shutil.rmtree(host.path(CACHE), ignore_errors=True)
            cold = run("ours", 1)
            if i:
                first.append(cold - run("ours", 1))
        section = f"Managed host over ssh, {label}: sts_session_token"
        ours, standard, theirs = (median(per_task[n]) for n in ("ours", "ours-standard", "theirs-pipelined"))
        shaped = shape is not None
        self.row(section, "per task: the executable cached on the host, one ssh exec (against the pipelined "
                 "Python module)", fmt_time(ours), fmt_time(theirs), theirs / ours, "remote_ratio" if shaped else None)
        if shaped:
            self.row(section, "per task: the executable cached on the host", fmt_time(ours), "", None,
                     "remote_task_s", value=ours)
        self.row(section, "per task: Ansible's standard binary-module path (rustaws_creds_delivery=standard)",
                 fmt_time(standard), fmt_time(theirs), theirs / standard, None)
        self.row(section, "the first task on a new host: the one upload, beyond a task's own time",
                 fmt_time(median(first)), "", None, None)

    # --- 5. sizes

    def sizes(self):
        section = "Size"
        libexec = self.work / "collections/ansible_collections/rustaws/creds/libexec"
        exe = pathlib.Path(os.path.realpath(libexec.parent / "plugins/modules/sts_session_token"))
        n = exe.stat().st_size
        self.row(section, f"module file (the one executable behind all seven modules), {exe.parent.name}",
                 fmt_mib(n), "", None, "module_mib", value=n / MiB)
        # The other platforms' builds: only their sizes. Nothing here times a build this machine
        # can only emulate (Linux-aarch64 under qemu-user) or cannot run (macOS).
        for build in sorted(libexec.glob("*/rustaws-creds")):
            if build != exe:
                self.row(section, f"module file, {build.parent.name} (size only)", fmt_mib(build.stat().st_size),
                         "", None, None)
        n = pathlib.Path(self.opts.tarball).stat().st_size
        self.row(section, "Galaxy tarball", fmt_mib(n), "", None, "tarball_mib", value=n / MiB)
        wb = self.facts.get("wrapper_bytes", {})
        if wb:
            self.row(section, "file sent per task: sts_assume_role (AnsiballZ wrapper for Python)",
                     fmt_mib(wb["rustaws.creds.sts_assume_role"]), fmt_mib(wb["amazon.aws.sts_assume_role"]),
                     None, None)

    # --- the table

    def row(self, section, what, ours, theirs, ratio, target, value=None):
        """value: what the target judges (the ratio when not given)."""
        verdict, tdesc = "", ""
        if target:
            op, limit, unit = TARGETS[target]
            value = ratio if value is None else value
            tdesc = f"{op} {limit:g}{unit}"
            verdict = "PASS" if (value >= limit if op == ">=" else value <= limit) else "MISS"
        self.rows.append((section, what, ours, theirs, f"{ratio:.1f}x" if ratio is not None else "", tdesc, verdict))

    def table(self):
        lines = []
        section = None
        head = "| What | rustaws.creds | Python module | Ratio | Target | |"
        for s, what, ours, theirs, ratio, tdesc, verdict in self.rows:
            if s != section:
                section = s
                lines += ["", f"### {s}", "", head, "|---|---|---|---|---|---|"]
            lines.append(f"| {what} | {ours} | {theirs} | {ratio} | {tdesc} | {verdict} |")
        return "\n".join(lines)

    def machine(self):
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                   platform.processor())
        pretty = ""
        try:
            pretty = next(line.split("=", 1)[1].strip().strip('"') for line in open("/etc/os-release")
                          if line.startswith("PRETTY_NAME="))
        except (OSError, StopIteration):
            pass
        mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal:"))
        return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "os": pretty,
                "memory": f"{mem / 1024 / 1024:.0f} GiB"}

    def versions(self):
        def run(argv):
            try:
                return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT).stdout.strip()
            except OSError:
                return "?"

        pyv = run([str(self.python), "-c", "import sys, boto3, botocore, ansible.release as r; "
                   "print(sys.version.split()[0], r.__version__, boto3.__version__, botocore.__version__)"]).split()
        moto_v = run([sys.executable, "-c", "import moto; print(moto.__version__)"])
        commit = run(["git", "rev-parse", "--short", "HEAD"])
        dirty = run(["git", "status", "--porcelain", "--untracked-files=no", "--", "crates", "Cargo.toml",
                     "Cargo.lock"])
        colls = self.facts.get("collections", {})
        return (f"rustaws.creds {colls.get('rustaws.creds')} (commit {commit}{', crates modified' if dirty else ''}); "
                f"amazon.aws {colls.get('amazon.aws')}, community.aws {colls.get('community.aws')} "
                f"(the `ansible` package {self.opts.ansible_version}); ansible-core {pyv[1] if len(pyv) > 1 else '?'}, "
                f"Python {pyv[0] if pyv else '?'}, boto3 {pyv[2] if len(pyv) > 2 else '?'}, "
                f"botocore {pyv[3] if len(pyv) > 3 else '?'}; moto {moto_v}")

    def verdicts(self):
        return [(s, what, v) for s, what, _, _, _, _, v in self.rows if v]

    # --- main

    def main(self):
        started = datetime.datetime.now(datetime.timezone.utc)
        load0 = os.getloadavg()
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        self.closed_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        try:
            self.write_config()
            self.install_collection()
            ca, cert, key = make_tls(self.work)
            old = {k: os.environ.pop(k) for k in list(os.environ)
                   if k.startswith(("AWS_", "SSL_CERT_")) or k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
            os.environ.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
                              AWS_SHARED_CREDENTIALS_FILE=os.devnull)
            with MotoServer() as http_url, MotoServer(tls_cert=str(cert), tls_key=str(key)) as https_url, \
                    TlsFront(cert, key, int(http_url.rsplit(":", 1)[1])) as front_url:
                http = Endpoint("HTTP", http_url)
                https = Endpoint("HTTPS", https_url, ca, label="HTTPS (moto's TLS server)")
                front = Endpoint("HTTPS-front", front_url, ca,
                                 label="HTTPS via a TLS front (asyncio) to moto's HTTP server")
                for ep in (http, https):
                    ep.iam().create_user(UserName=IAM_USER)
                sections = self.opts.sections
                if "single" in sections:
                    for ep in (http, https, front):
                        self.row(f"One module run, {ep.label}", "the server's answer to one STS request "
                                 "(new connection, from a Python client)", fmt_time(ep.answer_time()),
                                 "(same server)", None, None)
                        log(f"one module run over {ep.label}: {self.opts.runs} runs each side")
                        self.single_runs(ep)
                if "playbooks" in sections:
                    for ep in (http, https):
                        log(f"playbooks over {ep.label}: {self.opts.playbook_runs} runs each")
                        self.playbooks(ep)
                if "fanout" in sections:
                    log(f"fan-out over {http.label}: {self.opts.playbook_runs} playbook runs each")
                    self.fanout(http)
                if "remote" in sections:
                    self.remote(http)
            os.environ.update(old)
            if "sizes" in sections:
                self.sizes()
        finally:
            closed.close()
            if self.opts.keep:
                log(f"work directory kept: {self.work}")
            else:
                shutil.rmtree(self.work, ignore_errors=True)
        finished = datetime.datetime.now(datetime.timezone.utc)
        m = self.machine()
        load1 = os.getloadavg()
        header = [
            "# Benchmark: rustaws.creds against the Python modules",
            "",
            f"Written by `scripts/bench` on {started:%Y-%m-%d %H:%M} UTC ({(finished - started).seconds // 60} min).",
            "",
            f"- Machine: {m['nproc']} cores ({m['cpu']}), {m['memory']}, kernel {m['kernel']}, {m['os']}",
            f"- Load average (1 min) at start / end: {load0[0]:.2f} / {load1[0]:.2f}",
            f"- {self.versions()}",
            f"- Medians of {self.opts.runs} module runs and {self.opts.playbook_runs} playbook runs per side "
            f"(after {self.opts.warmup} and {self.opts.playbook_warmup} warm-up runs), the two sides alternating. "
            "moto on 127.0.0.1: over HTTP; over HTTPS served by moto itself (certificate from a private CA, "
            "given to the modules as `aws_ca_bundle`); and, for one module run, over HTTPS through "
            "bench/tls_front.py (an asyncio TLS front to moto's HTTP port), because moto's own TLS server "
            "answers each request many milliseconds later than over HTTP (the rows \"the server's answer\"), "
            "which a one-run figure would otherwise charge to the module.",
            "- One module run: the files ansible-core left on the host (ANSIBLE_KEEP_REMOTE_FILES=1), "
            "`python AnsiballZ_<module>.py` against `AnsiballZ_<module> args`; wall from spawn to exit and "
            "CPU (user + system) from direct runs, peak RSS from runs under /usr/bin/time (a child spawned from "
            "the Python harness would report the harness's RSS). The iam_access_key pair is a create, then the "
            "delete of that key. \"The server's answer\" is one STS request on a new connection from a Python "
            "client: what the server adds to every request of either side.",
            "- Playbook: `ansible-playbook` wall time, hosts: localhost, connection: local, no fact gathering; "
            "\"above the debug floor\" subtracts the 20 x debug playbook (ansible's own cost of a play of 20 tasks).",
            f"- Managed host over ssh: sshd on 127.0.0.2, a user with /bin/sh, moto over HTTP; per task = (wall of 10 "
            f"tasks - wall of 1) / 9, medians of {self.opts.remote_runs} runs after one warm-up; the shaped link is "
            "bench/shaped_link.py (a loopback relay with a bottleneck rate and a one-way delay per direction); the "
            "Python module is community.aws's with ANSIBLE_PIPELINING=True on Debian's python3.",
            f"- Fan-out: {FANOUT_ROLES} roles (any role ARN: moto accepts them) in one sts_assume_roles task, "
            f"in a loop of our sts_assume_role and in a loop of amazon.aws.sts_assume_role (`loop:` over the same "
            "play variable, `no_log: true`), and a one-task debug playbook (ansible-playbook's start-up floor); "
            "moto over HTTP, medians of the playbook runs, rotating order. \"ansible-playbook wall\" is the whole "
            "command; \"the task's duration\" is the part of it from the task's start to its result, by a "
            "callback's clock (fork, templating, action plugin, the module, the result); \"the executable "
            "alone\" is the module run as ansible-core runs it on the host, with an args file of the 100 roles "
            f"(medians of {self.opts.runs} runs), against 100 runs of sts_assume_role's executable one after "
            f"another; then the same through bench/shaped_link.py in front of moto ({FANOUT_DELAY[1]} ms each way), "
            "where concurrency can pay. \"The server's answer\" is moto's time for 100 AssumeRole requests from "
            "a Python client: what any client of this server waits.",
            f"- Sections: {', '.join(self.opts.sections)}.",
        ]
        misses = [f"{s}: {what}" for s, what, v in self.verdicts() if v == "MISS"]
        summary = ["", "## Targets", ""]
        summary.append(f"{sum(1 for *_, v in self.verdicts() if v == 'PASS')} PASS, {len(misses)} MISS.")
        summary += [f"- MISS: {x}" for x in misses]
        text = "\n".join(header + summary) + "\n" + self.table() + "\n"
        print(text)
        if self.opts.out:
            pathlib.Path(self.opts.out).write_text(text)
            log(f"written to {self.opts.out}")
        return 1 if misses and self.opts.strict else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tarball", required=True)
    p.add_argument("--bench-venv", required=True)
    p.add_argument("--ansible-version", default="?")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--playbook-runs", type=int, default=5)
    p.add_argument("--playbook-warmup", type=int, default=1)
    p.add_argument("--remote-runs", type=int, default=3)
    p.add_argument("--sections", type=lambda v: v.split(","), default=list(SECTIONS),
                   help=f"comma-separated, of {', '.join(SECTIONS)} (default: all)")
    p.add_argument("--out")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return Bench(p.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())
