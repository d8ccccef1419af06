"""The keys of staff access tokens: Ed25519, intake signs with its private key, every service
verifies with the public keys alone.

A key's id (`kid`, in every token's header) is its RFC 7638 JWK thumbprint, computed from the key
itself, so a file name can never disagree with its key. Public keys come from `AUTH_PUBLIC_PEMS`:
one PEM file, or a directory of `<kid>.pem` files (every `*.pem` in it is read; the names are a
convention, the content decides). Intake's private key comes from `AUTH_SIGNING_PEM` (a PEM
file). Rotation is: add the new public key everywhere, switch intake's signing key, remove the
old public key after the longest access-token lifetime (docs/ops.md, "Token signing keys").

    python -m shared.token_keys generate --private-dir var/auth/private --public-dir var/auth/public
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(ValueError):
    """A key file is missing, unreadable, or not an Ed25519 key of the expected kind."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 thumbprint of the key's JWK (`{"crv","kty","x"}`, sorted, no spaces)."""
    x = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": _b64url(x)}, separators=(",", ":"))
    return _b64url(hashlib.sha256(jwk.encode()).digest())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey


def load_signing_key(path: str | Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise KeyFileError(f"{path}: not a readable PEM private key ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return SigningKey(key_id(key.public_key()), key)


def load_public_keys(path: str | Path) -> dict[str, Ed25519PublicKey]:
    """kid -> public key, from one PEM file or every `*.pem` of a directory."""
    where = Path(path)
    files = sorted(where.glob("*.pem")) if where.is_dir() else [where]
    keys: dict[str, Ed25519PublicKey] = {}
    for file in files:
        try:
            key = serialization.load_pem_public_key(file.read_bytes())
        except (OSError, ValueError, TypeError) as error:
            raise KeyFileError(f"{file}: not a readable PEM public key ({error})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFileError(f"{file}: not an Ed25519 public key")
        keys[key_id(key)] = key
    if not keys:
        raise KeyFileError(f"{where}: no public key (*.pem) found")
    return keys


def generate(private_dir: Path, public_dir: Path) -> dict[str, str]:
    """A new key pair: `<private_dir>/<kid>.pem` (mode 0600) and `<public_dir>/<kid>.pem`."""
    key = Ed25519PrivateKey.generate()
    kid = key_id(key.public_key())
    private_dir.mkdir(parents=True, exist_ok=True)
    public_dir.mkdir(parents=True, exist_ok=True)
    private_path, public_path = private_dir / f"{kid}.pem", public_dir / f"{kid}.pem"
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_path.touch(mode=0o600)
    private_path.write_bytes(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return {"kid": kid, "private": str(private_path), "public": str(public_path)}


def development_keys(directory: Path) -> Mapping[str, str]:
    """`AUTH_SIGNING_PEM` and `AUTH_PUBLIC_PEMS` for a development stack (`make run`, tests):
    the key pair under `directory`, generated the first time."""
    private_dir, public_dir = directory / "private", directory / "public"
    existing = sorted(private_dir.glob("*.pem")) if private_dir.is_dir() else []
    private = existing[0] if existing else Path(generate(private_dir, public_dir)["private"])
    return {"AUTH_SIGNING_PEM": str(private), "AUTH_PUBLIC_PEMS": str(public_dir)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.token_keys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="a new Ed25519 key pair, named by its kid")
    make.add_argument("--private-dir", type=Path, required=True)
    make.add_argument("--public-dir", type=Path, required=True)
    show = commands.add_parser("kid", help="the kid of a PEM key file (private or public)")
    show.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "generate":
        print(json.dumps(generate(args.private_dir, args.public_dir), indent=2))
        return 0
    try:
        kid = load_signing_key(args.file).kid
    except KeyFileError:
        try:
            kid = next(iter(load_public_keys(args.file)))
        except KeyFileError as error:
            print(f"token_keys: {error}", file=sys.stderr)
            return 1
    print(kid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
