"""Garbage collection of a partition: after a retention period, delete the files of runs no kept commit names, once the
current commit is published to the Delta tables (so no file their latest versions name is ever deleted)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from paperlake.commit import RUN_ID_PATTERN, Commit, _generation, commit_prefix
from paperlake.delta import publish_current
from paperlake.lake import RAW_MANIFEST, TABLE_LAYERS, Lake
from paperlake.storage import TEMP_FILE_MAX_AGE

# Layers whose partitions hold run files (raw_errors: what failed fetches received, never committed).
RUN_LAYERS = ("raw", "raw_errors", *TABLE_LAYERS, "validation")


def collect_garbage(
    lake: Lake, source: str, day: date, *, retention: timedelta, now: datetime | None = None
) -> list[str]:
    """Delete a partition's run files no commit kept within `retention` names, once older than it; the keys deleted.

    Kept: the current commit and every commit younger than `retention`, with all their runs'
    files; any file younger than `retention` (a run still in flight); raw pages a remaining
    manifest names. Files not named by a run (an older layout) are never touched. The current
    commit is published to the Delta tables first (PublishFailed stops the collection), so no file
    the tables' latest versions name is deleted; older Delta versions name files of older commits and
    can be read (time travel) while those commits are kept.
    """
    publish_current(lake, source, day, retention)
    store, now = lake.store, now or datetime.now(UTC)
    cutoff = (now - retention).timestamp()
    commits = store.list_modified(commit_prefix(source, day))
    generations = sorted((g, key) for key in commits if (g := _generation(key)) is not None)
    kept_commits = [key for g, key in generations if g == generations[-1][0] or commits[key] >= cutoff]
    doomed = [key for _, key in generations if key not in kept_commits]
    kept_runs = {Commit.from_json(store.get(key)).run_id for key in kept_commits}
    for layer in RUN_LAYERS:
        prefix = lake.partition_prefix(layer, source, day)
        listed = store.list_modified(prefix)
        run_files = {key: match.group(1) for key in listed if (match := RUN_ID_PATTERN.search(key))}
        stale = {key for key, run in run_files.items() if run not in kept_runs and listed[key] < cutoff}
        doomed += sorted(stale)
        if layer in ("raw", "raw_errors"):
            named = set()
            for key in listed:
                if key.rsplit("/", 1)[1].startswith(RAW_MANIFEST.split(".")[0]) and key not in stale:
                    named |= {f"{prefix}/{page['file']}" for page in json.loads(store.get(key))["pages"]}
            doomed += sorted(
                k
                for k in listed
                if k not in run_files and k not in named and listed[k] < cutoff and not k.endswith(RAW_MANIFEST)
            )
        store.sweep_temp(prefix, older_than=(now - TEMP_FILE_MAX_AGE).timestamp())
    store.sweep_temp(commit_prefix(source, day), older_than=(now - TEMP_FILE_MAX_AGE).timestamp())
    store.delete(doomed)
    return doomed
