"""`[core] hostname_callable` for Celery workers sharing one machine: each reports its own name.

Task instances record the name (`hostname`), so a run shows which worker ran each task. Finished tasks'
logs are read from the shared local log folder; a real multi-host deployment keeps the default (the FQDN).
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    return os.environ.get("PAPERLAKE_WORKER_HOSTNAME") or socket.getfqdn()
