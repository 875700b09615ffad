"""`python -m bench transfers|pipeline|middleware|scale|statements|profile|crash`: see
bench/__init__.py."""

import argparse
import sys

from bench import crash, middleware, pipeline, profile, scale, statements, transfers


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
    pipeline.add_arguments(
        commands.add_parser(
            "pipeline", help="The request pipeline against a bare DRF view, and transfers."
        )
    )
    middleware.add_arguments(
        commands.add_parser("middleware", help="The middleware stack's CPU per API request.")
    )
    scale.add_arguments(
        commands.add_parser("scale", help="1,000,000 entries: history, lists, ledger_check.")
    )
    statements.add_arguments(
        commands.add_parser("statements", help="A month's statement at 1M entries vs 10k.")
    )
    args = parser.parse_args(argv)
    if args.command == "transfers":
        return transfers.run(args)
    if args.command == "crash":
        return crash.run_command(args)
    if args.command == "pipeline":
        return pipeline.run(args)
    if args.command == "middleware":
        return middleware.run(args)
    if args.command == "scale":
        return scale.run(args)
    if args.command == "statements":
        return statements.run(args)
    return profile.run(args)


if __name__ == "__main__":
    sys.exit(main())
