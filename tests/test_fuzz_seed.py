"""`bin/fuzz` seeds its database with a Python snippet that only `.ci/run` executes; run it
here too, so that a change to the services it calls breaks the suite, not the fuzzing run."""

import re
from pathlib import Path

import pytest

from ledger.models import Account, Transaction

FUZZ = Path(__file__).resolve().parent.parent / "bin" / "fuzz"


def seed_snippet() -> str:
    match = re.search(r"manage\.py shell -c '\n(.*?)\n'\n", FUZZ.read_text(), re.S)
    assert match, "bin/fuzz no longer seeds with `manage.py shell -c '...'`"
    return match.group(1)


@pytest.mark.django_db
def test_the_fuzzing_seed_runs_against_todays_services(monkeypatch):
    monkeypatch.setenv("FUZZ_EMAIL", "fuzz@example.com")
    monkeypatch.setenv("FUZZ_PASSWORD", "a long fuzzing pass phrase 2026")

    exec(compile(seed_snippet(), "<bin/fuzz seed>", "exec"), {})  # nosec B102 (our own file)

    assert Account.objects.customer().count() == 12
    assert Transaction.objects.filter(kind="transfer").count() == 3
