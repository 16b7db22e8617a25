"""A real S3 endpoint for tests: moto in server mode, in a subprocess on 127.0.0.1, with IAM
authentication enforced, so a wrong secret is refused as AWS would refuse it.

The server lets its first INITIAL_NO_AUTH_ACTION_COUNT requests through without checking their
signatures; we spend exactly those on creating one IAM user, its access key and a policy allowing
s3:* on everything. From then on only that key works (any other key or secret: AccessDenied /
SignatureDoesNotMatch). Readiness is polled on the TCP port, since an HTTP request would use up
one of the unchecked actions.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REGION = "us-east-1"
_SETUP_ACTIONS = 3  # create_user, create_access_key, put_user_policy
_ALLOW_S3 = """{"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    """Poll until the server accepts connections (TCP only: an HTTP request would use up one of
    the unauthenticated actions)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"moto server did not listen on port {port} within {timeout_s} s:\n{log.read_text()[-3000:]}")


def _isolated_aws_env(base: dict[str, str]) -> dict[str, str]:
    """``base`` without anything that could point boto at other credentials or endpoints."""
    env = {k: v for k, v in base.items()
           if not k.startswith("AWS_") and k not in ("BOTO_CONFIG",)}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true")
    return env


@dataclass
class S3Server:
    process: subprocess.Popen
    endpoint: str
    access_key: str
    secret_key: str
    log: Path

    def aws_env(self, secret_key: str | None = None) -> dict[str, str]:
        """The AWS_* variables a client of this server needs (``secret_key``: to try a wrong one)."""
        return {"AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": secret_key if secret_key is not None else self.secret_key,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL": self.endpoint}

    def env(self, base: dict[str, str] | None = None, **overrides: str) -> dict[str, str]:
        """A whole environment for a subprocess: ``base`` (default os.environ) with this server's
        AWS settings and nothing else AWS-related; ``overrides`` last."""
        env = _isolated_aws_env(dict(os.environ if base is None else base))
        env.update(self.aws_env())
        env.update(overrides)
        return env

    def filesystem(self, secret_key: str | None = None):
        """A fresh s3fs filesystem (no shared instance, no cached listings) on this server."""
        import s3fs

        creds = self.aws_env(secret_key)
        return s3fs.S3FileSystem(key=creds["AWS_ACCESS_KEY_ID"], secret=creds["AWS_SECRET_ACCESS_KEY"],
                                 endpoint_url=self.endpoint, client_kwargs={"region_name": REGION},
                                 skip_instance_cache=True, use_listings_cache=False)

    def new_bucket(self, hint: str = "") -> str:
        """Create a bucket with a unique, valid name (3-63 chars: lowercase, digits, hyphens)."""
        safe = "".join(ch if ch.isalnum() and ch.isascii() else "-" for ch in hint.lower()).strip("-")
        name = f"t-{uuid.uuid4().hex[:12]}-{safe}"[:63].rstrip("-")
        self.client().create_bucket(Bucket=name)  # us-east-1: no LocationConstraint
        return name

    def client(self, service: str = "s3"):
        """A boto3 client on this server with the working key."""
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_s3_server(workdir: Path) -> S3Server:
    """Start moto on a free port, create the one IAM user whose key the server accepts."""
    import boto3

    log = workdir / "moto-server.log"
    for attempt in range(3):  # the free port may be taken between choosing and binding it
        port = _free_port()
        env = _isolated_aws_env(dict(os.environ))
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(_SETUP_ACTIONS)
        with open(log, "wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                       stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir)
        try:
            _wait_for_port(port, process, log)
            break
        except RuntimeError:
            if process.poll() is None:
                process.kill()
            process.wait()
            if attempt == 2:
                raise
    endpoint = f"http://127.0.0.1:{port}"
    try:
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION,
                           aws_access_key_id="setup", aws_secret_access_key="setup")
        iam.create_user(UserName="pipeline-tests")
        key = iam.create_access_key(UserName="pipeline-tests")["AccessKey"]
        iam.put_user_policy(UserName="pipeline-tests", PolicyName="s3-all", PolicyDocument=_ALLOW_S3)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return S3Server(process, endpoint, key["AccessKeyId"], key["SecretAccessKey"], log)


# ----------------------------------------------------------------------------- bucket contents


def upload_folder(fs, local: Path, url: str) -> list[str]:
    """Put every regular file under ``local`` at ``url``/<relative path>; the keys, sorted."""
    base = url.removeprefix("s3://").rstrip("/")
    keys = []
    for path in sorted(p for p in Path(local).rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(local).as_posix()
        fs.put_file(str(path), f"{base}/{rel}")
        keys.append(rel)
    return keys


def copy_prefix(fs, source: str, target: str) -> None:
    """Server-side copy of every object under ``source`` to the same relative key under ``target``."""
    src, dst = source.removeprefix("s3://").rstrip("/"), target.removeprefix("s3://").rstrip("/")
    for key in fs.find(src):
        fs.copy(key, f"{dst}/{key[len(src) + 1:]}")


def read_object(fs, url: str) -> bytes:
    return fs.cat_file(url.removeprefix("s3://"))


def list_keys(fs, url: str) -> list[str]:
    """Keys under ``url``, relative to it, sorted."""
    base = url.removeprefix("s3://").rstrip("/")
    fs.invalidate_cache()
    return sorted(key[len(base) + 1:] for key in fs.find(base))
