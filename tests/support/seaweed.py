"""The tests' SeaweedFS S3 server: the same start/stop code the stack uses (deploy/seaweed.py)."""

from deploy.processes import free_ports
from deploy.seaweed import ACCESS_KEY, PORT_FLAGS, SECRET_KEY, SeaweedServer

__all__ = ["ACCESS_KEY", "PORT_FLAGS", "SECRET_KEY", "SeaweedServer", "free_ports"]
