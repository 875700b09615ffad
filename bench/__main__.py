"""`python -m bench transfers|pipeline|profile|scale ...`: see bench/__init__.py."""

import argparse
import sys

from bench import pipeline, profile, transfers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    transfers.add_arguments(
        commands.add_parser("transfers", help="Transfers/s: service layer, HTTP and pgbench.")
    )
    profile.add_arguments(
        commands.add_parser("profile", help="Profile POST /api/v1/transfers/ in-process.")
    )
    pipeline.add_arguments(
        commands.add_parser(
            "pipeline", help="The request pipeline against a bare DRF view, and transfers."
        )
    )
    args = parser.parse_args(argv)
    if args.command == "transfers":
        return transfers.run(args)
    if args.command == "pipeline":
        return pipeline.run(args)
    return profile.run(args)


if __name__ == "__main__":
    sys.exit(main())
