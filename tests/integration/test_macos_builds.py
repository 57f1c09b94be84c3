"""The macOS builds, checked without a Mac.

scripts/build links libexec/Darwin-arm64 and libexec/Darwin-x86_64 with zig for macOS MACOS_MIN
and later; nothing here can run them. What macOS checks before it runs a file is checked instead,
on the files the collection ships (installed from COLLECTION_TARBALL):

- the Mach-O header: a 64-bit position-independent executable for the right CPU;
- LC_BUILD_VERSION: built for macOS, minimum version MACOS_MIN (a newer one would refuse to
  start on the Macs in use);
- the libraries it loads: only the system's, under /usr/lib and /System/Library (anything else,
  a Homebrew library or a framework copy, is missing on a user's Mac);
- its code signature: Apple silicon runs no unsigned arm64 code, so the arm64 build carries the
  ad hoc signature zig's linker writes (a SHA-256 of every page, no certificate), which must match
  every page. `rcodesign verify` (the apple-codesign crate, installed by scripts/setup-platforms)
  reads Apple's format; it reports the missing certificate of any ad hoc signature, and is shown
  to report a changed byte. The x86_64 build is unsigned, as Apple's own linker leaves x86_64
  executables: macOS runs x86_64 code without a signature, natively and under Rosetta 2.
"""

import os
import pathlib
import re
import shutil
import struct
import subprocess
import typing

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RCODESIGN = ROOT / "build/platforms/rcodesign/bin/rcodesign"

MH_MAGIC_64 = 0xFEEDFACF
MH_EXECUTE = 2
MH_PIE = 0x200000
LC_REQ_DYLD = 0x80000000
LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, LC_LOAD_UPWARD_DYLIB = 0xC, 0x18 | LC_REQ_DYLD, 0x1F | LC_REQ_DYLD, 0x23 | LC_REQ_DYLD
LC_LAZY_LOAD_DYLIB = 0x20
DYLIB_COMMANDS = {LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, LC_LOAD_UPWARD_DYLIB, LC_LAZY_LOAD_DYLIB}
LC_CODE_SIGNATURE = 0x1D
LC_BUILD_VERSION = 0x32
LC_VERSION_MIN_MACOSX = 0x24
PLATFORM_MACOS = 1
SYSTEM_LIBRARIES = ("/usr/lib/", "/System/Library/")


class Darwin(typing.NamedTuple):
    cpu_type: int
    signed: bool


DARWIN = {
    "Darwin-arm64": Darwin(0x0100000C, signed=True),  # CPU_TYPE_ARM64
    "Darwin-x86_64": Darwin(0x01000007, signed=False),  # CPU_TYPE_X86_64
}
# What `rcodesign verify` reports of every ad hoc signature, however sound.
AD_HOC = "no cryptographic signature present"


class MachO(typing.NamedTuple):
    cpu_type: int
    file_type: int
    flags: int
    platform: int | None
    minos: tuple | None
    dylibs: list
    signature: tuple | None  # (offset, size)
    size: int


def _version(packed):
    return (packed >> 16, (packed >> 8) & 0xFF, packed & 0xFF)


def read_macho(path):
    data = pathlib.Path(path).read_bytes()
    magic, cpu_type, _subtype, file_type, ncmds, _sizeofcmds, flags = struct.unpack_from("<7I", data, 0)
    assert magic == MH_MAGIC_64, f"{path} is not a thin 64-bit little-endian Mach-O file (magic {magic:#x})"
    platform = minos = signature = None
    dylibs = []
    offset = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, offset)
        if cmd == LC_BUILD_VERSION:
            platform, packed = struct.unpack_from("<II", data, offset + 8)
            minos = _version(packed)
        elif cmd == LC_VERSION_MIN_MACOSX:
            platform, minos = PLATFORM_MACOS, _version(struct.unpack_from("<I", data, offset + 8)[0])
        elif cmd in DYLIB_COMMANDS:
            name_at, = struct.unpack_from("<I", data, offset + 8)
            dylibs.append(data[offset + name_at:offset + size].split(b"\0", 1)[0].decode())
        elif cmd == LC_CODE_SIGNATURE:
            signature = struct.unpack_from("<II", data, offset + 8)
        offset += size
    return MachO(cpu_type, file_type, flags, platform, minos, dylibs, signature, len(data))


def macos_min():
    """MACOS_MIN as scripts/build sets it (the one place it is defined)."""
    m = re.search(r"^MACOS_MIN=(\d+)\.(\d+)$", (ROOT / "scripts/build").read_text(), re.M)
    assert m, "scripts/build sets no MACOS_MIN"
    return int(m.group(1)), int(m.group(2)), 0


def rcodesign(*args):
    assert os.access(RCODESIGN, os.X_OK), f"{RCODESIGN} is missing: run scripts/setup-platforms"
    return subprocess.run([str(RCODESIGN), *map(str, args)], capture_output=True, text=True, timeout=120)


def verify(path):
    """The problems `rcodesign verify` reports, one per line (its banner and summary left out)."""
    proc = rcodesign("verify", path)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines()
             if line and not line.startswith(("(the verify command", "Error: problems reported"))]
    return proc.returncode, lines


def shipped(collections_dir, platform):
    path = collections_dir / "ansible_collections/rustaws/creds/libexec" / platform / "rustaws-creds"
    assert path.is_file(), f"{path} is missing"
    assert os.access(path, os.X_OK), f"{path} is not executable"
    return path, DARWIN[platform], read_macho(path)


@pytest.fixture(scope="module", params=sorted(DARWIN))
def build(request, collections_dir):
    return shipped(collections_dir, request.param)


@pytest.fixture(scope="module", params=sorted(p for p, d in DARWIN.items() if d.signed))
def signed_build(request, collections_dir):
    return shipped(collections_dir, request.param)


def test_a_position_independent_executable_for_its_cpu(build):
    _path, darwin, macho = build
    assert (macho.cpu_type, macho.file_type) == (darwin.cpu_type, MH_EXECUTE)
    assert macho.flags & MH_PIE


def test_built_for_macos_with_the_documented_minimum_version(build):
    _path, _darwin, macho = build
    assert (macho.platform, macho.minos) == (PLATFORM_MACOS, macos_min())


def test_loads_only_libraries_every_mac_has(build):
    _path, _darwin, macho = build
    assert macho.dylibs, "no library at all: not a macOS executable"
    assert [d for d in macho.dylibs if not d.startswith(SYSTEM_LIBRARIES)] == [], macho.dylibs


def test_only_the_arm64_build_is_signed(build):
    _path, darwin, macho = build
    assert (macho.signature is not None) == darwin.signed


def test_the_arm64_build_carries_an_ad_hoc_signature_that_matches_every_page(signed_build):
    path, _darwin, macho = signed_build
    assert macho.signature is not None, "no LC_CODE_SIGNATURE: Apple silicon would refuse to run it"
    offset, size = macho.signature
    assert offset + size == macho.size, "the signature is not the end of the file"
    info = rcodesign("print-signature-info", path).stdout
    assert "flags: CodeSignatureFlags(ADHOC | LINKER_SIGNED)" in info, info
    assert "digest_type: sha256" in info, info
    assert f"signed_entity_size: {offset}\n" in info, "the signature does not cover the whole file before it"
    assert verify(path) == (1, [AD_HOC])


def test_a_changed_byte_fails_the_verification(signed_build, tmp_path):
    """The verification reads the pages: one byte changed in the code is reported."""
    path, _darwin, _macho = signed_build
    changed = tmp_path / "changed"
    shutil.copyfile(path, changed)
    data = bytearray(changed.read_bytes())
    data[0x4000] ^= 0xFF  # in __TEXT, past the header's page
    changed.write_bytes(data)
    rc, problems = verify(changed)
    assert rc == 1 and problems[0] == AD_HOC, problems
    assert len(problems) == 2 and problems[1].startswith("code digest mismatch for entry 4; "), problems
