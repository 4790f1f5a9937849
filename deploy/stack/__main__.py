"""`python -m deploy.stack start|stop|status|airflow|init`."""

from __future__ import annotations

import argparse
import sys

from deploy.stack import __doc__ as STACK_DOC
from deploy.stack.control import run_local, start, status, stop_stack
from deploy.stack.init import init_stack
from deploy.supervisor import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack", description=STACK_DOC.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "airflow", "init"])
    args = parser.parse_args(argv)
    configure_logging()
    if args.command == "init":
        init_stack()
        return 0
    return {"start": start, "stop": stop_stack, "status": status, "airflow": run_local}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
