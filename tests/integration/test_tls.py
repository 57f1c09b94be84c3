"""validate_certs and aws_ca_bundle against moto over https, whose certificate for 127.0.0.1 is
issued by a private CA."""

from conftest import TEST_ACCESS_KEY, TEST_SECRET_KEY


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
