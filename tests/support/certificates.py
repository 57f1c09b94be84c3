"""Private certificate authorities for the tests and the benchmark (bench/servers.py), with
`cryptography`, which moto brings: the one way to make a CA, a server certificate for 127.0.0.1
it issues, and the PEM/DER files.

``CertificateAuthority(name)`` is a self-signed CA (EC P-256 unless ``key_type="rsa"``), valid
from a day ago for ``days`` days. ``issue()`` makes a server certificate and key for
127.0.0.1; ``write(directory, stem)`` writes ``<stem>.pem`` and returns its path.
"""

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEM = serialization.Encoding.PEM


def private_key(key_type="ec"):
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key):
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _validity(builder, days):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (builder.not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days)))


class CertificateAuthority:
    def __init__(self, name, key_type="ec", days=30):
        self.key = private_key(key_type)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ), critical=True)
        )
        self.cert = _validity(builder, days).sign(self.key, hashes.SHA256())
        self.path = None  # where write() put the PEM

    @property
    def pem(self):
        return self.cert.public_bytes(PEM)

    @property
    def der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    def issue(self, host="127.0.0.1", days=30):
        """(certificate, key) of a server certificate for the IP address `host`."""
        key = private_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(self.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        return _validity(builder, days).sign(self.key, hashes.SHA256()), key

    def write(self, directory, stem="ca"):
        """Writes the CA's certificate to directory/<stem>.pem; returns the path as a string."""
        path = directory / f"{stem}.pem"
        path.write_bytes(self.pem)
        self.path = str(path)
        return self.path

    def write_server(self, directory, host="127.0.0.1", stem="server"):
        """Issues a server certificate and writes <stem>.pem and <stem>.key; returns both paths."""
        cert, key = self.issue(host)
        (directory / f"{stem}.pem").write_bytes(cert.public_bytes(PEM))
        (directory / f"{stem}.key").write_bytes(key_pem(key))
        return str(directory / f"{stem}.pem"), str(directory / f"{stem}.key")
