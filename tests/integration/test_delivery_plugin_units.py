"""plugins/action/delivery.py without a host: the file of this tree, loaded by path (no collection
needed). Its functions (the ansible-core range, the build for a platform, the cache path as a
shell word, the lines the host-side scripts print, the reasons a task takes Ansible's standard
path) and the two host-side scripts, rendered as the plugin sends them and checked with `sh -n`,
`dash -n`, `busybox sh -n` and `shellcheck -s sh` (scripts/setup installs shellcheck).

Which build the controller runs: test_platform_choice.py. The scripts on real hosts:
test_delivery.py (x86_64) and test_aarch64.py (an aarch64 busybox shell).
"""

import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ARM64_BUSYBOX = ROOT / "build/platforms/busybox-arm64/bin/busybox"
HOME_CACHE = '"$HOME"/.ansible/tmp/rustaws-creds'


@pytest.fixture(scope="module")
def delivery():
    name = "rustaws_creds_delivery_under_test"
    spec = importlib.util.spec_from_file_location(name, ROOT / "plugins/action/delivery.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file loads
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


@pytest.fixture
def builds(delivery, tmp_path):
    """One build of each shipped platform, each a small file of its own content."""
    found = []
    for uname in ("Darwin arm64", "Darwin x86_64", "Linux aarch64", "Linux x86_64"):
        path = tmp_path / uname.replace(" ", "-") / "rustaws-creds"
        path.parent.mkdir()
        path.write_bytes(f"build for {uname}\n".encode())
        found.append(delivery.Build(uname, str(path)))
    return found


# --------------------------------------------------------------------------------------------
# The ansible-core range


@pytest.mark.parametrize("version,release", [
    ("2.16.0", (2, 16)), ("2.21.5", (2, 21)), ("2.22.0.dev0", (2, 22)), ("2.19.0rc1", (2, 19)), ("3.0.1", (3, 0)),
])
def test_core_release(delivery, version, release):
    assert delivery.core_release(version) == release


@pytest.mark.parametrize("version,known", [
    ("2.15.13", False), ("2.16.0", True), ("2.19.14", True), ("2.21.99", True), ("2.22.0.dev0", False),
    ("3.0.0", False),
])
def test_core_known(delivery, version, known):
    assert delivery.KNOWN_CORE == ((2, 16), (2, 21))
    assert delivery.core_known(version) is known


# --------------------------------------------------------------------------------------------
# Builds and platforms


def test_a_builds_sha256_is_its_files(delivery, tmp_path):
    path = tmp_path / "exe"
    path.write_bytes(b"abc")
    assert delivery.Build("Linux x86_64", str(path)).sha256 == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_build_for(delivery, builds):
    assert delivery.build_for(builds, "Linux aarch64") is builds[2]
    assert delivery.build_for(builds, "Linux x86_64") is builds[3]
    assert delivery.build_for(builds, "Linux-x86_64") is None  # as uname -sm prints it, not the directory
    assert delivery.build_for(builds, "FreeBSD amd64") is None
    assert delivery.build_for([], "Linux x86_64") is None


@pytest.mark.parametrize("sysname,machine,translated,platforms", [
    ("Linux", "x86_64", False, ["Linux x86_64"]),
    ("Linux", "x86_64", True, ["Linux x86_64"]),  # Rosetta is a Mac's only
    ("Linux", "aarch64", False, ["Linux aarch64"]),
    ("Darwin", "arm64", False, ["Darwin arm64"]),
    ("Darwin", "arm64", True, ["Darwin arm64"]),
    ("Darwin", "x86_64", False, ["Darwin x86_64"]),
    ("Darwin", "x86_64", True, ["Darwin arm64", "Darwin x86_64"]),
    ("FreeBSD", "amd64", False, ["FreeBSD amd64"]),
])
def test_native_platforms(delivery, sysname, machine, translated, platforms):
    assert delivery.native_platforms(sysname, machine, translated) == platforms


def test_shipped_builds_of_a_libexec_directory(delivery, tmp_path, monkeypatch):
    """A platform directory with the executable is a build; anything else there is not."""
    for d in ("Linux-x86_64", "Darwin-arm64", "Linux-aarch64"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "rustaws-creds").write_bytes(b"x")
    (tmp_path / "Linux-riscv64").mkdir()  # no executable
    (tmp_path / "README").write_text("not a platform")
    (tmp_path / "nodash").mkdir()
    (tmp_path / "nodash" / "rustaws-creds").write_bytes(b"x")
    monkeypatch.setattr(delivery, "LIBEXEC", str(tmp_path))
    assert [(b.uname, b.path) for b in delivery.shipped_builds()] == [
        ("Darwin arm64", str(tmp_path / "Darwin-arm64/rustaws-creds")),
        ("Linux aarch64", str(tmp_path / "Linux-aarch64/rustaws-creds")),
        ("Linux x86_64", str(tmp_path / "Linux-x86_64/rustaws-creds")),
    ]
    monkeypatch.setattr(delivery, "LIBEXEC", str(tmp_path / "missing"))
    assert delivery.shipped_builds() == []


# --------------------------------------------------------------------------------------------
# The cache path as a shell word


@pytest.mark.parametrize("path,word", [
    ("~/cache", '"$HOME"/cache'),
    ("~/", '"$HOME"'),
    ("$HOME/a b/", '"$HOME"/\'a b\''),
    ("${HOME}/x/y", '"$HOME"/x/y'),
    ("~//deep//", '"$HOME"/deep'),
    ("/var/tmp/rustaws/", "/var/tmp/rustaws"),
    ("/", "/"),
    ("/tmp/it's", "'/tmp/it'\"'\"'s'"),
    ("/tmp/$USER", "'/tmp/$USER'"),
    ("relative/dir", None),
    ("~alice/cache", None),
    ("$TMPDIR/cache", None),
    ("/tmp/a\0b", None),
])
def test_shell_path(delivery, path, word):
    assert delivery.shell_path(path) == word


# --------------------------------------------------------------------------------------------
# What the host-side scripts print instead of a result


@pytest.mark.parametrize("res,mark", [
    ({"stdout": "RUSTAWS_CREDS_DELIVERY missing Linux x86_64\n"}, ("missing", "Linux x86_64")),
    ({"stdout": "RUSTAWS_CREDS_DELIVERY installed\n"}, ("installed", "")),
    ({"stdout": "RUSTAWS_CREDS_DELIVERY nocache could not write /c/t  \n"}, ("nocache", "could not write /c/t")),
    ({"stdout": "RUSTAWS_CREDS_DELIVERYmissing x"}, None),
    ({"stdout": '{"changed": false}\n'}, None),
    ({"stdout": " RUSTAWS_CREDS_DELIVERY missing x"}, None),
    ({}, None),
])
def test_mark_of(delivery, res, mark):
    found = delivery.mark_of(res)
    assert (None if found is None else (found.kind, found.detail)) == mark


# --------------------------------------------------------------------------------------------
# Why a task takes the standard path, or fails


class Shell:
    SHELL_FAMILY = "sh"

    def __init__(self, remote_tmp="~/.ansible/tmp"):
        self.remote_tmp = remote_tmp

    def get_option(self, name):
        assert name == "remote_tmp", name
        return self.remote_tmp


def plugin(delivery, variables=None, transport="ssh", become=None, pipelining=True, shell=None, async_val=0):
    """An ActionModule with just what its choice of path reads: the host's variables, the task's
    async setting and the connection."""
    action = delivery.ActionModule.__new__(delivery.ActionModule)
    action._vars = variables or {}
    action._templar = types.SimpleNamespace(template=lambda value: value)
    action._task = types.SimpleNamespace(async_val=async_val)
    action._connection = types.SimpleNamespace(transport=transport, become=become, has_pipelining=pipelining,
                                               _shell=shell or Shell())
    action._host_platform = None
    return action


@pytest.fixture
def fast_path(delivery, monkeypatch):
    """A machine where the cache may serve: the default mode, a known ansible-core, no
    keep_remote_files."""
    monkeypatch.delenv("RUSTAWS_CREDS_DELIVERY", raising=False)
    monkeypatch.setattr(delivery, "core_known", lambda: True)
    monkeypatch.setattr(delivery, "C", types.SimpleNamespace(DEFAULT_KEEP_REMOTE_FILES=False))


def fallback(delivery, call):
    """(message, warn) of the Fallback that call() raises."""
    with pytest.raises(delivery.Fallback) as raised:
        call()
    return str(raised.value), raised.value.warn


def test_the_cache_serves_by_default(delivery, fast_path):
    assert plugin(delivery)._check_fast_path() is None
    assert plugin(delivery, {"rustaws_creds_delivery": "cached"})._check_fast_path() is None
    assert plugin(delivery, become=types.SimpleNamespace(name="sudo", pipelining=True))._check_fast_path() is None


def test_standard_by_variable_or_environment(delivery, fast_path, monkeypatch):
    assert fallback(delivery, plugin(delivery, {"rustaws_creds_delivery": "standard"})._check_fast_path) == (
        "rustaws_creds_delivery is 'standard'", False)
    monkeypatch.setenv("RUSTAWS_CREDS_DELIVERY", "standard")
    assert fallback(delivery, plugin(delivery)._check_fast_path) == ("rustaws_creds_delivery is 'standard'", False)
    # The host's variable wins over the controller's environment.
    assert plugin(delivery, {"rustaws_creds_delivery": "cached"})._check_fast_path() is None


def test_an_unknown_mode_fails(delivery, fast_path):
    with pytest.raises(delivery.AnsibleActionFail) as raised:
        plugin(delivery, {"rustaws_creds_delivery": "fast"})._check_fast_path()
    assert raised.value.message == "rustaws_creds_delivery must be one of cached, standard, got 'fast'"


def test_an_unknown_ansible_core_warns(delivery, fast_path, monkeypatch):
    monkeypatch.setattr(delivery, "core_known", lambda: False)
    monkeypatch.setattr(delivery, "CORE_VERSION", "2.22.0")
    assert fallback(delivery, plugin(delivery)._check_fast_path) == (
        "ansible-core 2.22.0 is not one this plugin knows (2.16 to 2.21)", True)


def test_async_and_keep_remote_files(delivery, fast_path, monkeypatch):
    assert fallback(delivery, plugin(delivery, async_val=30)._check_fast_path) == (
        "async tasks need Ansible's async wrapper", False)
    monkeypatch.setattr(delivery, "C", types.SimpleNamespace(DEFAULT_KEEP_REMOTE_FILES=True))
    assert fallback(delivery, plugin(delivery)._check_fast_path) == (
        "keep_remote_files asks for the module's files on the host", False)


def test_a_connection_or_become_without_input(delivery, fast_path):
    assert fallback(delivery, plugin(delivery, transport="winrm", pipelining=False)._check_fast_path) == (
        "the winrm connection cannot run a command with input", False)
    powershell = Shell()
    powershell.SHELL_FAMILY = "powershell"
    assert fallback(delivery, plugin(delivery, transport="psrp", shell=powershell)._check_fast_path) == (
        "the psrp connection cannot run a command with input", False)
    su = types.SimpleNamespace(name="su", pipelining=False)
    assert fallback(delivery, plugin(delivery, become=su)._check_fast_path) == (
        "become method su cannot run a command with input", False)


@pytest.mark.parametrize("transport,become,in_place", [
    ("local", None, True), ("ansible.builtin.local", None, True), ("local", "sudo", False), ("ssh", None, False),
])
def test_runs_in_place(delivery, transport, become, in_place):
    assert plugin(delivery, transport=transport, become=become)._runs_in_place() is in_place


@pytest.mark.parametrize("kind,detail,message,warn", [
    ("unsafe", "/tmp/c or its parent directory is not owned by uid 1000 or is writable by others",
     "the cache is not safe to use: /tmp/c or its parent directory is not owned by uid 1000 or is writable by "
     "others", True),
    ("nocache", "", "no cache directory can be made (~/.ansible/tmp/rustaws-creds)", False),
    ("nocache", "could not write /c/.t", "no cache directory can be made (~/.ansible/tmp/rustaws-creds) could not "
     "write /c/.t", False),
    ("cannot-run", "Exec format error", "the executable cannot run from ~/.ansible/tmp/rustaws-creds: Exec format "
     "error", False),
    ("corrupt", "the upload arrived with SHA-256 unknown", "the cache could not be used: corrupt the upload "
     "arrived with SHA-256 unknown", True),
    ("failed", "", "the cache could not be used: failed", True),
])
def test_what_a_mark_means(delivery, builds, kind, detail, message, warn):
    action = plugin(delivery)
    assert fallback(delivery, lambda: action._handle(delivery.Mark(kind, detail), builds)) == (message, warn)


def test_a_host_of_a_shipped_platform_the_cache_cannot_serve(delivery, builds):
    """A Mac: the standard path copies its build."""
    action = plugin(delivery)
    assert fallback(delivery, lambda: action._handle(delivery.Mark("platform", "Darwin arm64"), builds)) == (
        "the host runs Darwin: the cache needs Linux", False)
    assert action._host_platform == "Darwin arm64"


def test_a_host_of_a_platform_without_a_build_fails(delivery, builds):
    with pytest.raises(delivery.AnsibleActionFail) as raised:
        plugin(delivery)._handle(delivery.Mark("platform", "Linux riscv64"), builds)
    assert raised.value.message == ("rustaws.creds has no build for this host's platform (Linux riscv64); it ships "
                                    "builds for: Darwin-arm64, Darwin-x86_64, Linux-aarch64, Linux-x86_64")


@pytest.mark.parametrize("remote_tmp,word", [
    ("~/.ansible/tmp", '"`echo ~/.ansible/tmp`"/rustaws-creds'),
    ("/tmp/.ansible-${USER}/tmp", '"`echo /tmp/.ansible-${USER}/tmp`"/rustaws-creds'),
])
def test_the_cache_under_remote_tmp(delivery, remote_tmp, word):
    action = plugin(delivery, shell=Shell(remote_tmp))
    assert action._cache_dir == word
    assert action._cache_shown == f"{remote_tmp}/rustaws-creds"


@pytest.mark.parametrize("remote_tmp", ["~/a`id`", '~/a"b', "~/a\\b", "~/a\nb", ""])
def test_a_remote_tmp_the_cache_cannot_expand(delivery, remote_tmp):
    assert fallback(delivery, lambda: plugin(delivery, shell=Shell(remote_tmp))._cache_dir) == (
        f"remote_tmp {remote_tmp!r} holds a character the cache path cannot be expanded with", False)


def test_the_cache_set_by_variable(delivery):
    action = plugin(delivery, {"rustaws_creds_cache_dir": "~/cache/"})
    assert action._cache_dir == '"$HOME"/cache'
    assert action._cache_shown == "~/cache/"
    with pytest.raises(delivery.AnsibleActionFail) as raised:
        _ = plugin(delivery, {"rustaws_creds_cache_dir": "cache"})._cache_dir
    assert raised.value.message == "rustaws_creds_cache_dir must be an absolute path or start with ~/ or $HOME/, got 'cache'"


# --------------------------------------------------------------------------------------------
# The host-side scripts


def test_a_rendered_script_has_a_case_for_each_linux_build_and_joins_the_last_line(delivery, builds):
    run = delivery.render_script(delivery.RUN_SCRIPT, HOME_CACHE, "sts_assume_role", builds)
    linux = [b for b in builds if b.uname.startswith("Linux ")]
    for b in linux:
        assert f"'{b.uname}') h={b.sha256};;\n" in run
    assert "Darwin" not in run
    assert f"\nc={HOME_CACHE}\n" in run
    assert run.endswith("\nexec /proc/self/fd/3 sts_assume_role")  # ansible-core appends " && sleep 0"
    install = delivery.render_script(delivery.INSTALL_SCRIPT, HOME_CACHE, "sts_assume_role", linux[:1])
    assert linux[0].sha256 in install and linux[1].sha256 not in install
    assert delivery.HEX64 + "|" + delivery.HEX64 + ".cksum|" in install
    assert install.endswith('&& echo "RUSTAWS_CREDS_DELIVERY installed"')


def shells():
    """argv prefixes of the POSIX shells that check a script's syntax: Debian's sh and dash, and
    busybox (the host's, else the arm64 one scripts/setup-platforms unpacks, under qemu-user)."""
    busybox = shutil.which("busybox") or (str(ARM64_BUSYBOX) if os.access(ARM64_BUSYBOX, os.X_OK) else None)
    return {"sh": ["/bin/sh"], "dash": [shutil.which("dash")], "busybox": [busybox, "sh"] if busybox else [None]}


CACHES = {
    "remote_tmp": '"`echo ~/.ansible/tmp`"/rustaws-creds',  # the default: remote_tmp expanded on the host
    "home": HOME_CACHE,  # rustaws_creds_cache_dir: ~/...
    "absolute": "'/var/tmp/rustaws creds'",  # rustaws_creds_cache_dir: an absolute path, quoted
}


@pytest.fixture(params=["RUN_SCRIPT", "INSTALL_SCRIPT"])
def script(request, delivery, builds, tmp_path):
    """The files of one script as the host runs it (with the " && sleep 0" ansible-core adds), for
    each form of the cache path."""
    files = []
    for name, cache in CACHES.items():
        text = delivery.render_script(getattr(delivery, request.param), cache, "sts_session_token", builds)
        path = tmp_path / f"{request.param.lower()}-{name}.sh"
        path.write_text(text + " && sleep 0\n")
        files.append(path)
    return files


@pytest.mark.parametrize("shell", ["sh", "dash", "busybox"])
def test_the_scripts_parse_in_posix_shells(script, shell):
    argv = shells()[shell]
    assert argv[0], {"sh": "/bin/sh is missing", "dash": "dash is missing: install Debian's dash",
                     "busybox": "busybox is missing: install Debian's busybox, or run scripts/setup-platforms "
                                "(the arm64 busybox)"}[shell]
    for path in script:
        proc = subprocess.run([*argv, "-n", str(path)], capture_output=True, text=True, timeout=60)
        assert (proc.returncode, proc.stdout + proc.stderr) == (0, ""), path.read_text()


def test_shellcheck_finds_nothing_in_the_scripts(script):
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/setup installs it (Debian's package shellcheck)"
    for path in script:
        proc = subprocess.run([shellcheck, "-s", "sh", "-S", "style", str(path)], capture_output=True, text=True,
                              timeout=60)
        assert (proc.returncode, proc.stdout + proc.stderr) == (0, ""), f"{path.name}:\n{proc.stdout}{proc.stderr}"


def test_shellcheck_finds_what_the_directives_do_not_cover(script, tmp_path):
    """The check above can fail: an unquoted substitution added to a script is reported."""
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/setup installs it (Debian's package shellcheck)"
    broken = tmp_path / "broken.sh"
    broken.write_text(script[0].read_text().replace("exit 0", "exit $(id -u)", 1))
    proc = subprocess.run([shellcheck, "-s", "sh", str(broken)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "SC2046" in proc.stdout, proc.stdout
