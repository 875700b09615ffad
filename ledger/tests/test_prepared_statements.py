"""ledger/posting_sql.py, "Planned once": on PostgreSQL the posting's statements are PREPAREd
once per database session and EXECUTEd after that; off, or on SQLite, the SQL goes as it is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger import posting_sql
from ledger.errors import InsufficientFundsError
from ledger.models import Account
from ledger.tests.factories import AccountFactory, funded_account, send
from ledger.tests.sql import as_planned

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PREPARE / EXECUTE are PostgreSQL's"
)


def statements_of(work) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        work()
    return [q["sql"] for q in captured if q["sql"] and "ledger_" in q["sql"]]


def test_a_statement_is_numbered_for_prepare_and_takes_the_same_parameters():
    name, prepare, execute = posting_sql._statement(
        "SELECT %s FROM t WHERE a LIKE 'x%%' AND b = %s"
    )
    assert prepare == f"PREPARE {name} AS SELECT $1 FROM t WHERE a LIKE 'x%' AND b = $2"
    assert execute == f"EXECUTE {name}(%s, %s)"
    assert (
        posting_sql._statement("SELECT 1")[2] == f"EXECUTE {posting_sql._statement('SELECT 1')[0]}"
    )


@postgres_only
@pytest.mark.django_db(transaction=True)  # closes the connection: a new session
def test_a_session_prepares_each_statement_once_then_executes_it():
    source, payee = funded_account(1_000), AccountFactory()
    connection.close()  # a new session: nothing prepared yet

    first = statements_of(lambda: send(source, payee, 10))
    second = statements_of(lambda: send(source, payee, 10))

    prepares = [sql for sql in first if sql.startswith("PREPARE ledger_")]
    assert len(prepares) >= 3  # the claim-less lock, the transaction and the entries, ...
    assert all(sql.startswith("EXECUTE ledger_") for sql in second), second
    assert "FOR NO KEY UPDATE" in as_planned(second[0])
    assert Account.objects.get(pk=payee.pk).balance == 20


@postgres_only
@pytest.mark.django_db(transaction=True)  # closes the connection: a new session
def test_a_new_session_prepares_again():
    source, payee = funded_account(1_000), AccountFactory()
    send(source, payee, 10)
    connection.close()  # Django reconnects: another session, which has prepared nothing

    again = statements_of(lambda: send(source, payee, 10))

    assert any(sql.startswith("PREPARE ledger_") for sql in again)
    assert Account.objects.get(pk=payee.pk).balance == 20


@postgres_only
@pytest.mark.django_db(transaction=True)  # closes the connection: a new session
def test_a_statement_prepared_in_a_refused_transfer_still_runs_after_its_rollback():
    source, payee = funded_account(100), AccountFactory()
    connection.close()
    with pytest.raises(InsufficientFundsError):  # prepares the lock, then rolls back
        send(source, payee, 1_000)

    after = statements_of(lambda: send(source, payee, 10))

    lock = next(sql for sql in after if "FOR NO KEY UPDATE" in as_planned(sql))
    assert lock.startswith("EXECUTE ledger_")  # prepared by the refused one, not again
    assert Account.objects.get(pk=payee.pk).balance == 10


def test_switched_off_the_sql_goes_as_it_is(settings):
    settings.LEDGER_PREPARED_STATEMENTS = False
    source, payee = funded_account(1_000), AccountFactory()

    sent = statements_of(lambda: send(source, payee, 10))

    assert not [sql for sql in sent if sql.startswith(("PREPARE", "EXECUTE"))]
    assert any("FOR NO KEY UPDATE" in sql for sql in sent) is (connection.vendor == "postgresql")
    assert Account.objects.get(pk=payee.pk).balance == 10
