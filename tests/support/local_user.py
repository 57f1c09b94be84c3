"""Another, unprivileged user on this machine: the attacker of the trust tests. Created with
useradd and removed with userdel (and every process of theirs killed) when the context ends.

    with LocalUser("rustawsevil") as evil:
        evil.run("ln", "-s", "/etc/shadow", evil.home / "link")   # runs as that user
        evil.spawn("sh", "-c", "while :; do ...; done")          # in the background, bounded by the test

Needs root. The home is outside the tests' temporary directories (those are private to root),
mode 0755 unless told otherwise, so root's code can be pointed into it as a test needs.
"""

import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile


class LocalUser:
    def __init__(self, name, home_mode=0o755):
        self.name = name
        self.home_mode = home_mode
        self.home = None
        self.uid = self.gid = None
        self._procs = []

    def __enter__(self):
        if os.geteuid() != 0:
            raise RuntimeError("LocalUser needs root (useradd)")
        self.home = pathlib.Path(tempfile.mkdtemp(prefix=f"{self.name}-home-"))
        subprocess.run(["userdel", self.name], capture_output=True, timeout=60)
        subprocess.run(["useradd", "-M", "-d", str(self.home), "-s", "/bin/sh", self.name],
                       check=True, capture_output=True, text=True, timeout=60)
        entry = pwd.getpwnam(self.name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        os.chown(self.home, self.uid, self.gid)
        os.chmod(self.home, self.home_mode)
        return self

    def __exit__(self, *exc):
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        subprocess.run(["pkill", "-KILL", "-u", self.name], capture_output=True, timeout=30)
        subprocess.run(["userdel", self.name], capture_output=True, timeout=60)
        if self.home:
            shutil.rmtree(self.home, ignore_errors=True)

    def _argv(self, argv):
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--",
                *map(str, argv)]

    def run(self, *argv, check=True, **kwargs):
        """Runs argv as this user (environment and working directory as given, else inherited)."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 60)
        return subprocess.run(self._argv(argv), check=check, stdin=subprocess.DEVNULL, **kwargs)

    def spawn(self, *argv, **kwargs):
        """Starts argv as this user in the background; killed when the context ends at the latest."""
        proc = subprocess.Popen(self._argv(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, **kwargs)
        self._procs.append(proc)
        return proc

    def path(self, *parts):
        return self.home.joinpath(*parts)
