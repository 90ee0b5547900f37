"""The append-only, SM3-chained audit log: writing, database guard, verification."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from yiwang.core.audit import audit_log, entry_hash, verify_chain
from yiwang.core.context import RequestContext, current
from yiwang.core.models import AuditChainHead, AuditEntry
from yiwang.core.models.audit import GENESIS_HASH
from yiwang.core.tests.audit_guard import drop_append_only_guard

TABLE = AuditEntry._meta.db_table
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need PostgreSQL's row locks")


def run_sql(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def run_sql_params(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def write_entries(n: int) -> list[AuditEntry]:
    return [audit_log(actor=None, action="test.write", object_type="test.thing",
                      object_id=str(i), after={"n": i, "名称": "甲街道"}) for i in range(1, n + 1)]


def verify_command() -> str:
    out = StringIO()
    call_command("audit", "verify", stdout=out, stderr=StringIO())
    return out.getvalue()


def verify_command_error() -> CommandError:
    with pytest.raises(CommandError) as info:
        verify_command()
    return info.value


# Tampering tests need no transaction=True: DROP TRIGGER is transactional on both
# databases, so the test transaction's rollback puts the guard back.


@pytest.mark.django_db
def test_audit_log__each_entry_links_to_the_one_before():
    first, second, third = write_entries(3)
    assert [e.id for e in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    stored = AuditEntry.objects.get(pk=2)
    assert stored.hash == entry_hash(stored) == second.hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_id, head.last_hash, head.count) == (3, third.hash, 3)


@pytest.mark.django_db
def test_audit_log__records_actor_object_and_request_context(district):
    clerk = district.users["clerk_a"]
    token = current.set(RequestContext(ip="10.1.2.3", request_id="req-1"))
    try:
        entry = audit_log(actor=clerk, action="core.orgunit.view", obj=district.street_a,
                          reason="spot check")
    finally:
        current.reset(token)
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (entry.actor_id, entry.actor_label) == (clerk.pk, "clerk_a")
    assert (entry.object_type, entry.object_id) == ("core.orgunit", str(district.street_a.pk))
    assert (entry.ip, entry.request_id, entry.reason) == ("10.1.2.3", "req-1", "spot check")
    assert entry.scope_path == district.street_a.path


@pytest.mark.django_db
def test_audit_log__non_canonical_ipv6_address__chain_still_verifies():
    token = current.set(RequestContext(ip="2001:0DB8:0000:0000:0000:0000:0000:0001"))
    try:
        audit_log(actor=None, action="test.write")
    finally:
        current.reset(token)
    assert AuditEntry.objects.get(pk=1).ip == "2001:db8::1"
    assert verify_chain().ok


@pytest.mark.django_db
def test_verify__intact_chain__ok_and_command_says_so():
    write_entries(5)
    result = verify_chain(batch_size=2)
    assert (result.ok, result.checked, result.first_broken_id) == (True, 5, None)
    assert "intact: 5 entries verified" in verify_command()


@pytest.mark.django_db
def test_verify__empty_log__ok():
    assert verify_chain().ok
    assert "intact: 0 entries" in verify_command()


@pytest.mark.django_db
def test_audit_entry__sql_update_and_delete__refused_by_database_trigger():
    write_entries(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        run_sql([f"UPDATE {TABLE} SET reason = 'covered up' WHERE id = 1"])  # noqa: S608
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=1).update(reason="covered up")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        run_sql([f"DELETE FROM {TABLE} WHERE id = 2"])  # noqa: S608
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            run_sql([f"TRUNCATE {TABLE}"])
    assert AuditEntry.objects.count() == 2
    assert AuditEntry.objects.get(pk=1).reason == ""
    assert verify_chain().ok


@pytest.mark.django_db
def test_audit_entry__orm_save_and_delete__refused():
    entry = write_entries(1)[0]
    entry.reason = "covered up"
    with pytest.raises(RuntimeError, match="append-only"):
        entry.save()
    with pytest.raises(RuntimeError, match="append-only"):
        entry.delete()


@pytest.mark.django_db
def test_verify__altered_entry__names_it():
    write_entries(5)
    drop_append_only_guard()
    run_sql([f"UPDATE {TABLE} SET reason = 'covered up' WHERE id = 3"])  # noqa: S608
    result = verify_chain()
    assert (result.ok, result.first_broken_id, result.checked) == (False, 3, 2)
    assert "altered" in result.problem
    error = verify_command_error()
    assert error.returncode != 0
    assert "entry #3" in str(error) and "altered" in str(error)


@pytest.mark.django_db
def test_verify__altered_and_rehashed_entry__names_it_through_the_broken_link():
    entries = write_entries(5)
    drop_append_only_guard()
    run_sql_params(f"UPDATE {TABLE} SET reason = %s WHERE id = 3", ["covered up"])  # noqa: S608
    forged_hash = entry_hash(AuditEntry.objects.get(pk=3))  # a self-consistent forgery
    run_sql_params(f"UPDATE {TABLE} SET hash = %s WHERE id = 3", [forged_hash])  # noqa: S608
    assert forged_hash != entries[2].hash
    result = verify_chain()
    assert (result.ok, result.first_broken_id) == (False, 4)
    assert "entry #3" in result.problem
    assert "entry #3" in str(verify_command_error())


@pytest.mark.django_db
@pytest.mark.parametrize(("deleted", "problem"), [
    (1, "entry #1 is missing"),
    (3, "entry #3 is missing"),
    (5, "entries #5 to #5 are missing"),
])
def test_verify__deleted_entry__names_it(deleted, problem):
    write_entries(5)
    drop_append_only_guard()
    run_sql([f"DELETE FROM {TABLE} WHERE id = {deleted}"])  # noqa: S608
    result = verify_chain()
    assert (result.ok, result.first_broken_id) == (False, deleted)
    assert problem in result.problem
    error = verify_command_error()
    assert error.returncode != 0
    assert f"entry #{deleted}" in str(error)


@pytest.mark.django_db
def test_verify__chain_head_deleted__reported():
    write_entries(3)
    AuditChainHead.objects.all().delete()
    result = verify_chain()
    assert not result.ok and "head is missing" in result.problem
    assert "head is missing" in str(verify_command_error())


@pytest.mark.django_db(transaction=True)
@on_postgres
def test_audit_log__concurrent_writers__one_valid_chain_with_contiguous_ids():
    writers, per_writer = 6, 15
    start = threading.Barrier(writers + 1)
    errors: list[BaseException] = []
    verify_results = []
    done = threading.Event()

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                audit_log(actor=None, action="test.concurrent", object_id=f"{n}-{i}")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def verify_while_writing() -> None:
        try:
            start.wait()
            while not done.is_set():
                verify_results.append(verify_chain())
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    verifier = threading.Thread(target=verify_while_writing)
    for thread in [*threads, verifier]:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    done.set()
    verifier.join(timeout=60)

    assert errors == []
    total = writers * per_writer
    assert list(AuditEntry.objects.order_by("id").values_list("id", flat=True)) == list(
        range(1, total + 1))
    result = verify_chain()
    assert (result.ok, result.checked) == (True, total)
    assert AuditChainHead.objects.get(pk=1).count == total
    # A verification running during the appends never raises a false alarm.
    assert verify_results and all(r.ok for r in verify_results), [
        r for r in verify_results if not r.ok][:1]
