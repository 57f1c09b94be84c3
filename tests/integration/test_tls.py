"""validate_certs and aws_ca_bundle against moto over https, whose certificate for 127.0.0.1 is
issued by a private CA: the option, AWS_CA_BUNDLE and their precedence, the machine's
SSL_CERT_FILE/SSL_CERT_DIR, and bundles that cannot be used."""

import os
import pathlib

import pytest

from harness import TEST_ACCESS_KEY, TEST_SECRET_KEY


def tls_args(tls_moto, **extra):
    return {"endpoint_url": tls_moto.url, "access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY,
            "aws_config": {"retries": {"total_max_attempts": 1}}, **extra}


def test_private_ca_is_rejected_by_default(run_module, tls_moto):
    rc, r, _, _ = run_module(tls_args(tls_moto))
    assert rc == 1
    assert r["msg"].startswith(f'The TLS certificate of "{tls_moto.url}" was rejected'), r["msg"]


def test_ca_bundle_option_trusts_the_private_ca(run_module, tls_moto):
    rc, r, _, _ = run_module(tls_args(tls_moto, aws_ca_bundle=tls_moto.ca_bundle))
    assert rc == 0, r
    assert r["invocation"]["module_args"]["aws_ca_bundle"] == tls_moto.ca_bundle


def test_ca_bundle_of_another_ca_is_rejected(run_module, tls_moto):
    rc, r, _, _ = run_module(tls_args(tls_moto, aws_ca_bundle=tls_moto.other_ca_bundle))
    assert rc == 1
    assert r["msg"].startswith(f'The TLS certificate of "{tls_moto.url}" was rejected'), r["msg"]


def test_validate_certs_false_accepts_any_certificate(run_module, tls_moto):
    rc, r, _, _ = run_module(tls_args(tls_moto, validate_certs=False))
    assert rc == 0, r
    assert r["invocation"]["module_args"]["validate_certs"] is False


# --- Where the trust comes from: the option, AWS_CA_BUNDLE, and the machine's SSL_CERT_*.

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def rejected(r, tls_moto):
    return r["msg"].startswith(f'The TLS certificate of "{tls_moto.url}" was rejected')


def test_aws_ca_bundle_environment_variable_trusts_the_private_ca(run_module, tls_moto):
    rc, r, _, _ = run_module(tls_args(tls_moto), env={"AWS_CA_BUNDLE": tls_moto.ca_bundle})
    assert rc == 0, r
    assert r["invocation"]["module_args"]["aws_ca_bundle"] == tls_moto.ca_bundle


@pytest.mark.parametrize("option,variable,trusted", [
    ("ca", "other", True),
    ("other", "ca", False),
], ids=["option-right-variable-wrong", "option-wrong-variable-right"])
def test_the_option_wins_over_aws_ca_bundle(run_module, tls_moto, option, variable, trusted):
    bundles = {"ca": tls_moto.ca_bundle, "other": tls_moto.other_ca_bundle}
    rc, r, _, _ = run_module(tls_args(tls_moto, aws_ca_bundle=bundles[option]),
                             env={"AWS_CA_BUNDLE": bundles[variable]})
    assert r["invocation"]["module_args"]["aws_ca_bundle"] == bundles[option]
    if trusted:
        assert rc == 0, r
    else:
        assert rc == 1 and rejected(r, tls_moto), r["msg"]


def test_an_empty_option_neutralises_aws_ca_bundle(run_module, tls_moto):
    """aws_ca_bundle: '' counts as not set (README), so a bad AWS_CA_BUNDLE is not read, and
    the system's roots are used (which do not hold the private CA)."""
    rc, r, _, _ = run_module(tls_args(tls_moto, aws_ca_bundle=""), env={"AWS_CA_BUNDLE": "/nonexistent/ca.pem"})
    assert rc == 1 and rejected(r, tls_moto), r["msg"]


@pytest.fixture
def machine_env(tls_moto):
    """SSL_CERT_FILE, SSL_CERT_DIR and AWS_CA_BUNDLE as a machine sets them for every program
    (as this project's CI machines do): all pointing at the system's bundle."""
    assert os.path.isfile(SYSTEM_BUNDLE), f"{SYSTEM_BUNDLE} (Debian's ca-certificates) is needed"
    return {"SSL_CERT_FILE": SYSTEM_BUNDLE, "SSL_CERT_DIR": "/etc/ssl/certs", "AWS_CA_BUNDLE": SYSTEM_BUNDLE}


def test_machine_wide_settings_do_not_trust_the_private_ca(run_module, tls_moto, machine_env):
    rc, r, _, _ = run_module(tls_args(tls_moto), env=machine_env)
    assert rc == 1 and rejected(r, tls_moto), r["msg"]


def test_machine_wide_settings_give_way_to_the_option(run_module, tls_moto, machine_env):
    rc, r, _, _ = run_module(tls_args(tls_moto, aws_ca_bundle=tls_moto.ca_bundle), env=machine_env)
    assert rc == 0, r


def test_machine_wide_settings_give_way_to_validate_certs_false(run_module, tls_moto, machine_env):
    rc, r, _, _ = run_module(tls_args(tls_moto, validate_certs=False), env=machine_env)
    assert rc == 0, r


def test_ssl_cert_file_is_the_system_trust(run_module, tls_moto):
    """Without aws_ca_bundle the system's roots are used, and SSL_CERT_FILE names them (as for
    OpenSSL). (botocore would use certifi's bundle and ignore SSL_CERT_FILE.)"""
    rc, r, _, _ = run_module(tls_args(tls_moto), env={"SSL_CERT_FILE": tls_moto.ca_bundle})
    assert rc == 0, r


def test_ssl_cert_dir_is_the_system_trust(run_module, tls_moto, tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "private-ca.pem").write_text(pathlib.Path(tls_moto.ca_bundle).read_text())
    rc, r, _, _ = run_module(tls_args(tls_moto), env={"SSL_CERT_DIR": str(certs), "SSL_CERT_FILE": "/nonexistent"})
    assert rc == 0, r


def test_a_broken_ssl_cert_file_is_a_clear_rejection(run_module, tls_moto, tmp_path):
    bad = tmp_path / "broken.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")
    rc, r, _, _ = run_module(tls_args(tls_moto), env={"SSL_CERT_FILE": str(bad), "SSL_CERT_DIR": str(tmp_path)})
    assert rc == 1 and rejected(r, tls_moto), r["msg"]


# --- Bundles that cannot be used: a clear failure naming the file, before any connection.

GOOD_THEN_BROKEN = "{good}-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n"
KEY_ONLY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize("content,message", [
    ("", "holds no PEM certificate"),
    ("\n\n", "holds no PEM certificate"),
    (KEY_ONLY, "holds no PEM certificate"),
    ("-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n", "certificate 1 of 1 cannot be used"),
    (GOOD_THEN_BROKEN, "certificate 2 of 2 cannot be used"),
    ("-----BEGIN CERTIFICATE-----\nMIIB\n", "is not valid PEM"),
], ids=["empty-file", "blank-lines", "private-key-only", "not-a-certificate", "second-of-two-broken", "truncated"])
@pytest.mark.parametrize("given", ["option", "environment"])
def test_unusable_bundles_fail_clearly(run_module, tls_moto, fake_sts, tmp_path, content, message, given):
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(content.format(good=pathlib.Path(tls_moto.ca_bundle).read_text()))
    args = tls_args(tls_moto, endpoint_url=fake_sts.url)
    if given == "option":
        rc, r, _, _ = run_module({**args, "aws_ca_bundle": str(bundle)})
    else:
        rc, r, _, _ = run_module(args, env={"AWS_CA_BUNDLE": str(bundle)})
    assert rc == 1
    assert str(bundle) in r["msg"] and message in r["msg"], r["msg"]
    source = "aws_ca_bundle" if given == "option" else "AWS_CA_BUNDLE"
    assert f"{bundle} ({source})" in r["msg"], r["msg"]
    assert fake_sts.requests == []


def test_a_directory_as_bundle_fails_clearly(run_module, tls_moto, tmp_path):
    rc, r, _, _ = run_module(tls_args(tls_moto, aws_ca_bundle=str(tmp_path)))
    assert rc == 1
    assert r["msg"] == f"Could not read the CA bundle {tmp_path} (aws_ca_bundle): not a regular file", r["msg"]


def test_validate_certs_false_does_not_read_the_bundle(run_module, tls_moto, tmp_path):
    """As botocore: verify=False wins over a CA bundle, even one that cannot be read."""
    bundle = tmp_path / "empty.pem"
    bundle.write_text("")
    rc, r, _, _ = run_module(tls_args(tls_moto, validate_certs=False, aws_ca_bundle=str(bundle)))
    assert rc == 0, r


def test_a_bundle_that_is_not_a_regular_file_fails_without_hanging(module_binary, env, tls_moto, tmp_path):
    import json
    import subprocess

    fifo = tmp_path / "bundle.fifo"
    os.mkfifo(fifo)
    args = tmp_path / "args"
    args.write_text(json.dumps(tls_args(tls_moto, aws_ca_bundle=str(fifo))))
    try:
        proc = subprocess.run([str(module_binary), str(args)], capture_output=True, text=True, timeout=3,
                              env=env, stdin=subprocess.DEVNULL, cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("the module was still running after 3 s (killed)", pytrace=False)
    result = json.loads(proc.stdout)
    assert result["failed"] and str(fifo) in result["msg"], result
    assert result["msg"] == f"Could not read the CA bundle {fifo} (aws_ca_bundle): not a regular file", result


def test_a_device_as_bundle_fails_without_reading_it(run_module, tls_moto):
    """/dev/zero would be read until memory runs out."""
    rc, r, _, _ = run_module(tls_args(tls_moto), env={"AWS_CA_BUNDLE": "/dev/zero"})
    assert rc == 1
    assert r["msg"] == "Could not read the CA bundle /dev/zero (AWS_CA_BUNDLE): not a regular file", r["msg"]
