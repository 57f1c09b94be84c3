"""A managed host reached over SSH, on this machine: Debian's sshd on a loopback address with
its own configuration, host key and port, and a throw-away unprivileged user who logs in with a
key and may sudo to anyone without a password. Started and stopped by pid (scripts/setup-sshd
installs the packages).

    with SshHost(workdir) as host:
        host.inventory_line("remote")  # an ansible inventory line for it

Needs root (it adds the user, a sudoers entry and /run/sshd); everything it adds is removed when
it stops.
"""

import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
USER = "rustawsci"
ADDRESS = "127.0.0.2"
SUDOERS = pathlib.Path("/etc/sudoers.d") / USER


def _free_port(address):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _run(*argv):
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)


class SshHost:
    def __init__(self, workdir, address=ADDRESS, shell="/bin/sh"):
        """shell: the user's login shell, which runs every command ssh is given."""
        self.dir = pathlib.Path(workdir)
        self.address = address
        self.shell = shell
        self.port = None
        self.proc = None
        self.user = USER
        self.home = None
        self.key = self.dir / "client_ed25519"
        self.log = self.dir / "sshd.log"

    # --- the user

    def _add_user(self):
        # Its home is outside the test's temporary directories, which are private to root.
        self.home = pathlib.Path(tempfile.mkdtemp(prefix=f"{USER}-home-"))
        try:
            pwd.getpwnam(USER)
            _run("usermod", "-d", str(self.home), "-s", self.shell, USER)
        except KeyError:
            _run("useradd", "-M", "-d", str(self.home), "-s", self.shell, USER)
        _run("usermod", "-p", "*", USER)  # no password, but not locked: key logins work
        entry = pwd.getpwnam(USER)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        os.chown(self.home, self.uid, self.gid)
        os.chmod(self.home, 0o700)
        SUDOERS.write_text(f"{USER} ALL=(ALL:ALL) NOPASSWD: ALL\n")
        os.chmod(SUDOERS, 0o440)

    def _remove_user(self):
        SUDOERS.unlink(missing_ok=True)
        subprocess.run(["userdel", USER], capture_output=True, timeout=60)
        if self.home:
            shutil.rmtree(self.home, ignore_errors=True)

    # --- sshd

    def _write_config(self):
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / "host_ed25519"))
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key))
        ssh_dir = self.home / ".ssh"
        ssh_dir.mkdir(mode=0o700)
        keys = ssh_dir / "authorized_keys"
        keys.write_text((self.dir / "client_ed25519.pub").read_text())
        for path in (ssh_dir, keys):
            os.chown(path, self.uid, self.gid)
        self.port = _free_port(self.address)
        config = self.dir / "sshd_config"
        config.write_text(
            f"ListenAddress {self.address}:{self.port}\n"
            f"HostKey {self.dir / 'host_ed25519'}\n"
            f"PidFile {self.dir / 'sshd.pid'}\n"
            "AuthorizedKeysFile .ssh/authorized_keys\n"
            "PermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
                        "PermitUserEnvironment yes\n"
            "MaxSessions 50\n"
            "MaxStartups 50\n"
            "LogLevel VERBOSE\n"
            f"Subsystem sftp {SFTP_SERVER}\n"
        )
        return config

    def start(self):
        if os.geteuid() != 0:
            raise RuntimeError("SshHost needs root (a user, a sudoers entry, sshd)")
        if not os.path.exists(SSHD):
            raise RuntimeError(f"{SSHD} is missing: run scripts/setup-sshd")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._add_user()
        config = self._write_config()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                socket.create_connection((self.address, self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not listen on {self.address}:{self.port}: {self.log.read_text()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        # Sessions sshd forked for a login belong to the user; none may outlive the host.
        subprocess.run(["pkill", "-KILL", "-u", USER], capture_output=True, timeout=30)
        self._remove_user()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    # --- for ansible

    def inventory_line(self, name="remote", **extra):
        common = "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR"
        fields = {
            "ansible_host": self.address,
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_ssh_common_args": f"'{common}'",
            **extra,
        }
        return name + " " + " ".join(f"{k}={v}" for k, v in fields.items())

    def path(self, *parts):
        return self.home.joinpath(*parts)
