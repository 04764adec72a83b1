"""Two real ``pledge serve`` nodes on one PostgreSQL database serve reads and collections at
once; the node holding the audit sequencer's lock is killed (SIGKILL) while it integrates,
and the other takes over: every answered request is in the log once, in the order each
client was answered, and the log verifies.

The forked-Vault version of this is in test_audit_sequencer.py; this one goes through HTTP,
the API-key checks and the batched leaf commits of the real server.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from pledge.api.keys import KeyStore
from pledge.store.audit import decode
from pledge.store.audit.settings import AuditSettings
from pledge.store.collect import Collection
from pledge.store.keys import LocalKeyFileProvider, default_key_store_url
from pledge.store.schema import audit_entries, audit_queue
from pledge.store.vault import Vault
from tests.postgres_support import fresh_postgres_schema
from tests.serve_support import environment, serve

pytestmark = pytest.mark.postgres

ZABBIX = Path(__file__).resolve().parent.parent / "examples" / "policies" / "zabbix.yaml"
SUPPORT = "essential.service.operations.support"
READERS = 1_000  # subjects each node's reader reads, once each, in order


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    yield from fresh_postgres_schema(postgres_admin)


def open_vault(url: str, key: Path) -> Vault:
    return Vault.open(
        url,
        LocalKeyFileProvider(key, create=True),
        ZABBIX.read_text(),
        audit=AuditSettings(sequencer=False),
        key_store_url=default_key_store_url(url, key.parent),
    )


class Client(threading.Thread):
    """One client of one node: requests one after another, noting what was answered 2xx."""

    def __init__(self, base: str, key: str, work: list[str], kind: str) -> None:
        super().__init__(daemon=True)
        self.base, self.key, self.work, self.kind = base, key, work, kind
        self.answered: list[str] = []  # subjects, in the order their answers came
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=10) as http:
            for n, item in enumerate(self.work):
                if self.stop.is_set():
                    return
                try:
                    if self.kind == "read":
                        answer = http.get(f"/v1/subjects/{item}/data", params={"purpose": SUPPORT})
                        subject = item
                    else:
                        body = {"fields": {"name": "N", "email": f"{item}{n}@ex.org"}, "age": 30}
                        answer = http.post("/v1/collect/registration", json=body)
                        subject = answer.json().get("subject") if answer.is_success else None
                except httpx.TransportError:
                    return  # its node died
                refused = self.kind == "read" and answer.status_code == 403  # audited too
                if (answer.is_success or refused) and subject:
                    self.answered.append(subject)
                else:
                    return


def local_ports(pid: int) -> set[int]:
    """The local TCP ports of the process's sockets (its connections to the database)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rpartition(":")[2], 16))
    return ports


def sequencer_session(admin: Engine, application: str) -> tuple[int, str] | None:
    """The client port and state of the session holding the sequencer's advisory lock."""
    with admin.connect() as connection:
        row = connection.execute(
            text(
                "SELECT a.client_port, a.state FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = :name"
            ),
            {"name": application},
        ).first()
    return None if row is None else (int(row[0]), str(row[1]))


def test_a_node_takes_over_when_the_sequencer_node_is_killed_mid_batch(
    tmp_path: Path, postgres_url: str, postgres_admin: Engine
) -> None:
    application = make_url(postgres_url).query["application_name"]
    assert isinstance(application, str)
    key = tmp_path / "master.key"
    vault = open_vault(postgres_url, key)
    try:
        people = vault.collect_many(
            [
                Collection("registration", {"name": "R", "email": f"r{i}@ex.org"}, None, {}, 30)
                for i in range(2 * READERS)
            ]
        )
        store = KeyStore(vault)
        _, read_key = store.create("role", "support", "reads", by="test")
        _, collect_key = store.create("collector", None, "site", by="test")
    finally:
        vault.close()
    subjects = [p.subject for p in people]
    env = environment(
        PLEDGE_DATABASE_URL=postgres_url,
        # Both nodes run on this machine: they share the key store file the vault above made.
        PLEDGE_KEY_STORE_URL=default_key_store_url(postgres_url, tmp_path),
        PLEDGE_POLICY=str(ZABBIX),
        PLEDGE_MASTER_KEY_SOURCE="file",
        PLEDGE_AUDIT_MAX_WAIT="0.1",
        PLEDGE_AUDIT_BATCH_SIZE="8",  # many small batches: the kill lands in one
        PLEDGE_RATE_LIMIT_PER_SECOND="100000",
        PLEDGE_RATE_LIMIT_BURST="100000",
    )
    clients: dict[str, list[Client]] = {}
    with ExitStack() as stack:
        nodes = {}
        for n, name in enumerate(("a", "b")):
            data = tmp_path / name
            data.mkdir()
            (data / "master.key").write_bytes(key.read_bytes())
            (data / "master.key").chmod(0o600)
            nodes[name] = stack.enter_context(
                serve(dict(env, PLEDGE_DATA_DIR=str(data)), tmp_path / f"{name}.log")
            )
            mine = subjects[n * READERS : (n + 1) * READERS]
            clients[name] = [
                Client(nodes[name][1], read_key, mine, "read"),
                Client(nodes[name][1], collect_key, [f"{name}c"] * 10_000, "collect"),
            ]
        for client in itertools.chain(*clients.values()):
            client.start()
        deadline = time.monotonic() + 30
        holder = None
        while holder is None:
            assert time.monotonic() < deadline, "no node became the sequencer"
            session = sequencer_session(postgres_admin, application)
            if session is not None:
                holder = next(
                    (n for n, (p, _) in nodes.items() if session[0] in local_ports(p.pid)), None
                )
            time.sleep(0.02)
        other = "b" if holder == "a" else "a"
        time.sleep(0.5)  # both nodes busy
        killed_in_batch = False
        until = time.monotonic() + 5
        while time.monotonic() < until:  # kill it inside a batch's transaction if we can
            session = sequencer_session(postgres_admin, application)
            if session is not None and session[1] in ("active", "idle in transaction"):
                killed_in_batch = True
                break
        nodes[holder][0].kill()
        nodes[holder][0].wait()
        answered_at_kill = [len(c.answered) for c in clients[other]]
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, "the other node never took over"
            session = sequencer_session(postgres_admin, application)
            if session is not None and session[0] in local_ports(nodes[other][0].pid):
                break
            time.sleep(0.05)
        time.sleep(1.0)  # the survivor serves and integrates on its own
        for client in itertools.chain(*clients.values()):
            client.stop.set()
        for client in itertools.chain(*clients.values()):
            client.join(timeout=30)
        vault = open_vault(postgres_url, key)
        try:
            vault.audit.sync()  # the survivor (still running) integrates what is queued
            verification = vault.audit.verify(vault.engine, full=True)
            with vault.engine.connect() as connection:
                rows = connection.execute(
                    select(audit_entries.c.subject_ref, audit_entries.c.entry).order_by(
                        audit_entries.c.seq
                    )
                ).all()
                queue_ids = connection.execute(select(audit_entries.c.queue_id)).scalars().all()
                queued = connection.execute(select(func.count()).select_from(audit_queue)).scalar()
            ref = vault.subject_ref
        finally:
            vault.close()
    assert verification.ok, verification.problem
    assert queued == 0
    # the survivor went on answering both kinds of request after the kill
    assert all(len(c.answered) > n for c, n in zip(clients[other], answered_at_kill, strict=True))
    assert len(queue_ids) == len(set(queue_ids))  # no leaf integrated twice
    print(f"killed {holder} inside a batch: {killed_in_batch}; {len(rows)} entries")
    log = [(subject_ref, decode(entry)["action"]) for subject_ref, entry in rows]
    for name, (reader, collector) in clients.items():
        assert reader.answered, name
        assert collector.answered, name
        for client, action in ((reader, "read"), (collector, "collect")):
            told = [ref(s) for s in client.answered]
            asked = set(map(ref, client.work)) if action == "read" else set(told)
            logged = [r for r, a in log if a == action and r in asked]
            if name == other:
                # The survivor: every answer in the log exactly once, in the order answered.
                assert logged == told, (name, action)
            else:
                # The killed node: every answer too, in order; a request in flight when it
                # died may be logged without its answer having arrived.
                assert logged[: len(told)] == told, (name, action)
                assert len(logged) <= len(told) + 1, (name, action)
