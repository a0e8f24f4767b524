"""TLS for ``serve --tls``: a local CA and a server certificate the mock issues, and the SSL contexts.

Askara is HTTPS only and many integrations refuse a plain-HTTP base URL, so the mock can serve both
origins over HTTPS with a certificate of its own: a CA (kept in the TLS directory and reused on the
next start there, so a client trusts it once) signs a fresh server certificate for every name the
mock is reached by (``localhost``, loopback addresses, the bound host, the public URLs' hosts).
Certificates are dated by real time, not the mock clock: clients check them against their own clock.

The extensions are those strict verifiers ask for (Python 3.13's ``VERIFY_X509_STRICT``, macOS):
critical basic constraints and key usage, subject and authority key ids, ``serverAuth``, a SAN.

cryptography is imported by the functions that issue, not by the module: importing its x509 costs
~30-60 ms, which ``serve`` without ``--tls`` (it imports this module for :class:`TlsFiles`) and the
webhook sender's :func:`client_context` do not need.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE = "ca.pem", "ca-key.pem", "cert.pem", "key.pem"
CA_DAYS, CERT_DAYS = 3650, 825
"""825 days: the longest server certificate macOS and iOS accept even from a private CA."""


@dataclass(frozen=True)
class TlsFiles:
    """Where the server's PEM files are; ``ca`` is None for a certificate the user brought."""

    cert: str
    key: str
    ca: str | None


def issue(directory: Path, hosts: list[str]) -> TlsFiles:
    """A server certificate for ``hosts`` signed by the CA in ``directory`` (created if absent)."""
    from cryptography import x509  # lazily: see the module docstring
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _load_or_create_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(h.strip("[]") for h in hosts if h):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "askara-mock")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(directory / KEY_FILE, _key_pem(key), private=True)
    _write(directory / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM))
    return TlsFiles(str(directory / CERT_FILE), str(directory / KEY_FILE), str(directory / CA_FILE))


def client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Certificate checks as any client does them: the system store, plus ``ca_file`` when given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _load_or_create_ca(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_path, key_path = directory / CA_FILE, directory / CA_KEY_FILE
    if ca_path.exists() and key_path.exists():
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(loaded, ec.EllipticCurvePrivateKey):
            return loaded, x509.load_pem_x509_certificate(ca_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "askara-mock local CA")])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(key_path, _key_pem(key), private=True)
    _write(ca_path, cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=not cert_sign, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False, decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data``; private keys readable by their owner only."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
