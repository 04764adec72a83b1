"""Field encryption and blind indexing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pledge.errors import IntegrityError
from pledge.store.crypto import BlindIndex, SubjectCipher, new_data_key

CONTEXT = "subject 42, field email"
AAD = b"42|email"


def test_data_keys_are_fresh_and_256_bit() -> None:
    keys = {new_data_key() for _ in range(100)}
    assert len(keys) == 100
    assert {len(k) for k in keys} == {32}


def test_round_trip_hides_plaintext() -> None:
    cipher = SubjectCipher(new_data_key())
    blob = cipher.encrypt(b"alice@example.com", AAD)
    assert b"alice" not in blob
    assert blob != cipher.encrypt(b"alice@example.com", AAD)
    assert cipher.decrypt(blob, AAD, context=CONTEXT) == b"alice@example.com"


@given(plaintext=st.binary(max_size=512), aad=st.binary(max_size=64))
def test_round_trip_property(plaintext: bytes, aad: bytes) -> None:
    key = new_data_key()
    blob = SubjectCipher(key).encrypt(plaintext, aad)
    assert SubjectCipher(key).decrypt(blob, aad, context=CONTEXT) == plaintext


@pytest.mark.parametrize("position", [0, 1, 13, -1])
def test_flipped_byte_names_the_context(position: int) -> None:
    cipher = SubjectCipher(new_data_key())
    blob = bytearray(cipher.encrypt(b"secret-value", AAD))
    blob[position] ^= 0x01
    with pytest.raises(IntegrityError) as err:
        cipher.decrypt(bytes(blob), AAD, context=CONTEXT)
    assert err.value.message.startswith(CONTEXT)
    assert err.value.fields == {"context": CONTEXT}
    assert "secret-value" not in err.value.message


@pytest.mark.parametrize("other_aad", [b"43|email", b"42|phone", b""])
def test_ciphertext_moved_to_another_row_is_refused(other_aad: bytes) -> None:
    cipher = SubjectCipher(new_data_key())
    blob = cipher.encrypt(b"alice@example.com", AAD)
    with pytest.raises(IntegrityError, match="failed authentication"):
        cipher.decrypt(blob, other_aad, context="subject 43, field email")


def test_other_subjects_key_cannot_decrypt() -> None:
    blob = SubjectCipher(new_data_key()).encrypt(b"x", AAD)
    with pytest.raises(IntegrityError, match="subject 42"):
        SubjectCipher(new_data_key()).decrypt(blob, AAD, context=CONTEXT)


def test_truncated_ciphertext_is_refused() -> None:
    cipher = SubjectCipher(new_data_key())
    blob = cipher.encrypt(b"", AAD)
    with pytest.raises(IntegrityError, match="truncated"):
        cipher.decrypt(blob[:-1], AAD, context=CONTEXT)


@pytest.mark.parametrize("length", [0, 16, 24, 33])
def test_keys_of_the_wrong_length_are_rejected(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SubjectCipher(b"k" * length)
    with pytest.raises(ValueError, match="32 bytes"):
        BlindIndex(b"k" * length)


def test_email_token_ignores_case_and_surrounding_space() -> None:
    index = BlindIndex(new_data_key())
    assert index.token("email", " Alice@Example.COM ") == index.token("email", "alice@example.com")
    assert index.token("email", "alice@example.com") != index.token("email", "bob@example.com")


def test_username_token_casefolds_and_composes() -> None:
    index = BlindIndex(new_data_key())
    assert index.token("username", "STRASSE") == index.token("username", "straße")
    assert index.token("username", "Jose\u0301") == index.token("username", "jos\u00e9")


def test_other_kinds_only_strip() -> None:
    index = BlindIndex(new_data_key())
    assert index.token("phone", " +4420 ") == index.token("phone", "+4420")
    assert index.token("code", "AbC") != index.token("code", "abc")


def test_token_depends_on_kind_and_key() -> None:
    key = new_data_key()
    index = BlindIndex(key)
    token = index.token("email", "alice@example.com")
    assert BlindIndex(key).token("email", "alice@example.com") == token
    assert BlindIndex(new_data_key()).token("email", "alice@example.com") != token
    assert index.token("username", "alice@example.com") != token
    assert "alice" not in token


def test_pseudonym_is_stable_and_unlike_the_index_token() -> None:
    key = new_data_key()
    index = BlindIndex(key)
    value = "alice@example.com"
    assert index.pseudonym(value) == BlindIndex(key).pseudonym(value)
    assert index.pseudonym(value) != BlindIndex(new_data_key()).pseudonym(value)
    assert index.pseudonym(value) != index.token("email", value)
    assert index.pseudonym(value) != index.pseudonym("bob@example.com")
