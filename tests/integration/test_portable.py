"""Portability of the shipped Linux executables.

scripts/build links libexec/Linux-<arch>/rustaws-creds with zig (cargo-zigbuild, targets
<arch>-unknown-linux-gnu.2.17) so that each runs on any Linux of its architecture whose glibc is
2.17 or newer (RHEL/CentOS 7 and later), not only on machines as new as the build machine. The
dynamic loader refuses to start a program that needs a symbol version its libc lacks ("version
`GLIBC_2.34' not found"), so the highest version referenced is what decides where the file runs.
These tests read the files the collection ships (installed from COLLECTION_TARBALL), with
objdump (binutils) and by parsing their ELF headers, and run each (the aarch64 one under
qemu-user, registered with binfmt_misc by scripts/setup-platforms).
"""

import os
import re
import shutil
import subprocess
import typing

import elf
import pytest
from elf import ET_DYN, PT_DYNAMIC, PT_INTERP

GLIBC_BASELINE = (2, 17)
# Libraries every glibc system has; anything else (libssl, libstdc++, ...) would be a dependency
# the managed host may lack.
GLIBC_LIBRARIES = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libgcc_s.so.1"}
# libgcc_s of GCC 4.8 (CentOS 7) provides up to GCC_4.8.0.
LIBGCC_BASELINE = (4, 8, 0)


class Linux(typing.NamedTuple):
    """What a Linux build of one architecture must be: its ELF machine and its system loader."""

    e_machine: int
    loader: str


LINUX = {
    "Linux-x86_64": Linux(62, "/lib64/ld-linux-x86-64.so.2"),
    "Linux-aarch64": Linux(183, "/lib/ld-linux-aarch64.so.1"),
}


@pytest.fixture(scope="module")
def documented(collections_dir):
    """The modules the installed collection documents (plugins/modules/<module>.yml)."""
    modules = collections_dir / "ansible_collections/rustaws/creds/plugins/modules"
    return sorted(p.stem for p in modules.glob("*.yml"))


@pytest.fixture(scope="module")
def libexec(collections_dir):
    return collections_dir / "ansible_collections/rustaws/creds/libexec"


def test_the_modules_are_links_to_the_linux_x86_64_build(collections_dir, documented, libexec):
    """What ansible-core finds as each module; the action plugin picks the host's build."""
    modules = collections_dir / "ansible_collections/rustaws/creds/plugins/modules"
    targets = {os.path.realpath(modules / name) for name in documented}
    assert targets == {os.path.realpath(libexec / "Linux-x86_64/rustaws-creds")}


@pytest.fixture(scope="module", params=sorted(LINUX))
def shipped(request, libexec):
    """(path, what it must be) of each Linux build in the installed collection."""
    path = libexec / request.param / "rustaws-creds"
    assert path.is_file(), f"{path} is missing"
    return path, LINUX[request.param]


def _objdump(*args):
    exe = shutil.which("objdump")
    if exe is None:
        pytest.fail("objdump is needed for the portability tests: apt-get install binutils", pytrace=False)
    proc = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"objdump {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


def _version(text):
    return tuple(int(part) for part in text.split("."))


def test_shipped_executable_is_a_dynamic_pie_for_its_architecture_linked_by_the_system_loader(shipped):
    path, linux = shipped
    e_type, e_machine, segments = elf.read(path)
    assert e_machine == linux.e_machine, f"e_machine {e_machine}, expected {linux.e_machine}"
    assert e_type == ET_DYN, f"e_type {e_type}, expected a position-independent executable (ET_DYN)"
    # Dynamically linked against the system's glibc through the architecture's standard loader
    # (not static, not static-pie: those have no PT_INTERP).
    assert PT_INTERP in segments, "no PT_INTERP: the executable is static, expected dynamic against glibc"
    assert PT_DYNAMIC in segments, "no PT_DYNAMIC segment"
    assert segments[PT_INTERP].rstrip(b"\0") == linux.loader.encode()


def test_highest_glibc_symbol_version_is_at_most_2_17(shipped):
    path, _linux = shipped
    found = set(re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", _objdump("-T", path)))
    assert found, "objdump -T shows no GLIBC_ symbol version: not a glibc executable?"
    highest = max(found, key=_version)
    assert _version(highest) <= GLIBC_BASELINE, (
        f"the executable needs GLIBC_{highest} (versions referenced: {sorted(found, key=_version)}); "
        f"it would not start on glibc {'.'.join(map(str, GLIBC_BASELINE))}. Was it built by scripts/build "
        f"(cargo zigbuild --target <arch>-unknown-linux-gnu.2.17)?")
    assert "GLIBC_PRIVATE" not in _objdump("-T", path)


def test_needed_libraries_and_version_references_exist_on_a_glibc_2_17_system(shipped):
    """What the loader checks at start: every NEEDED library, and every version required from it
    (the .gnu.version_r table, which also covers libgcc_s's GCC_ versions)."""
    path, linux = shipped
    text = _objdump("-p", path)
    needed = set(re.findall(r"^\s+NEEDED\s+(\S+)$", text, re.M))
    assert "libc.so.6" in needed, f"libc.so.6 is not among the needed libraries: {sorted(needed)}"
    glibc = GLIBC_LIBRARIES | {os.path.basename(linux.loader)}
    assert needed <= glibc, f"needs libraries beyond glibc's: {sorted(needed - glibc)}"
    refs = text.split("Version References:", 1)
    assert len(refs) == 2, "objdump -p shows no version references"
    required = re.findall(r"^\s+0x[0-9a-f]+ 0x[0-9a-f]+ \d+ (\S+)$", refs[1], re.M)
    assert required, "no versions required: the parse of objdump -p went wrong"
    for name in required:
        m = re.fullmatch(r"(GLIBC|GCC)_(\d+(?:\.\d+)+)", name)
        assert m, f"a version reference other than GLIBC_/GCC_: {name}"
        limit = GLIBC_BASELINE if m.group(1) == "GLIBC" else LIBGCC_BASELINE
        assert _version(m.group(2)) <= limit, f"{name} is newer than the baseline {limit}"


def test_shipped_executable_runs_here(shipped, documented):
    """The zig-linked file starts (the aarch64 one under qemu-user) and lists every module."""
    path, _linux = shipped
    proc = subprocess.run([path, "--list-modules"], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stdout.split()) == documented, proc.stdout


def test_the_tarball_stays_under_galaxys_upload_limit(collections_dir):  # installed from it
    """Galaxy refuses a collection tarball of 20 MB or more; all four platforms' builds are in
    this one."""
    size = os.path.getsize(os.environ["COLLECTION_TARBALL"])
    assert size < 20_000_000, f"the tarball is {size} bytes"
