"""The audit log as a queue and a sequencer: checkpoints others can check, logs wiped or cut
refused against a checkpoint kept elsewhere, a sequencer killed anywhere losing nothing, and
another process taking over from one that died."""

from __future__ import annotations

import base64
import hashlib
import itertools
import multiprocessing
import os
import random
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, event, func, select
from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.errors import InputError
from pledge.store.audit import AuditLog, Record, merkle
from pledge.store.audit.checkpoint import parse_note
from pledge.store.audit.settings import AuditSettings
from pledge.store.bootstrap import load_secrets
from pledge.store.database import open_engine, reading
from pledge.store.keys import LocalKeyFileProvider, default_key_store_url
from pledge.store.schema import audit_checkpoints, audit_entries, audit_head, audit_queue
from pledge.store.vault import Vault

ZABBIX = Path(__file__).resolve().parent.parent / "examples" / "policies" / "zabbix.yaml"
SUPPORT = "essential.service.operations.support"


def open_vault(url: str, key: Path, **settings: Any) -> Vault:
    return Vault.open(
        url,
        LocalKeyFileProvider(key, create=True),
        ZABBIX.read_text(),
        audit=AuditSettings(**settings),
        key_store_url=default_key_store_url(url, key.parent),
    )


def queue_records(vault: Vault, n: int, tag: str) -> list[int]:
    with vault.write() as connection:
        return vault.record(connection, *(Record("test", tag, detail={"n": i}) for i in range(n)))


def log_rows(vault: Vault) -> list[Any]:
    with reading(vault.engine) as connection:
        return connection.execute(
            select(audit_entries.c.seq, audit_entries.c.queue_id).order_by(audit_entries.c.seq)
        ).all()


# --- a checkpoint read by a verifier written from the C2SP specs, not Pledge's parser -------


def c2sp_verify(note: str, name: str, public_key: bytes) -> tuple[str, int, bytes]:
    """signed-note + tlog-checkpoint, read from the specs: the text up to the blank line is
    signed; a signature line is an em dash, the key name and base64(key hash || signature);
    the key hash is SHA-256(name || 0x0A || 0x01 || key)[:4] for Ed25519."""
    text, blank, signatures = note.partition("\n\n")
    assert blank
    assert note.endswith("\n")
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]
    ours = [
        base64.b64decode(line.split(" ")[2])
        for line in signatures.splitlines()
        if line.startswith("\u2014 ") and line.split(" ")[1] == name
    ]
    assert len(ours) == 1
    assert ours[0][:4] == key_id
    Ed25519PublicKey.from_public_bytes(public_key).verify(ours[0][4:], (text + "\n").encode())
    origin, size, root = text.split("\n")
    return origin, int(size), base64.b64decode(root)


def rfc6962_root(entries: list[bytes]) -> bytes:
    def mth(leaves: list[bytes]) -> bytes:
        if len(leaves) == 1:
            return hashlib.sha256(b"\x00" + leaves[0]).digest()
        k = 1 << ((len(leaves) - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()

    return mth(entries) if entries else hashlib.sha256(b"").digest()


def test_published_checkpoint_verifies_under_the_specs(tmp_path: Path, database_url: str) -> None:
    vault = open_vault(database_url, tmp_path / "master.key", checkpoint_dir=tmp_path / "cp")
    try:
        subject = vault.collect("registration", {"name": "Ann", "email": "ann@example.org"}, age=30)
        vault.read(subject.subject, SUPPORT, "support")
        queue_records(vault, 5, "extra")
        vault.audit.sync()
        with vault.engine.connect() as connection:
            entries = list(
                connection.execute(
                    select(audit_entries.c.entry).order_by(audit_entries.c.seq)
                ).scalars()
            )
        public = vault.audit.public_key.public_bytes_raw()
        origin = vault.audit.origin
    finally:
        vault.close()
    note = (tmp_path / "cp" / "checkpoint").read_text()
    assert c2sp_verify(note, origin, public) == (origin, 7, rfc6962_root(entries))
    assert (tmp_path / "cp" / "7.checkpoint").read_text() == note
    forged = note.replace("\n7\n", "\n8\n")
    with pytest.raises(InvalidSignature):
        c2sp_verify(forged, origin, public)


# --- wiped and cut logs, against a checkpoint kept outside the database ---------------------


def populated(tmp_path: Path, url: str) -> tuple[Vault, Path]:
    vault = open_vault(url, tmp_path / "master.key", checkpoint_dir=tmp_path / "cp")
    for i in range(4):
        s = vault.collect("registration", {"name": f"P{i}", "email": f"p{i}@example.org"}, age=30)
        vault.read(s.subject, SUPPORT, "support")
        vault.audit.sync()
    kept = tmp_path / "kept.checkpoint"  # what an auditor or a witness holds
    shutil.copy(tmp_path / "cp" / "checkpoint", kept)
    return vault, kept


def wipe(vault: Vault, keep: int) -> None:
    with vault.engine.begin() as connection:
        connection.execute(delete(audit_entries).where(audit_entries.c.seq >= keep))
        connection.execute(delete(audit_checkpoints).where(audit_checkpoints.c.size > keep))
        if keep == 0:
            connection.execute(delete(audit_head))


@pytest.mark.parametrize("keep", [0, 4], ids=["wiped", "tail-cut"])
def test_wiped_or_cut_log_fails_against_an_outside_checkpoint(
    tmp_path: Path, database_url: str, keep: int
) -> None:
    vault, kept = populated(tmp_path, database_url)
    try:
        assert vault.audit.verify(vault.engine, full=True).ok
        wipe(vault, keep)
        shutil.rmtree(tmp_path / "cp")  # the attacker also cleared the published copies
        if keep:
            with vault.engine.begin() as connection:  # ... and rewound the head to match
                tree = vault.audit.leaf_hashes(vault.engine)
                builder = merkle.TreeBuilder()
                builder.extend(tree)
                connection.execute(
                    audit_head.update().values(
                        size=builder.size,
                        frontier=b"".join(builder.subtrees),
                        last_leaf=tree[-1],
                    )
                )
        alone = vault.audit.verify(vault.engine, full=True)
        outside = parse_note(kept.read_text(), vault.audit.public_key)
        against = vault.audit.verify(vault.engine, full=True, outside=outside)
    finally:
        vault.close()
    assert not against.ok
    assert against.problem is not None
    assert against.problem.kind == "truncated"
    assert "outside the database" in against.problem.message
    if keep == 0:  # an empty log in a store that holds subjects fails on its own too
        assert alone.problem is not None
        assert alone.problem.kind == "wiped"
    else:
        assert alone.ok  # a consistent, shorter log: only the outside checkpoint shows the cut


def test_cli_verify_with_checkpoint_refuses_a_wiped_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--subjects", "3", "--data-dir", str(data)]).exit_code == 0
    kept = tmp_path / "kept.checkpoint"
    shutil.copy(data / "checkpoints" / "checkpoint", kept)
    vault = open_vault(f"sqlite:///{data / 'pledge.sqlite3'}", data / "master.key", sequencer=False)
    try:
        wipe(vault, 0)
    finally:
        vault.close()
    shutil.rmtree(data / "checkpoints")
    args = ["audit", "verify", "--json", "--data-dir", str(data), "--checkpoint", str(kept)]
    result = runner.invoke(app, args)
    assert result.exit_code == 5, result.output
    assert '"truncated"' in result.output
    bad = tmp_path / "bad.checkpoint"
    bad.write_text(kept.read_text().replace("\n", "\n\n", 1))
    result = runner.invoke(app, [*args[:-1], str(bad)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_verification_is_incremental_and_full_rereads(tmp_path: Path, database_url: str) -> None:
    vault, _kept = populated(tmp_path, database_url)
    try:
        first = vault.audit.verify(vault.engine)
        queue_records(vault, 3, "more")
        second = vault.audit.verify(vault.engine)
        assert (first.ok, second.ok) == (True, True)
        assert (second.entries, second.read) == (first.entries + 3, 3)
        with vault.engine.begin() as connection:  # an entry edited behind the last run
            old = connection.execute(
                select(audit_entries.c.entry).where(audit_entries.c.seq == 1)
            ).scalar_one()
            connection.execute(
                audit_entries.update()
                .where(audit_entries.c.seq == 1)
                .values(entry=old.replace(b"support", b"SUPPORT"))
            )
        assert vault.audit.verify(vault.engine).ok  # not read again: that is what --full is for
        full = vault.audit.verify(vault.engine, full=True)
        assert full.problem is not None
        assert full.problem.kind == "altered"
    finally:
        vault.close()


def test_verify_checks_the_queue(tmp_path: Path, database_url: str) -> None:
    vault = open_vault(database_url, tmp_path / "master.key", sequencer=False)
    try:
        queue_records(vault, 2, "x")
        vault.audit.sync()
        with vault.engine.begin() as connection:
            integrated = connection.execute(select(audit_entries).limit(1)).one()
            connection.execute(  # a leaf put back in the queue would be integrated twice
                audit_queue.insert().values(
                    id=integrated.queue_id, subject_ref=None, body=b"{}", queued_at=0.0
                )
            )
        # The sequencer refuses the batch (its queue id is taken) and verify names the leaf.
        with pytest.raises(sqlalchemy.exc.IntegrityError):  # the unique index refuses it
            vault.audit.sequencer.integrate()
        problem = vault.audit.verify(vault.engine, full=True).problem
        assert problem is not None
        assert problem.kind == "queue_integrated"
        with vault.engine.begin() as connection:
            connection.execute(delete(audit_queue))
            connection.execute(
                audit_queue.insert().values(subject_ref=None, body=b"not json", queued_at=0.0)
            )
        problem = vault.audit.verify(vault.engine, full=True).problem
        assert problem is not None
        assert problem.kind == "queue_malformed"
    finally:
        with vault.engine.begin() as connection:
            connection.execute(delete(audit_queue))
        vault.close()


def test_a_checkpoint_of_another_log_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    vault = open_vault(url, tmp_path / "master.key")
    other = open_vault(f"sqlite:///{tmp_path / 'b' / 'b.sqlite3'}", tmp_path / "other.key")
    try:
        queue_records(other, 1, "x")
        other.audit.sync()
        note = (tmp_path / "b" / "checkpoints" / "checkpoint").read_text()
        with pytest.raises(InputError, match="no signature by this log's key"):
            parse_note(note, vault.audit.public_key)
    finally:
        vault.close()
        other.close()


# --- a sequencer killed at random points -------------------------------------------------------


def _integrate_forever(url: str, key: str, directory: str, ready: Any) -> None:
    engine = open_engine(url)
    secrets = load_secrets(engine, LocalKeyFileProvider(Path(key)))
    log = AuditLog(engine, secrets.signing_key, Path(directory), clock=lambda: "t", batch_size=3)

    @event.listens_for(engine, "before_cursor_execute")
    def slow_batches(*args: Any) -> None:
        time.sleep(0.005)  # every batch spends a while inside its transaction: room to die in

    ready.set()
    while True:
        log.sequencer.integrate()


def test_sequencer_killed_at_random_points_loses_nothing(tmp_path: Path, database_url: str) -> None:
    key = tmp_path / "master.key"
    producer = open_vault(database_url, key, sequencer=False, checkpoint_dir=tmp_path / "cp")
    context = multiprocessing.get_context("fork")
    rng = random.Random(20)
    queued: list[int] = []
    sizes, queued_then = [], []
    try:
        for _ in range(20):
            queued += queue_records(producer, 12, "kill")
            queued_then.append(len(queued))
            # No open SQLite connection may cross a fork (SQLite's rule): the pool keeps some.
            producer.engine.dispose()
            ready = context.Event()
            child = context.Process(
                target=_integrate_forever,
                args=(database_url, str(key), str(tmp_path / "cp"), ready),
            )
            child.start()
            assert ready.wait(30)
            before, deadline = len(log_rows(producer)), time.monotonic() + 30
            while len(log_rows(producer)) == before and time.monotonic() < deadline:
                time.sleep(0.002)  # it is integrating: now kill it somewhere in the midst
            time.sleep(rng.uniform(0.0, 0.04))
            os.kill(child.pid or 0, signal.SIGKILL)
            child.join()
            sizes.append(len(log_rows(producer)))
        producer.audit.sync()
        rows = log_rows(producer)
        verification = producer.audit.verify(producer.engine, full=True)
    finally:
        producer.close()
    assert all(b > a for a, b in itertools.pairwise(sizes)), sizes  # each made progress
    # and some were killed with work left (which rounds is up to the scheduler)
    assert any(size < total for size, total in zip(sizes, queued_then, strict=True)), sizes
    assert [r.seq for r in rows] == list(range(len(queued)))
    assert [r.queue_id for r in rows] == queued  # each leaf once, in the order queued
    assert verification.ok, verification.problem


# --- takeover across processes ("nodes") -----------------------------------------------------


def _node(url: str, key: str, name: str, folder: str) -> None:
    """A node: its own Vault (so its own sequencer), collecting and reading in a loop, noting
    what it was told succeeded and whether it is the sequencer."""
    vault = open_vault(url, Path(key), max_wait=0.2, batch_size=4)
    base = Path(folder)
    done = open(base / f"{name}.done", "a", buffering=1)  # noqa: SIM115
    i = 0
    while not (base / "stop").exists():
        s = vault.collect("registration", {"name": "N", "email": f"{name}{i}@ex.org"}, age=30)
        vault.read(s.subject, SUPPORT, "support")
        done.write(f"{s.subject}\n")
        (base / f"{name}.holding").write_text(str(vault.audit.sequencer.holding))
        i += 1
    vault.close()


def holding(folder: Path, name: str) -> bool:
    path = folder / f"{name}.holding"
    return path.exists() and path.read_text() == "True"


def test_another_node_takes_over_when_the_sequencer_dies(tmp_path: Path, database_url: str) -> None:
    key = tmp_path / "master.key"
    open_vault(database_url, key, sequencer=False).close()  # schema and secrets, once
    context = multiprocessing.get_context("fork")
    nodes = {
        name: context.Process(target=_node, args=(database_url, str(key), name, str(tmp_path)))
        for name in ("a", "b")
    }
    for process in nodes.values():
        process.start()
    try:
        deadline = time.monotonic() + 30
        while not any(holding(tmp_path, n) for n in nodes):
            assert time.monotonic() < deadline, "no node became the sequencer"
            time.sleep(0.05)
        holder = next(n for n in nodes if holding(tmp_path, n))
        other = next(n for n in nodes if n != holder)
        time.sleep(0.3)
        os.kill(nodes[holder].pid or 0, signal.SIGKILL)  # mid-batch or between: either way
        nodes[holder].join()
        while not holding(tmp_path, other):
            assert time.monotonic() < deadline + 30, "the other node never took over"
            time.sleep(0.05)
        time.sleep(0.3)
        (tmp_path / "stop").write_text("")
        nodes[other].join(timeout=30)
        assert nodes[other].exitcode == 0
    finally:
        for process in nodes.values():
            if process.is_alive():
                process.kill()
    vault = open_vault(database_url, key, sequencer=False)
    try:
        vault.audit.sync()
        verification = vault.audit.verify(vault.engine, full=True)
        with vault.engine.connect() as connection:
            counts = dict(
                connection.execute(
                    select(audit_entries.c.subject_ref, func.count()).group_by(
                        audit_entries.c.subject_ref
                    )
                ).all()
            )
            queued_ids = connection.execute(select(audit_entries.c.queue_id)).scalars().all()
        told = {n: (tmp_path / f"{n}.done").read_text().split() for n in nodes}
    finally:
        vault.close()
    assert verification.ok, verification.problem
    assert len(queued_ids) == len(set(queued_ids))
    # Every collection and read the survivor was told about is in the log exactly once
    # (collect + read); the killed node's too, but for the one it may have died inside.
    for subject in told[other]:
        assert counts[vault.subject_ref(subject)] == 2
    for subject in told[holder]:
        assert counts[vault.subject_ref(subject)] == 2
    assert len(told[other]) > 0
    assert len(told[holder]) > 0


# --- publishing by HTTP ---------------------------------------------------------------------


def test_each_checkpoint_is_posted_to_the_configured_url(tmp_path: Path) -> None:
    import http.server

    received: list[bytes] = []

    class Witness(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Witness)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/checkpoints"
    vault = open_vault(
        f"sqlite:///{tmp_path / 'p.sqlite3'}", tmp_path / "k", sequencer=False, checkpoint_url=url
    )
    try:
        for n in (2, 3):
            queue_records(vault, n, "posted")
            vault.audit.sync()
        public, origin = vault.audit.public_key.public_bytes_raw(), vault.audit.origin
    finally:
        vault.close()
        server.shutdown()
        server.server_close()
    assert [c2sp_verify(note.decode(), origin, public)[1] for note in received] == [2, 5]
    with pytest.raises(InputError, match="http"):
        open_vault(
            f"sqlite:///{tmp_path / 'q.sqlite3'}", tmp_path / "k", checkpoint_url="file:///x"
        )
