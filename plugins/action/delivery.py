# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How every module of rustaws.creds reaches the host it runs on.

meta/runtime.yml routes each module to this action plugin. ansible-core's own way of running a
binary module (its "standard path") copies the whole executable into a new temporary directory
on every task and loop item, in six ssh invocations, and never pipelines it. This plugin instead:

- on the controller (a local connection without become), runs the collection's own executable
  in place: one process, the arguments on its standard input;
- on any other host, keeps the executable in a per-user cache on that host, named by its SHA-256,
  and runs it with one command that checks the entry (owner, permissions, digest) and executes it,
  the arguments on standard input. The entry is uploaded only when it is missing or does not
  match, written to a temporary name, checked against the digest, test-run and renamed into place.

It falls back to the standard path where it cannot serve a task (async, keep_remote_files, a
connection or become method that cannot take standard input, a host that is not Linux, no usable
cache directory, an executable that cannot run from the cache, an ansible-core release outside
KNOWN_CORE) and when the variable rustaws_creds_delivery (or the controller's
RUSTAWS_CREDS_DELIVERY) is "standard". Either path runs the build for the host's platform
(libexec/<uname -s>-<uname -m>/); a host of a platform the collection does not ship a build for
fails at once, naming the builds there are.

ansible-core changed how an action plugin reads a module's output twice in the supported range:
2.19 added serialisation profiles, 2.21 returns a result object. _module_result follows each, as
_execute_module of that release does; a release newer than KNOWN_CORE takes the standard path
with a warning naming it, rather than being read the wrong way.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Sequence

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.release import __version__ as CORE_VERSION
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

try:  # ansible-core 2.19 and later serialise module arguments and results by profile
    from ansible.module_utils.common.json import Direction, get_module_encoder
    AnsibleJSONEncoder = wrap_var = None
except ImportError:  # ansible-core 2.16 to 2.18
    Direction = get_module_encoder = None
    from ansible.module_utils.common.json import AnsibleJSONEncoder
    from ansible.utils.unsafe_proxy import wrap_var
try:  # ansible-core 2.20 and older return module results as dicts
    from ansible.vars.clean import remove_internal_keys
except ImportError:  # ansible-core 2.21 returns a result object: see _module_result
    remove_internal_keys = None

display = Display()

# The ansible-core releases (major, minor) whose way of running a module this plugin follows.
# tests/compat/versions.txt lists one release of each, and test_compat.py runs them all.
KNOWN_CORE = ((2, 16), (2, 21))


def core_release(version=CORE_VERSION):
    """(major, minor) of an ansible-core version string such as 2.21.5 or 2.22.0.dev0."""
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def core_known(version=CORE_VERSION):
    return KNOWN_CORE[0] <= core_release(version) <= KNOWN_CORE[1]


def plain_args(args):
    """Module arguments as plain JSON values. ansible-core 2.16 to 2.18 leave an inline `!vault`
    value in a task's options as an encrypted object that json.dumps refuses; the module gets its
    decrypted text, as it gets a vaulted variable's. 2.19 and later decrypt before this point."""
    if get_module_encoder is not None:
        return args
    return json.loads(json.dumps(args, cls=AnsibleJSONEncoder, vault_to_text=True))


# The collection's builds: libexec/<uname -s>-<uname -m>/rustaws-creds.
LIBEXEC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "libexec")
EXECUTABLE = "rustaws-creds"

MODE_VAR = "rustaws_creds_delivery"
MODE_ENV = "RUSTAWS_CREDS_DELIVERY"
MODES = ("cached", "standard")
CACHE_VAR = "rustaws_creds_cache_dir"
CACHE_NAME = "rustaws-creds"
LOCAL_CONNECTIONS = ("local", "ansible.builtin.local")

# The module argument that carries the task's environment on the standard path (the executable
# takes it out of its arguments: crates/ansible-module/src/args.rs).
ENVIRONMENT_KEY = "_rustaws_creds_environment"

# The first word of every line the host-side scripts print instead of a module's result.
MARK = "RUSTAWS_CREDS_DELIVERY"


@dataclasses.dataclass
class Build:
    """One shipped executable: the platform it runs on (as `uname -sm` prints it) and its path
    on the controller."""

    uname: str
    path: str

    @functools.cached_property
    def sha256(self):
        digest = hashlib.sha256()
        with open(self.path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()


# The systems whose hosts run a module from the per-user cache: the host-side scripts below need
# Linux's /proc and a GNU or busybox stat. A host of another system the collection ships a build
# for (macOS) takes ansible-core's standard path, which copies that build.
CACHED_SYSTEMS = ("Linux",)


def build_for(builds, platform):
    """The build for a platform as `uname -sm` prints it ("Linux aarch64"), or None."""
    return next((b for b in builds if b.uname == platform), None)


def native_platforms(sysname, machine, translated):
    """The platforms whose builds run on a machine, best first. An x86_64 Python on an arm64 Mac
    runs under Rosetta 2 (`translated`) and sees x86_64; the arm64 build runs there natively."""
    if sysname == "Darwin" and machine == "x86_64" and translated:
        return ["Darwin arm64", "Darwin x86_64"]
    return [f"{sysname} {machine}"]


def rosetta_translated():
    """Whether this process is an x86_64 one that Rosetta 2 translates on an arm64 Mac: the
    sysctl sysctl.proc_translated is 1 there, 0 for a native process, missing on an Intel Mac."""
    try:
        proc = subprocess.run(["/usr/sbin/sysctl", "-n", "sysctl.proc_translated"], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.stdout.strip() == "1"


def controller_build(builds):
    """The build for the controller, or None, and the platform it was looked up as."""
    uname = os.uname()
    translated = uname.sysname == "Darwin" and uname.machine == "x86_64" and rosetta_translated()
    platforms = native_platforms(uname.sysname, uname.machine, translated)
    build = next(filter(None, (build_for(builds, p) for p in platforms)), None)
    return build, platforms[0]


def shipped_builds():
    """Every build in libexec/, by platform directory (Linux-x86_64, ...)."""
    try:
        platforms = sorted(os.listdir(LIBEXEC))
    except OSError:
        return []
    builds = []
    for platform in platforms:
        path = os.path.join(LIBEXEC, platform, EXECUTABLE)
        system, _dash, machine = platform.partition("-")
        if system and machine and os.path.isfile(path):
            builds.append(Build(f"{system} {machine}", path))
    return builds


def shell_path(path):
    """A host path as a shell word: `~/x` and `$HOME/x` become "$HOME"/x, absolute paths are
    quoted. None for anything else (a path the shell would have to expand in other ways)."""
    for home in ("~/", "$HOME/", "${HOME}/"):
        if path.startswith(home):
            rest = path[len(home):].strip("/")
            return '"$HOME"/' + shlex.quote(rest) if rest else '"$HOME"'
    if path.startswith("/") and "\0" not in path:
        return shlex.quote(path.rstrip("/") or "/")
    return None


# --- The commands run on a managed host (POSIX sh, Linux coreutils or busybox).
#
# Other local users may share the directories above the cache (a remote_tmp under /tmp) and
# rename, replace or link anything they can write, between any two steps. So each command looks
# the cache directory up by path exactly once: `cd -P` into it, then checks that directory (`.`)
# and its parent (`..`, as seen from it) with dir_ok, given `stat -c '%u %f'` of both: the
# directory must belong to the user running the command and be writable by no one else; its parent
# must belong to that user or root and be writable by no one else unless it is sticky (/var/tmp).
# Everything after that is relative to the pinned directory, which only its owner can change, and
# nothing in a directory that fails is read, written or run. (A directory the user cannot enter
# is checked by path, only to say why it is refused.)
#
# The run script opens the entry once (fd 3), checks that open file (owner, mode, POSIX cksum)
# and executes that same file through /proc/self/fd/3, after returning to the directory it
# started in (the module's working directory, as on the standard path). Its SHA-256 was checked
# when it was installed; the cksum (a CRC, ten times faster than sha256sum on 4 MiB) recorded then
# in <sha256>.cksum catches a damaged or truncated entry before it runs. Only the directory's
# owner can write either file.
#
# The cache path: rustaws_creds_cache_dir as a shell word (see shell_path), or remote_tmp
# expanded exactly as ansible-core's sh shell plugin expands it when it makes its temporary
# directory (`mkdir -p "`echo <remote_tmp>`"`): by the shell of the user the command runs as, so
# ~, $HOME, ${USER} and the like are that user's.
#
# The scripts pass `shellcheck -s sh` (test_delivery_plugin_units.py renders and checks them); its
# `disable` directives mark three deliberate constructs. SC2006 and SC2116: the cache path is
# `"`echo <remote_tmp>`"`, ansible-core's own expansion, backticks and echo included, so that both
# give the same directory. SC2046: `stat -c '%u %f'` and `sha256sum` print fields that are meant
# to split into arguments (dir_ok's four, `set --`). SC2015: `A && B || C` where C is meant to run
# when any test of A && B fails.

_PREAMBLE = """\
umask 077
p=$(uname -sm)
case "$p" in
{cases}
*) echo "{mark} platform $p"; exit 0;;
esac
u=$(id -u)
# shellcheck disable=SC2006,SC2116
c={cache}
case $c in /?*) ;; *) echo "{mark} nocache $c is not an absolute path"; exit 0;; esac
# shellcheck disable=SC2015
dir_ok() {{
  [ $# -ge 4 ] || {{ echo "{mark} nocache"; return 1; }}
  [ $(( 0x$2 & 0xF000 )) -eq 16384 ] && {{ [ "$1" = "$u" ] || [ "$1" = 0 ]; }} &&
    {{ [ $(( 0x$2 & 0x12 )) -eq 0 ] || [ $(( 0x$2 & 0x200 )) -ne 0 ]; }} &&
    [ $(( 0x$4 & 0xF000 )) -eq 16384 ] && [ "$3" = "$u" ] && [ $(( 0x$4 & 0x12 )) -eq 0 ] ||
    {{ echo "{mark} unsafe $c or its parent directory is not owned by uid $u or is writable by others"; return 1; }}
}}
"""

# Runs the module from the cache; its standard input is the invocation (arguments, environment).
# Prints the module's result, or one MARK line: "missing <platform>" when the entry must be
# (re)installed.
RUN_SCRIPT = _PREAMBLE + """\
o=$(pwd)
[ -d "$c" ] || mkdir -p -- "$c" 2>/dev/null || {{ echo "{mark} nocache"; exit 0; }}
# shellcheck disable=SC2046
cd -P -- "$c" 2>/dev/null || {{ dir_ok $(stat -c '%u %f' -- "${{c%/*}}" "$c" 2>/dev/null) && echo "{mark} nocache"; exit 0; }}
# shellcheck disable=SC2046
dir_ok $(stat -c '%u %f' -- .. . 2>/dev/null) || exit 0
[ ! -e "./$h.cannot-run" ] || {{ echo "{mark} cannot-run $(head -c 300 "./$h.cannot-run")"; exit 0; }}
# shellcheck disable=SC2015,SC2046
[ -f "./$h" ] && [ ! -h "./$h" ] && {{ command exec 3< "./$h"; }} 2>/dev/null &&
  set -- $(stat -L -c '%u %f' -- /proc/self/fd/3 2>/dev/null) && [ $# -eq 2 ] && [ "$1" = "$u" ] &&
  [ $(( 0x$2 & 0xF000 )) -eq 32768 ] && [ $(( 0x$2 & 0x12 )) -eq 0 ] &&
  read -r want 2>/dev/null < "./$h.cksum" && [ "$(cksum <&3)" = "$want" ] || {{ echo "{mark} missing $p"; exit 0; }}
cd -- "$o" 2>/dev/null || cd /
exec /proc/self/fd/3 {module}
"""

# Installs the entry (the run script made the directory); its standard input is the executable.
# Removes, besides, what earlier installs of other versions left: only names this plugin makes
# (an entry's 64 hexadecimal digits, with .cksum or .cannot-run; a temporary .<entry>.<pid>, with
# .cksum, whose process is gone). Anything else in the directory is left alone. Prints one MARK
# line.
INSTALL_SCRIPT = _PREAMBLE + """\
# shellcheck disable=SC2046
cd -P -- "$c" 2>/dev/null || {{ dir_ok $(stat -c '%u %f' -- "${{c%/*}}" "$c" 2>/dev/null) && echo "{mark} nocache"; exit 0; }}
# shellcheck disable=SC2046
dir_ok $(stat -c '%u %f' -- .. . 2>/dev/null) || exit 0
t=".$h.$$"
cat > "./$t" || {{ rm -f -- "./$t"; echo "{mark} nocache could not write $c/$t"; exit 0; }}
# shellcheck disable=SC2046
set -- $(sha256sum -- "./$t" 2>/dev/null)
[ "$1" = "$h" ] || {{ rm -f -- "./$t"; echo "{mark} corrupt the upload arrived with SHA-256 ${{1:-unknown}}"; exit 0; }}
chmod 700 "./$t"
if ! e=$("./$t" --list-modules 2>&1 >/dev/null); then
  rm -f -- "./$t"; printf '%s' "$e" | head -c 300 > "./$h.cannot-run"
  echo "{mark} cannot-run $(cat "./$h.cannot-run")"; exit 0
fi
cksum < "./$t" > "./$t.cksum" || {{ rm -f -- "./$t" "./$t.cksum"; echo "{mark} nocache could not write $c/$t.cksum"; exit 0; }}
for o in * .?*; do
  case $o in
  "$h"|"$h".*|."$h".*) ;;
  {hex}|{hex}.cksum|{hex}.cannot-run) rm -f -- "./$o";;
  .{hex}.*) q=${{o#.*.}}; q=${{q%.cksum}}
    case $q in ''|*[!0-9]*) ;; *) [ -d "/proc/$q" ] || rm -f -- "./$o";; esac;;
  esac
done
mv -f -- "./$t.cksum" "./$h.cksum" && mv -f -- "./$t" "./$h" && echo "{mark} installed"
"""

# A glob pattern for an entry's name: 64 lowercase hexadecimal digits.
HEX64 = "[0-9a-f]" * 64

# Characters that would end or change the `"`echo ...`"` the scripts expand remote_tmp in.
UNEXPANDABLE = ("`", '"', "\\", "\n", "\0")


def render_script(template, cache, module, builds):
    """RUN_SCRIPT or INSTALL_SCRIPT for a module, with the cache directory (a shell word) and a
    case of `uname -sm` for each build of a system in CACHED_SYSTEMS (the entry's name, its
    SHA-256), as one command line for _low_level_execute_command."""
    cached = (b for b in builds if b.uname.partition(" ")[0] in CACHED_SYSTEMS)
    cases = "\n".join(f"{shlex.quote(b.uname)}) h={b.sha256};;" for b in cached)
    script = template.format(cache=cache, cases=cases, mark=MARK, module=module, hex=HEX64)
    # ansible-core appends " && sleep 0" to the command: it must join the last line.
    return script.rstrip("\n")


@dataclasses.dataclass(frozen=True)
class Mark:
    """What a host-side script said instead of a module result."""

    kind: str
    detail: str


def mark_of(res):
    stdout = res.get("stdout", "")
    if not stdout.startswith(MARK + " "):
        return None
    kind, _space, detail = stdout[len(MARK) + 1:].strip().partition(" ")
    return Mark(kind, detail.strip())


class Fallback(Exception):
    """The task takes ansible-core's standard path; the message says why (shown at -vvv, or as
    a warning when `warn`)."""

    def __init__(self, why, warn=False):
        super().__init__(why)
        self.warn = warn


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        self._vars = task_vars = task_vars or {}
        self._host_platform = self._standard_build = None
        wrap_async = self._task.async_val and not self._connection.has_native_async
        try:
            self._check_fast_path()
            data = self._run_fast()
        except Fallback as e:
            self._announce_fallback(e)
            data = self._run_standard(task_vars, wrap_async)
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        return merge_hash(result, data)

    # --- choosing the path

    @functools.cached_property
    def _module_name(self):
        """The module the task runs, found as _execute_module finds it: the task's action (a
        full name, a short one under the `collections:` keyword, a `local_action`'s module)
        looked up with the task's collections. Not the task's resolved_action: ansible-core 2.16
        to 2.18 set that to this action plugin."""
        found = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, collection_list=self._task.collections
        )
        return (found.resolved_fqcn if found.resolved else self._task.action).rpartition(".")[2]

    def _setting(self, name, env=None):
        """A variable of the task's host, else the controller's environment variable `env`."""
        value = self._vars.get(name)
        if value is not None:
            value = self._templar.template(value)
        if value is None and env:
            value = os.environ.get(env)
        return value

    def _check_fast_path(self):
        """Raises Fallback when the task must take ansible-core's standard path."""
        mode = self._setting(MODE_VAR, MODE_ENV) or "cached"
        if mode not in MODES:
            raise AnsibleActionFail(f"{MODE_VAR} must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "standard":
            raise Fallback(f"{MODE_VAR} is 'standard'")
        if not core_known():
            first, last = (".".join(map(str, r)) for r in KNOWN_CORE)
            raise Fallback(
                f"ansible-core {CORE_VERSION} is not one this plugin knows ({first} to {last})", warn=True
            )
        if self._task.async_val:
            raise Fallback("async tasks need Ansible's async wrapper")
        if C.DEFAULT_KEEP_REMOTE_FILES:
            raise Fallback("keep_remote_files asks for the module's files on the host")
        conn = self._connection
        if not conn.has_pipelining or getattr(conn._shell, "SHELL_FAMILY", "sh") != "sh":
            raise Fallback(f"the {conn.transport} connection cannot run a command with input")
        if conn.become and not getattr(conn.become, "pipelining", True):
            raise Fallback(f"become method {conn.become.name} cannot run a command with input")

    def _runs_in_place(self):
        return self._connection.transport in LOCAL_CONNECTIONS and not self._connection.become

    def _announce_fallback(self, e):
        msg = f"rustaws.creds: Ansible's standard path for {self._module_name}: {e}"
        if e.warn:
            display.warning(msg)
        else:
            display.vvv(msg, host=self._play_context.remote_addr)

    # --- the standard path

    def _run_standard(self, task_vars, wrap_async):
        """ansible-core's _execute_module, except for the task's environment: the standard path
        puts it on the module's command line, which every user of the host can read (in /proc)
        and -vvv prints. It travels instead in the module's arguments under ENVIRONMENT_KEY, in
        the args file in ansible-core's private temporary directory; the executable takes it out
        of its arguments and sets it before anything reads either. The task's environment is empty
        for that one call (ANSIBLE_ASYNC_DIR, which _execute_module adds for async, stays on the
        command line) and restored afterwards; except for an async task, whose polling and cleanup
        (ansible-core's async_status, run by the task executor with the same task) would put it on
        their own command lines: it stays empty, and the job's status needs none of it."""
        self._standard_build = self._host_build()
        module_args = dict(plain_args(self._task.args))
        environment = self._task_environment()
        if not environment:
            return self._execute_module(module_args=module_args, task_vars=task_vars, wrap_async=wrap_async)
        module_args[ENVIRONMENT_KEY] = environment
        saved = self._task.environment
        self._task.environment = []
        try:
            return self._execute_module(module_args=module_args, task_vars=task_vars, wrap_async=wrap_async)
        finally:
            if not self._task.async_val:
                self._task.environment = saved

    def _host_build(self):
        """The build the standard path copies to the host: the controller's on a local
        connection; else the one for the platform the cache's run script found, or that
        `uname -sm` prints on the host (one more command, on this path only)."""
        builds = shipped_builds()
        if self._connection.transport in LOCAL_CONNECTIONS:
            build, platform = controller_build(builds)
        else:
            platform = self._host_platform or self._probe_platform()
            build = build_for(builds, platform)
        if build is None:
            self._unshipped(platform, builds)
        return build

    def _probe_platform(self):
        res = self._low_level_execute_command("uname -sm", sudoable=False)
        platform = (res.get("stdout") or "").strip()
        if res.get("rc") != 0 or len(platform.split(" ")) != 2:
            answer = (res.get("stderr") or res.get("stdout") or "").strip()[:300]
            raise AnsibleActionFail(
                f"rustaws.creds could not tell the host's platform: uname -sm answered {answer!r} (rc {res.get('rc')})"
            )
        return platform

    def _configure_module(self, module_name, module_args, task_vars):
        """ansible-core's, with the host's build in place of the module's own file (the link to
        the Linux-x86_64 build). Every supported release returns the path last and copies a
        binary module from that path to AnsiballZ_<its file name>: the path is the build's link
        named after the module (libexec/<platform>/<module>), since the executable runs the
        module it is named after. The async wrapper, configured here too, is not binary and keeps
        its own."""
        configured = super()._configure_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
        style = configured[0] if isinstance(configured[0], str) else configured[0].module_style  # 2.16-2.18 | 2.19+
        if self._standard_build is None or style != "binary":
            return configured
        return (*configured[:-1], os.path.join(os.path.dirname(self._standard_build.path), self._module_name))

    def _task_environment(self):
        """The task's `environment:`, templated and merged as ansible-core does, as strings."""
        environment = {}
        self._compute_environment_string(raw_environment_out=environment)
        return {to_text(k): to_text(v) for k, v in environment.items()}

    # --- the fast path

    def _run_fast(self):
        module = self._module_name
        builds = shipped_builds()
        if not builds:
            raise Fallback(f"no build in {LIBEXEC}")
        invocation = self._invocation()
        if self._runs_in_place():
            res = self._run_in_place(module, builds, invocation)
        else:
            res = self._run_cached(module, builds, invocation)
        return self._module_result(res)

    def _invocation(self):
        """What the executable reads on standard input: the module's arguments, as the standard
        path writes them to its args file, and the task's environment, which the standard path
        puts on the command line (where -vvv shows it)."""
        module_args = plain_args(self._task.args).copy()
        # _ansible_module_name is the action as the task wrote it, as on the standard path.
        self._update_module_args(self._task.action, module_args, self._vars)
        invocation = {"args": module_args, "environment": self._task_environment()}
        if get_module_encoder is None:
            return json.dumps(invocation).encode()
        return json.dumps(invocation, cls=get_module_encoder("legacy", Direction.CONTROLLER_TO_MODULE)).encode()

    def _run_in_place(self, module, builds, invocation):
        build, here = controller_build(builds)
        if build is None:
            self._unshipped(here, builds)
        if not os.access(build.path, os.X_OK):
            raise Fallback(f"{build.path} is not executable")
        display.vvv(f"rustaws.creds: running {module} in place: {build.path}", host=self._play_context.remote_addr)
        # One process, started directly: no shell (the environment travels in the invocation),
        # in the controller's working directory, as the local connection would run it.
        proc = subprocess.run([build.path, module], input=invocation, capture_output=True, check=False)
        stdout = to_text(proc.stdout, errors="surrogate_then_replace")
        stderr = to_text(proc.stderr, errors="surrogate_then_replace")
        return {"rc": proc.returncode, "stdout": stdout, "stdout_lines": stdout.splitlines(),
                "stderr": stderr, "stderr_lines": stderr.splitlines()}

    def _unshipped(self, uname, builds):
        """Raises for a host the cache cannot serve: the standard path with the host's build when
        there is one, else a failure naming the builds there are."""
        if build_for(builds, uname) is not None:
            self._host_platform = uname
            raise Fallback(f"the host runs {uname.partition(' ')[0]}: the cache needs {' or '.join(CACHED_SYSTEMS)}")
        shipped = ", ".join(sorted(b.uname.replace(" ", "-") for b in builds))
        raise AnsibleActionFail(
            f"rustaws.creds has no build for this host's platform ({uname}); it ships builds for: {shipped}"
        )

    def _script(self, template, module, builds):
        return render_script(template, self._cache_dir, module, builds)

    def _run_cached(self, module, builds, invocation):
        run = self._script(RUN_SCRIPT, module, builds)
        res = self._low_level_execute_command(run, in_data=invocation)
        mark = mark_of(res)
        if mark is not None and mark.kind == "missing":
            self._install(module, builds, mark.detail)
            res = self._low_level_execute_command(run, in_data=invocation)
            mark = mark_of(res)
        if mark is not None:
            self._handle(mark, builds)
        display.vvv(f"rustaws.creds: ran {module} from the cache", host=self._play_context.remote_addr)
        return res

    def _install(self, module, builds, uname):
        """Uploads the build for the platform the run script found (`uname -sm`)."""
        remote = self._play_context.remote_addr
        build = next((b for b in builds if b.uname == uname), None)
        if build is None:  # the run script knows the platform; this is only a guard
            self._unshipped(uname, builds)
        with open(build.path, "rb") as f:
            data = f.read()
        display.vvv(
            f"rustaws.creds: uploading {build.path} ({len(data)} bytes, SHA-256 {build.sha256}) to the cache",
            host=remote,
        )
        install = self._script(INSTALL_SCRIPT, module, [build])
        res = self._low_level_execute_command(install, in_data=data)
        mark = mark_of(res)
        if mark is None or mark.kind != "installed":
            self._handle(mark or Mark("failed", (res.get("stderr") or res.get("stdout") or "").strip()[:300]), builds)

    def _handle(self, mark, builds):
        """Raises what a MARK line means: a failure, or a fallback to the standard path."""
        if mark.kind == "platform":
            self._unshipped(mark.detail, builds)
        if mark.kind == "unsafe":
            raise Fallback(f"the cache is not safe to use: {mark.detail}", warn=True)
        if mark.kind == "nocache":
            raise Fallback(f"no cache directory can be made ({self._cache_shown}) {mark.detail}".strip())
        if mark.kind == "cannot-run":
            raise Fallback(f"the executable cannot run from {self._cache_shown}: {mark.detail}")
        raise Fallback(f"the cache could not be used: {mark.kind} {mark.detail}".strip(), warn=True)

    @functools.cached_property
    def _cache_shown(self):
        """The cache directory as configured, for messages."""
        configured = self._setting(CACHE_VAR)
        if configured:
            return str(configured)
        return f"{self._connection._shell.get_option('remote_tmp').rstrip('/')}/{CACHE_NAME}"

    @functools.cached_property
    def _cache_dir(self):
        """The cache directory on the host, as a shell word: rustaws_creds_cache_dir quoted, or
        <remote_tmp>/rustaws-creds with remote_tmp expanded on the host as ansible-core's sh shell
        plugin expands it in mkdtemp, `"`echo <remote_tmp>`"`: tilde, parameter and command
        substitution, by the user the command runs as (so `/tmp/.ansible-${USER}/tmp` is each
        user's own). A remote_tmp with a character that would end that word takes the standard
        path, which expands it itself."""
        configured = self._setting(CACHE_VAR)
        if configured:
            path = shell_path(str(configured))
            if path is None:
                raise AnsibleActionFail(
                    f"{CACHE_VAR} must be an absolute path or start with ~/ or $HOME/, got {configured!r}"
                )
            return path
        remote_tmp = self._connection._shell.get_option("remote_tmp")
        if not remote_tmp or any(ch in remote_tmp for ch in UNEXPANDABLE):
            raise Fallback(f"remote_tmp {remote_tmp!r} holds a character the cache path cannot be expanded with")
        return f'"`echo {remote_tmp}`"/{CACHE_NAME}'

    # --- the result, as ansible-core's _execute_module makes it

    def _module_result(self, res):
        if remove_internal_keys is None:  # 2.21: a result object does what the code below does
            result = self._parse_returned_data(res, "legacy")
            result.remove_internal_keys()
            return result.as_result_dict(for_round_trip=True)
        if get_module_encoder is None:  # 2.16 to 2.18
            data = self._parse_returned_data(res)
        else:
            data = self._parse_returned_data(res, "legacy")
        data.pop("_ansible_suppress_tmpdir_delete", None)
        results = data.get("results")
        if results is not None and (not isinstance(results, Sequence) or isinstance(results, str)):
            data["ansible_module_results"] = data.pop("results")
            display.warning("Found internal 'results' key in module return, renamed to 'ansible_module_results'.")
        remove_internal_keys(data)
        for stream in ("stdout", "stderr"):
            if stream in data and f"{stream}_lines" not in data:
                data[f"{stream}_lines"] = to_text(data.get(stream) or "").splitlines()
        if get_module_encoder is None:
            # 2.16 to 2.18 mark a module's result as untrusted, so that it is never templated.
            data = wrap_var(data)
        return data
