"""The headers of a little-endian ELF64 file (the Linux builds, and the arm64 busybox of the
aarch64 tests): `read(path)` is the file's type, machine and program segments.

e_machine: 62 is x86_64 (EM_X86_64), 183 is aarch64 (EM_AARCH64). e_type 3 (ET_DYN) is a
position-independent executable or shared object. Segments by p_type: 2 is PT_DYNAMIC, 3 is
PT_INTERP (the path of the program's loader).
"""

import struct
import typing

ET_DYN = 3
PT_DYNAMIC = 2
PT_INTERP = 3


class Elf(typing.NamedTuple):
    e_type: int
    e_machine: int
    segments: dict  # p_type -> the segment's bytes in the file


def read(path):
    """The Elf of the file at path; an assertion names the path when it is not a little-endian
    ELF64 file."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x7fELF", f"{path} is not an ELF file"
    assert data[4] == 2, f"{path} is not a 64-bit ELF file (EI_CLASS {data[4]})"
    assert data[5] == 1, f"{path} is not little-endian (EI_DATA {data[5]})"
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    e_phoff, = struct.unpack_from("<Q", data, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    segments = {}
    for i in range(e_phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, e_phoff + i * e_phentsize)
        segments[p_type] = data[p_offset:p_offset + p_filesz]
    return Elf(e_type, e_machine, segments)
