"""`python -m bench transfers [--quick] [--database-url ...]`; `python -m bench profile`;
`python -m bench crash [--transfers N] [--database-url ...]`."""

import argparse
import sys

from bench import crash, profile, transfers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    transfers.add_arguments(
        commands.add_parser("transfers", help="Transfers/s: service layer, HTTP and pgbench.")
    )
    profile.add_arguments(
        commands.add_parser("profile", help="Profile POST /api/v1/transfers/ in-process.")
    )
    crash.add_arguments(
        commands.add_parser(
            "crash", help="The bank workload with a server SIGKILLed midway (Jepsen-style)."
        )
    )
    args = parser.parse_args(argv)
    if args.command == "transfers":
        return transfers.run(args)
    if args.command == "crash":
        return crash.run_command(args)
    return profile.run(args)


if __name__ == "__main__":
    sys.exit(main())
