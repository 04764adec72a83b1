"""Master-key providers: key file lifecycle, wrong-key detection, rotation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from pledge.errors import IntegrityError, MasterKeyError
from pledge.store.crypto import new_data_key
from pledge.store.keys import (
    EnvKeyProvider,
    KeyProvider,
    LocalKeyFileProvider,
    key_fingerprint,
    rotate,
)


def _b64_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_wrap_round_trip(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "master.key", create=True)
    data_key = new_data_key()
    wrapped = provider.wrap(data_key)
    assert data_key not in wrapped
    assert provider.unwrap(wrapped) == data_key


def test_key_file_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = LocalKeyFileProvider(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text())) == 32
    assert list(tmp_path.iterdir()) == [path]

    second = LocalKeyFileProvider(path, create=True)
    assert second.key_id == first.key_id
    assert second.unwrap(first.wrap(b"k" * 32)) == b"k" * 32


def test_key_id_is_a_fingerprint_not_the_key(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    provider = LocalKeyFileProvider(path, create=True)
    key = base64.b64decode(path.read_text())
    assert provider.key_id == key_fingerprint(key)
    assert len(provider.key_id) == 16
    assert provider.key_id not in (key.hex(), path.read_text().strip())


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_group_or_world_accessible_key_file_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "master.key"
    LocalKeyFileProvider(path, create=True)
    path.chmod(mode)
    with pytest.raises(MasterKeyError) as err:
        LocalKeyFileProvider(path, create=True)
    assert f"chmod 600 {path}" in err.value.message
    assert f"{mode:04o}" in err.value.message


@pytest.mark.parametrize(
    "content",
    ["", "not base64 at all!", base64.b64encode(b"short").decode(), "00" * 32],
)
def test_malformed_key_file_refused_without_echoing_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "master.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(MasterKeyError) as err:
        LocalKeyFileProvider(path, create=True)
    assert str(path) in err.value.message
    assert "32-byte" in err.value.message
    if content:
        assert content not in err.value.message


def test_key_file_in_missing_directory_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "master.key"
    with pytest.raises(MasterKeyError, match="cannot create the master key file"):
        LocalKeyFileProvider(path, create=True)


def test_wrong_master_key_names_both_key_ids(tmp_path: Path) -> None:
    writer = LocalKeyFileProvider(tmp_path / "a.key", create=True)
    reader = LocalKeyFileProvider(tmp_path / "b.key", create=True)
    wrapped = writer.wrap(new_data_key())
    with pytest.raises(MasterKeyError) as err:
        reader.unwrap(wrapped)
    message = err.value.message
    assert "does not match" in message
    assert f"key id {writer.key_id} expected, {reader.key_id} found" in message
    assert err.value.fields == {
        "expected_key_id": writer.key_id,
        "found_key_id": reader.key_id,
    }


def test_tampered_wrapped_key_is_an_integrity_error(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "master.key", create=True)
    wrapped = bytearray(provider.wrap(new_data_key()))
    wrapped[-1] ^= 0x01
    with pytest.raises(IntegrityError, match="failed authentication"):
        provider.unwrap(bytes(wrapped))


@pytest.mark.parametrize("blob", [b"", b"\x01short", b"\x02" + b"x" * 80])
def test_malformed_wrapped_key_is_an_integrity_error(tmp_path: Path, blob: bytes) -> None:
    provider = LocalKeyFileProvider(tmp_path / "master.key", create=True)
    with pytest.raises(IntegrityError, match="unknown format"):
        provider.unwrap(blob)


def test_env_provider_round_trip_and_interoperates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "master.key"
    LocalKeyFileProvider(path, create=True)
    monkeypatch.setenv("PLEDGE_MASTER_KEY", path.read_text().strip())
    env = EnvKeyProvider()
    data_key = new_data_key()
    assert env.unwrap(env.wrap(data_key)) == data_key
    assert LocalKeyFileProvider(path, create=True).unwrap(env.wrap(data_key)) == data_key


def test_env_provider_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLEDGE_TEST_KEY", raising=False)
    with pytest.raises(MasterKeyError, match="PLEDGE_TEST_KEY is not set"):
        EnvKeyProvider("PLEDGE_TEST_KEY")


def test_env_provider_malformed_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = base64.b64encode(os.urandom(16)).decode()
    monkeypatch.setenv("PLEDGE_TEST_KEY", secret)
    with pytest.raises(MasterKeyError) as err:
        EnvKeyProvider("PLEDGE_TEST_KEY")
    assert "PLEDGE_TEST_KEY" in err.value.message
    assert secret not in err.value.message


def test_rotation_rewraps_under_new_key_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old = LocalKeyFileProvider(tmp_path / "master.key", create=True)
    monkeypatch.setenv("PLEDGE_MASTER_KEY", _b64_key())
    new: KeyProvider = EnvKeyProvider()
    data_key = new_data_key()

    rewrapped = rotate(old, new, old.wrap(data_key))

    assert new.unwrap(rewrapped) == data_key
    with pytest.raises(MasterKeyError, match=new.key_id):
        old.unwrap(rewrapped)


def test_missing_key_file_is_an_error_that_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    with pytest.raises(MasterKeyError, match="missing"):
        LocalKeyFileProvider(path)
    assert list(tmp_path.iterdir()) == []
