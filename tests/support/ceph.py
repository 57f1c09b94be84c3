"""A throw-away single-node Ceph cluster whose radosgw serves S3, STS and IAM on 127.0.0.1,
for the integration tests (Ceph 16.2 "Pacific" from Debian 12, installed by scripts/setup-ceph).

As a library::

    with CephCluster(directory) as ceph:
        ceph.endpoint, ceph.user.access_key, ceph.role_arn, ceph.client("s3") ...

As a command (for trying things by hand)::

    .venv/bin/python tests/support/ceph.py [--dir DIR] [-- CMD ARGS...]

starts a cluster, runs CMD with RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY, RGW_ROLE_ARN and
CEPH_CONF set (or, without CMD, prints them and waits for Ctrl-C), then stops it.

Topology: one mon, one OSD on memstore (no disk), one radosgw with STS and IAM; no mgr. Every
daemon listens on 127.0.0.1 only, on free ports. Everything the cluster writes is in one
directory: ceph.conf, keyring, the mon store, logs (log/), and `pids` while daemons run.

Identities made at start:
- `tester`: an RGW user with the caps for roles, user policies and OpenID Connect providers,
  and the user policy `AllowGetSessionToken` (RGW checks sts:GetSessionToken against identity
  policies); its keys are random for each cluster.
- `nopolicy`: an RGW user without any policy.
- role `S3Access` (MaxSessionDuration 43200), trusted by `tester`, role policy `AllowS3`
  (s3:* on every bucket).

Lifecycle contract (what the tests rely on):
- The daemons are started by this process and are its children, each in a session of its own
  (a Ctrl-C in a terminal reaches pytest alone, which then stops them in order) and with the
  parent-death signal SIGKILL: if the process that started them dies without stopping them
  (SIGKILL, an unhandled SIGTERM or SIGHUP), the kernel kills them.
- stop() signals exactly the processes start() started, through their Popen handles (they are
  unreaped children, so their PIDs cannot have been reused): SIGTERM, radosgw first, then the
  OSD, then the mon; SIGKILL for any still running after 10 s. Then it removes `pids`.
- A start that fails or is interrupted (KeyboardInterrupt included) stops what it had started
  and raises; the directory with the logs stays for the post-mortem.
"""

import contextlib
import ctypes
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

HERE = pathlib.Path(__file__).resolve().parent
SETUP_SCRIPT = HERE.parent.parent / "scripts" / "setup-ceph"
PROGRAMS = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "ceph-authtool", "monmaptool")
SBIN_PATH = "/usr/sbin:/sbin:/usr/bin:/bin"
MARKER = ".rustaws-ceph-cluster"
REGION = "us-east-1"  # RGW accepts any SigV4 region; one is still needed to sign
ROLE_NAME = "S3Access"
ROLE_MAX_SESSION = 43200
TESTER_CAPS = "roles=*;user-policy=*;users=*;oidc-provider=*"
# The daemons' wait budgets (seconds): bounds, not expectations (a start takes about 4 s).
MON_TIMEOUT, OSD_TIMEOUT, RGW_TIMEOUT = 30, 60, 60
STOP_GRACE = 10

PR_SET_PDEATHSIG = 1


class CephError(RuntimeError):
    """The cluster could not be started (or a command against it failed)."""


class Keys(tuple):
    __slots__ = ()

    def __new__(cls, access_key, secret_key):
        return super().__new__(cls, (access_key, secret_key))

    access_key = property(lambda self: self[0])
    secret_key = property(lambda self: self[1])

    def __repr__(self):  # never print the secret
        return f"Keys({self.access_key!r}, <secret>)"


def compact_json(value) -> str:
    """JSON without spaces: RGW does not decode '+' (a form-encoded space) in request bodies,
    so policies the setup sends through boto3 must not contain spaces."""
    return json.dumps(value, separators=(",", ":"))


def allow(actions, resources="*") -> str:
    return compact_json({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resources}]})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def which(program):
    return shutil.which(program, path=f"{os.environ.get('PATH', '')}:{SBIN_PATH}")


def missing_programs():
    return [p for p in PROGRAMS if not which(p)]


def ensure_installed():
    """Runs scripts/setup-ceph when a Ceph program is missing (it installs the Debian packages
    as root, and otherwise fails saying what to install). Raises CephError with its words."""
    if not missing_programs():
        return
    proc = subprocess.run([str(SETUP_SCRIPT)], capture_output=True, text=True, timeout=900,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0 or missing_programs():
        raise CephError(
            f"Ceph is not installed ({', '.join(missing_programs())} missing) and {SETUP_SCRIPT} "
            f"could not install it (exit status {proc.returncode}):\n{proc.stdout}{proc.stderr}")


def _die_with_parent(parent_pid):
    """preexec_fn (only where util-linux's setpriv is missing): SIGKILL this child when the
    process that started it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl: nobody would stop us
        os._exit(1)


def processes_using(path):
    """(pid, comm) of every process whose command line mentions path (e.g. a cluster's
    ceph.conf): what a cluster could have left behind."""
    found = []
    needle = str(path).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = pathlib.Path(f"/proc/{entry}/cmdline").read_bytes()
            stat = pathlib.Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if needle in cmdline and stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.append((int(entry), pathlib.Path(f"/proc/{entry}/comm").read_text().strip()))
    return found


def _clean_env():
    """The environment of every Ceph command: no proxy, no Python of the venv, no CEPH_ARGS."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
           and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CEPH_ARGS", "CEPH_CONF")}
    env["PATH"] = f"{SBIN_PATH}:{env.get('PATH', '')}"
    return env


def _random_key(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


class CephCluster:
    def __init__(self, directory, *, rgw_port=None, mon_port=None, extra_rgw_conf=()):
        self.dir = pathlib.Path(directory).resolve()
        if len(self.dir.parts) < 3:
            raise CephError(f"refusing to use {self.dir} as a cluster directory (it is wiped)")
        self.mon_port = mon_port or free_port()
        self.rgw_port = rgw_port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.rgw_port}"
        self.conf = self.dir / "ceph.conf"
        self.keyring = self.dir / "keyring"
        self.pid_file = self.dir / "pids"
        self.extra_rgw_conf = list(extra_rgw_conf)
        self.procs = []  # (name, Popen), in start order
        self.user = Keys(_random_key(string.ascii_uppercase + string.digits, 20),
                         _random_key(string.ascii_letters + string.digits, 40))
        self.nopolicy_user = Keys(_random_key(string.ascii_uppercase + string.digits, 20),
                                  _random_key(string.ascii_letters + string.digits, 40))
        self.role_arn = None
        self.timings = {}  # phase -> seconds

    # ---------------------------------------------------------------------------------------
    # Commands

    def _log(self, name):
        return self.dir / "log" / name

    def _tail(self, path, lines=25):
        try:
            return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def run(self, *argv, timeout=60, check=True):
        """A Ceph command line against this cluster; returns its stdout."""
        argv = [str(a) for a in argv]
        if argv[0] in ("ceph", "radosgw-admin", "ceph-mon", "ceph-osd"):
            argv[1:1] = ["-c", str(self.conf)]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=_clean_env(),
                                  stdin=subprocess.DEVNULL, cwd=self.dir)
        except subprocess.TimeoutExpired as e:
            raise CephError(f"{' '.join(argv)} did not finish within {timeout} s") from e
        if check and proc.returncode != 0:
            raise CephError(f"{' '.join(argv)} failed with status {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        return proc.stdout

    def ceph_json(self, *args, timeout=15):
        return json.loads(self.run("ceph", "--connect-timeout", "10", *args, "-f", "json", timeout=timeout))

    def _spawn(self, name, *argv):
        argv = [str(a) for a in argv]
        setpriv = which("setpriv")
        if setpriv:  # exec's the daemon with the parent-death signal set (no preexec_fn in a threaded pytest)
            argv = [setpriv, "--pdeathsig", "KILL", "--", *argv]
            preexec = None
        else:
            preexec = lambda parent=os.getpid(): _die_with_parent(parent)  # noqa: E731
        out = open(self._log(f"{name}.out"), "wb")
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=_clean_env(), cwd=self.dir, start_new_session=True, preexec_fn=preexec,
            )
        finally:
            out.close()
        self.procs.append((name, proc))
        self._write_pids()
        return proc

    def _write_pids(self):
        running = [f"{p.pid} {name}\n" for name, p in self.procs if p.poll() is None]
        self.pid_file.write_text("".join(running))

    def _wait(self, what, proc, log, timeout, ready):
        """Polls ready() every 0.2 s; fails at once when proc has died, or after timeout s."""
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise CephError(f"{what} exited with status {proc.returncode} while starting; "
                                f"the end of {log}:\n{self._tail(log)}")
            try:
                if ready():
                    return
            except (CephError, OSError, ValueError, KeyError, IndexError):
                pass
            if time.monotonic() > deadline:
                raise CephError(f"{what} was not ready within {timeout} s; the end of {log}:\n{self._tail(log)}")
            time.sleep(0.2)

    # ---------------------------------------------------------------------------------------
    # Start

    def _prepare_dir(self):
        if self.dir.exists():
            if (self.dir / "pids").exists() and (self.dir / "pids").read_text().strip():
                raise CephError(f"{self.dir} has a pids file: a cluster may still run there")
            if any(self.dir.iterdir()) and not (self.dir / MARKER).exists():
                raise CephError(f"refusing to wipe {self.dir}: not empty and not a cluster directory")
            shutil.rmtree(self.dir)
        for sub in ("log", "run", "mon.a", "osd0", "rgw", "crash"):
            (self.dir / sub).mkdir(parents=True)
        (self.dir / MARKER).write_text("")
        self.pid_file.write_text("")

    def _write_conf(self):
        d = self.dir
        fsid = uuid.uuid4()
        sts_key = _random_key(string.ascii_letters + string.digits, 16)  # AES key: exactly 16
        conf = f"""[global]
fsid = {fsid}
mon host = v2:127.0.0.1:{self.mon_port}
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = {d}/keyring
run dir = {d}/run
admin socket = {d}/run/$name.asok
pid file = {d}/run/$name.pid
log file = {d}/log/$name.log
mon cluster log file = {d}/log/cluster.log
crash dir = {d}/crash
log to stderr = false
err to stderr = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
auth allow insecure global id reclaim = false

[mon]
mon data = {d}/mon.$id
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.05
paxos min wait = 0.01

[osd]
osd data = {d}/osd$id
osd objectstore = memstore
memstore device bytes = 1073741824
osd op num shards = 1
osd op num threads per shard = 2

[client.rgw]
rgw data = {d}/rgw
rgw frontends = beast endpoint=127.0.0.1:{self.rgw_port}
rgw dns name = localhost
rgw thread pool size = 64
rgw sts key = {sts_key}
rgw s3 auth use sts = true
rgw enable apis = s3, admin, sts, iam
rgw enable lc threads = false
rgw enable quota threads = false
"""
        conf += "".join(f"{line}\n" for line in self.extra_rgw_conf)
        self.conf.write_text(conf)
        self.keyring.touch(mode=0o600)
        return fsid

    def _write_keyring(self):
        k = str(self.keyring)
        self.run("ceph-authtool", "--create-keyring", k, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *")
        self.run("ceph-authtool", k, "--gen-key", "-n", "client.admin", "--cap", "mon", "allow *",
                 "--cap", "osd", "allow *", "--cap", "mds", "allow *", "--cap", "mgr", "allow *")
        self.run("ceph-authtool", k, "--gen-key", "-n", "osd.0", "--cap", "mon", "allow profile osd",
                 "--cap", "osd", "allow *", "--cap", "mgr", "allow profile osd")
        self.run("ceph-authtool", k, "--gen-key", "-n", "client.rgw", "--cap", "mon", "allow rw",
                 "--cap", "osd", "allow rwx", "--cap", "mgr", "allow rw")

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop(keep_dir=True)
            raise
        return self

    def _phase(self, name, t0):
        self.timings[name] = round(time.monotonic() - t0, 2)
        return time.monotonic()

    def _start(self):
        ensure_installed()
        t0 = begin = time.monotonic()
        self._prepare_dir()
        fsid = self._write_conf()
        self._write_keyring()
        monmap = self.dir / "monmap"
        self.run("monmaptool", "--create", "--clobber", "--fsid", fsid, "--addv", "a",
                 f"[v2:127.0.0.1:{self.mon_port}]", monmap)
        self.run("ceph-mon", "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", self.keyring)
        t0 = self._phase("prepare", t0)

        mon = self._spawn("mon.a", "ceph-mon", "-c", self.conf, "-i", "a", "-f")
        self._wait("ceph-mon", mon, self._log("mon.a.log"), MON_TIMEOUT,
                   lambda: self.run("ceph", "--connect-timeout", "3", "-s", timeout=10) is not None)
        t0 = self._phase("mon", t0)

        osd_uuid = str(uuid.uuid4())
        osd_id = self.run("ceph", "--connect-timeout", "10", "osd", "new", osd_uuid, timeout=30).strip()
        if osd_id != "0":
            raise CephError(f"ceph osd new gave OSD id {osd_id!r}, expected 0")
        self.run("ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", osd_uuid, timeout=60)
        osd = self._spawn("osd.0", "ceph-osd", "-c", self.conf, "-i", "0", "-f")
        self._wait("ceph-osd", osd, self._log("osd.0.log"), OSD_TIMEOUT,
                   lambda: self.ceph_json("osd", "dump")["osds"][0]["up"] == 1)
        t0 = self._phase("osd", t0)

        rgw = self._spawn("client.rgw", "radosgw", "-c", self.conf, "-n", "client.rgw", "-f")
        self._wait("radosgw", rgw, self._log("client.rgw.log"), RGW_TIMEOUT, self._rgw_answers)
        t0 = self._phase("rgw", t0)

        self._make_identities()
        self._phase("identities", t0)
        self.timings["start"] = round(time.monotonic() - begin, 2)

    def _rgw_answers(self):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.endpoint + "/", timeout=2) as r:
                return r.status == 200
        except urllib.error.HTTPError:
            return False

    def admin(self, *args, timeout=60):
        """radosgw-admin as client.admin; returns the parsed JSON it printed (or None)."""
        out = self.run("radosgw-admin", "-n", "client.admin", *args, timeout=timeout)
        return json.loads(out) if out.strip() else None

    def _make_identities(self):
        self.admin("user", "create", "--uid=tester", "--display-name=STS tester",
                   f"--access-key={self.user.access_key}", f"--secret-key={self.user.secret_key}")
        self.admin("caps", "add", "--uid=tester", f"--caps={TESTER_CAPS}")
        self.admin("user", "create", "--uid=nopolicy", "--display-name=No policy",
                   f"--access-key={self.nopolicy_user.access_key}",
                   f"--secret-key={self.nopolicy_user.secret_key}")
        iam = self.client("iam")
        iam.put_user_policy(UserName="tester", PolicyName="AllowGetSessionToken",
                            PolicyDocument=allow("sts:GetSessionToken"))
        self.role_arn = self.create_role(ROLE_NAME, principal="arn:aws:iam:::user/tester",
                                         max_session=ROLE_MAX_SESSION)
        self.put_role_policy(ROLE_NAME, "AllowS3", allow("s3:*", "arn:aws:s3:::*"))

    # ---------------------------------------------------------------------------------------
    # Helpers for tests

    def client(self, service, keys=None, session_token=None, **config):
        """A boto3 client for this gateway (tester's keys unless told), with no AWS setting of
        the caller's environment applied."""
        import boto3
        import botocore.config

        keys = keys or self.user
        session = boto3.session.Session(
            aws_access_key_id=keys[0], aws_secret_access_key=keys[1], aws_session_token=session_token,
            region_name=REGION, botocore_session=_isolated_botocore_session())
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"},
                                     s3={"addressing_style": "path"}, **config)
        return session.client(service, endpoint_url=self.endpoint, config=cfg)

    def create_role(self, name, *, principal=None, trust=None, max_session=3600):
        """A role through IAM CreateRole (radosgw-admin cannot set MaxSessionDuration);
        returns its ARN."""
        if trust is None:
            trust = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": [principal]}, "Action": ["sts:AssumeRole"]}]}
        role = self.client("iam").create_role(
            RoleName=name, Path="/", AssumeRolePolicyDocument=compact_json(trust), MaxSessionDuration=max_session)
        return role["Role"]["Arn"]

    def put_role_policy(self, role, name, document):
        self.client("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)

    def env(self):
        return {
            "RGW_ENDPOINT": self.endpoint,
            "RGW_ACCESS_KEY": self.user.access_key,
            "RGW_SECRET_KEY": self.user.secret_key,
            "RGW_ROLE_ARN": self.role_arn or "",
            "CEPH_CONF": str(self.conf),
        }

    def daemons_alive(self):
        return [(name, p.pid) for name, p in self.procs if p.poll() is None]

    # ---------------------------------------------------------------------------------------
    # Stop

    def stop(self, keep_dir=True):
        """Stops exactly the daemons this object started (reverse order); idempotent."""
        t0 = time.monotonic()
        # One after the other: an OSD whose mon is already gone waits 5 s (osd_mon_shutdown_timeout)
        # to report itself down.
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
        if self.pid_file.parent.exists():
            self.pid_file.unlink(missing_ok=True)
        if self.procs:
            self.timings["stop"] = round(time.monotonic() - t0, 2)
        if not keep_dir and self.dir.exists() and (self.dir / MARKER).exists():
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@contextlib.contextmanager
def cluster_for_tests(tmp_path_factory, name="ceph", cls=None):
    """For a session-scoped pytest fixture (``with cluster_for_tests(f) as c: ...; yield c``):
    a started cluster in a new directory under pytest's basetemp (kept with its logs, as pytest
    keeps its last three), stopped when the session ends, however it ends: passed, failed, or
    interrupted with Ctrl-C (pytest tears fixtures down on KeyboardInterrupt). A cluster that
    cannot start fails the tests that need it, with the reason."""
    import pytest

    cluster = (cls or CephCluster)(tmp_path_factory.mktemp(name))
    try:
        cluster.start()
    except CephError as e:
        pytest.fail(f"The throw-away Ceph cluster (tests/support/ceph.py) did not start: {e}", pytrace=False)
    (cluster.dir / "timings.json").write_text(json.dumps(cluster.timings))
    print(f"ceph cluster in {cluster.dir}: {cluster.timings}", file=sys.stderr)
    try:
        yield cluster
    finally:
        cluster.stop()
        (cluster.dir / "timings.json").write_text(json.dumps(cluster.timings))
        left = processes_using(cluster.conf)
        if left:
            raise CephError(f"still running after the cluster was stopped: {left}")


def _isolated_botocore_session():
    """A botocore session that reads no AWS config file or variable of the caller."""
    import botocore.session

    s = botocore.session.Session()
    s.set_config_variable("config_file", os.devnull)
    s.set_config_variable("credentials_file", os.devnull)
    s.set_config_variable("profile", None)
    return s


def main(argv):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=None, help="cluster directory (default: a new temporary one)")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    a = parser.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    import tempfile

    directory = a.dir or tempfile.mkdtemp(prefix="ceph-rgw-")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with CephCluster(directory) as c:
        print(f"# cluster in {c.dir}; started in {c.timings['start']} s {c.timings}", file=sys.stderr)
        if not cmd:
            for k, v in c.env().items():
                print(f"export {k}={v}")
            sys.stdout.flush()
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
            return 0
        return subprocess.call(cmd, env={**os.environ, **c.env()})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
