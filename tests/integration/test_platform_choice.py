"""Which build the action plugin picks for the controller, from canned answers of the platform
(delivery.py's functions, as installed from COLLECTION_TARBALL). What a managed host gets is
shown with real hosts in test_delivery.py and test_aarch64.py."""

import importlib
import os
import sys

import pytest


@pytest.fixture(scope="module")
def delivery(collections_dir):
    sys.path.insert(0, str(collections_dir))
    try:
        yield importlib.import_module("ansible_collections.rustaws.creds.plugins.action.delivery")
    finally:
        sys.path.remove(str(collections_dir))


@pytest.fixture
def builds(delivery):
    return delivery.shipped_builds()


def test_every_platform_is_shipped(builds):
    assert [b.uname for b in builds] == ["Darwin arm64", "Darwin x86_64", "Linux aarch64", "Linux x86_64"]


@pytest.mark.parametrize("sysname,machine,translated,picked", [
    ("Linux", "x86_64", False, "Linux x86_64"),
    ("Linux", "aarch64", False, "Linux aarch64"),
    ("Darwin", "arm64", False, "Darwin arm64"),
    ("Darwin", "x86_64", False, "Darwin x86_64"),  # an Intel Mac
    ("Darwin", "x86_64", True, "Darwin arm64"),  # an x86_64 Python under Rosetta 2 on Apple silicon
])
def test_the_controllers_build(delivery, builds, monkeypatch, sysname, machine, translated, picked):
    monkeypatch.setattr(delivery.os, "uname", lambda: os.uname_result((sysname, "mac", "23.0", "v", machine)))
    monkeypatch.setattr(delivery, "rosetta_translated", lambda: translated)
    build, _platform = delivery.controller_build(builds)
    assert build.uname == picked
    assert build.path.endswith(f"/libexec/{picked.replace(' ', '-')}/rustaws-creds")


def test_under_rosetta_without_an_arm64_build_the_x86_64_one_runs(delivery, builds, monkeypatch):
    monkeypatch.setattr(delivery.os, "uname", lambda: os.uname_result(("Darwin", "mac", "23.0", "v", "x86_64")))
    monkeypatch.setattr(delivery, "rosetta_translated", lambda: True)
    build, _platform = delivery.controller_build([b for b in builds if b.uname != "Darwin arm64"])
    assert build.uname == "Darwin x86_64"


def test_a_controller_without_a_build_is_named_as_uname_says(delivery, builds, monkeypatch):
    monkeypatch.setattr(delivery.os, "uname", lambda: os.uname_result(("FreeBSD", "bsd", "14.0", "v", "amd64")))
    assert delivery.controller_build(builds) == (None, "FreeBSD amd64")


def test_rosetta_is_not_asked_about_off_a_mac(delivery):
    """Here (Linux) there is no sysctl.proc_translated: the answer is no."""
    assert delivery.rosetta_translated() is False
