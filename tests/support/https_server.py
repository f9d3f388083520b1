"""A static HTTPS server for the installation tests: serves a directory over TLS on a free
loopback port, with a certificate for `localhost` and 127.0.0.1 signed by a certificate
authority it makes itself (written to CA_FILE, so clients trust it through SSL_CERT_FILE).

Usage: python https_server.py ROOT CA_FILE LOG_FILE [TOKEN]

Prints the port on standard output once it listens. Each request is appended to LOG_FILE as a
JSON line: {"path": ..., "authorization": ...}. With TOKEN, every request below /v1/ and the
discovery document must carry `Authorization: Bearer TOKEN` (else 401), as a private registry
would demand. Needs `cryptography` (the moto virtual environment has it).
"""
import datetime
import functools
import http.server
import ipaddress
import json
import os
import ssl
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certificates(ca_file):
    """A CA certificate (written to ca_file) and a server certificate it signed."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "strata test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    with open(ca_file, "wb") as out:
        out.write(ca.public_bytes(serialization.Encoding.PEM))
    chain = tempfile.NamedTemporaryFile(delete=False, suffix=".pem")
    chain.write(server.public_bytes(serialization.Encoding.PEM))
    chain.write(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    chain.close()
    return chain.name


class Handler(http.server.SimpleHTTPRequestHandler):
    token = None
    log_file = None

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        authorization = self.headers.get("Authorization")
        with open(self.log_file, "a") as log:
            log.write(json.dumps({"path": self.path, "authorization": authorization}) + "\n")
        protected = self.path.startswith("/v1/") or self.path.startswith("/.well-known/")
        if self.token and protected and authorization != "Bearer " + self.token:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def guess_type(self, path):
        # Protocol documents without an extension (`versions`, `download/linux/amd64`) are JSON.
        if not os.path.splitext(path)[1] or path.endswith(".json"):
            return "application/json"
        return super().guess_type(path)


def main():
    root, ca_file, log_file = sys.argv[1:4]
    Handler.token = sys.argv[4] if len(sys.argv) > 4 else None
    Handler.log_file = log_file
    chain = make_certificates(ca_file)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=root)
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    os.unlink(chain)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
