"""`python -m bench transfers [--quick] [--database-url ...]`; `python -m bench profile`;
`python -m bench crash [--transfers N] [--database-url ...]`;
`python -m bench statements [--database-url ...]`."""

import argparse
import sys

from bench import crash, profile, statements, transfers


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
    statements.add_arguments(
        commands.add_parser("statements", help="A month's statement at 1M entries vs 10k.")
    )
    args = parser.parse_args(argv)
    if args.command == "transfers":
        return transfers.run(args)
    if args.command == "crash":
        return crash.run_command(args)
    if args.command == "statements":
        return statements.run(args)
    return profile.run(args)


if __name__ == "__main__":
    sys.exit(main())
