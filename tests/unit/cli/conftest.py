import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from paperlake.cli import main


def use_home(monkeypatch, home):
    monkeypatch.setenv("PAPERLAKE_HOME", str(home))
    for name in ("PAPERLAKE_LAKE_URL", "PAPERLAKE_SNAPSHOT_PATH", "PAPERLAKE_SOURCES"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def home(tmp_path, monkeypatch):
    return use_home(monkeypatch, tmp_path / "home")


@pytest.fixture(scope="module")
def built_home(tmp_path_factory):
    """The sample ingested and the marts built once for the module's read-only tests."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        home = use_home(monkeypatch, tmp_path_factory.mktemp("cli") / "home")
        assert main(["ingest", "--source", "snapshot", "--date", "2026-11-26"]) == 0
        assert main(["marts"]) == 0
    return home


@pytest.fixture
def built(built_home, monkeypatch, capsys):
    capsys.readouterr()
    return use_home(monkeypatch, built_home)


@dataclass
class ShellLake:
    root: str  # the lake's root as DuckDB names it: a folder or s3://bucket/prefix
    clean_file: str  # an existing clean partition file, by the same kind of name
    outside: list[str]  # readable objects that are not in the lake
    read: Callable[[str], bytes | None]  # an object's (or a local file's) bytes by name; None when absent


@pytest.fixture(params=["local", "s3"])
def shell_lake(request, built, tmp_path, monkeypatch) -> ShellLake:
    """The sample lake and its marts, in the module's folder or copied to a SeaweedFS bucket."""
    local_root = built / "lake"
    clean_key = next(p for p in (local_root / "clean").rglob("*.parquet")).relative_to(local_root).as_posix()
    outside_file = tmp_path / "outside.csv"
    outside_file.write_text("secret\n1\n")
    if request.param == "local":
        return ShellLake(str(local_root), f"{local_root}/{clean_key}", [str(outside_file)], _read_local)
    seaweed, bucket = request.getfixturevalue("seaweed"), request.getfixturevalue("s3_bucket")
    client = seaweed.client()
    for path in local_root.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), bucket, f"lake/{path.relative_to(local_root).as_posix()}")
    other_bucket = f"{bucket}-other"
    client.create_bucket(Bucket=other_bucket)
    for where, key in ((bucket, "lake-other/x.csv"), (bucket, "other/x.csv"), (other_bucket, "lake/x.csv")):
        client.put_object(Bucket=where, Key=key, Body=b"secret\n1\n")
    for name, value in {**seaweed.env, "PAPERLAKE_HOME": str(tmp_path / "home"), "PAPERLAKE_LAKE_URL": f"s3://{bucket}/lake",
                        "PAPERLAKE_S3_ENDPOINT_URL": seaweed.endpoint_url}.items():
        monkeypatch.setenv(name, value)

    def read_s3(uri: str) -> bytes | None:
        if not uri.startswith("s3://"):
            return _read_local(uri)
        where, key = uri.removeprefix("s3://").split("/", 1)
        try:
            return client.get_object(Bucket=where, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey:
            return None

    outside = [f"s3://{bucket}/lake-other/x.csv", f"s3://{bucket}/other/x.csv", f"s3://{other_bucket}/lake/x.csv"]
    return ShellLake(f"s3://{bucket}/lake", f"s3://{bucket}/lake/{clean_key}", outside + [str(outside_file)], read_s3)


def _read_local(path: str) -> bytes | None:
    return Path(path).read_bytes() if Path(path).is_file() else None


def shell(*statements: str) -> list[str]:
    """What a fresh shell on the current settings prints for each statement, in order (the connection `paperlake shell`
    opens: confined first, its lake_* views created before the first statement that may read them)."""
    from paperlake.cli.shell import run_shell
    from paperlake.config import Settings
    from paperlake.readonly import open_marts_shell

    con, create_lake_views = open_marts_shell(Settings.from_env())
    try:
        outputs = []
        for statement in statements:
            out = io.StringIO()
            run_shell(con, io.StringIO(statement + "\n"), out, create_lake_views=create_lake_views)
            outputs.append(out.getvalue().split("paperlake> ")[1])
        return outputs
    finally:
        con.close()
