"""The audit log's Merkle tree and checkpoints, against published vectors and by property."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from pledge.errors import InputError
from pledge.store.audit.checkpoint import parse_note, sign_checkpoint, verify_checkpoint
from pledge.store.audit.merkle import (
    EMPTY_ROOT,
    SubtreeCache,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)


def h(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string)


# Test vectors copied from github.com/transparency-dev/merkle (Apache-2.0):
# testonly/constants.go (LeafInputs, RootHashes), rfc6962/rfc6962_test.go (hasher vectors)
# and proof/verify_test.go (inclusionProofs, consistencyProofs; leaf numbers there are
# 1-based, indices here are 0-based).
LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
ROOTS_BY_SIZE = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
INCLUSION_VECTORS = [  # (index, size, proof)
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY_VECTORS = [  # (old_size, new_size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
LEAF_HASHES = [leaf_hash(entry) for entry in LEAF_INPUTS]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def flip_bit(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8 % len(data)] ^= 1 << bit % 8
    return bytes(flipped)


# --- Published vectors ---------------------------------------------------------------------


def test_hashes_match_rfc6962_vectors() -> None:
    assert ROOTS_BY_SIZE[0] == EMPTY_ROOT
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456") == h(
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456") == h(
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(len(ROOTS_BY_SIZE)))
def test_root_matches_published_roots(size: int) -> None:
    assert root(LEAF_HASHES[:size]) == ROOTS_BY_SIZE[size]


def test_builder_matches_published_roots() -> None:
    builder = TreeBuilder()
    assert builder.root() == ROOTS_BY_SIZE[0]
    for size, hashed in enumerate(LEAF_HASHES, start=1):
        builder.append(hashed)
        assert (builder.size, builder.root()) == (size, ROOTS_BY_SIZE[size])


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_matches_published_proofs(index: int, size: int, proof: list[bytes]) -> None:
    leaves = LEAF_HASHES[:size]
    assert inclusion_proof(leaves, index) == proof
    assert verify_inclusion(leaves[index], index, size, proof, ROOTS_BY_SIZE[size])


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_rejects_mangled_published_proofs(
    index: int, size: int, proof: list[bytes]
) -> None:
    leaf, tree_root = LEAF_HASHES[index], ROOTS_BY_SIZE[size]
    mangled = [[*proof, b""], [*proof, tree_root], [b"", *proof], [tree_root, *proof]]
    if proof:
        mangled.append(proof[:-1])
    for bad in mangled:
        assert not verify_inclusion(leaf, index, size, bad, tree_root)
    assert not verify_inclusion(b"WrongLeaf", index, size, proof, tree_root)
    assert not verify_inclusion(leaf, index, size, proof, EMPTY_ROOT)
    assert not verify_inclusion(leaf, index, size, proof, SOME_HASH)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proof_is_bound_to_its_tree_size(
    index: int, size: int, proof: list[bytes]
) -> None:
    leaf, tree_root = LEAF_HASHES[index], ROOTS_BY_SIZE[size]
    for claimed_size in (size * 2, size // 2):
        if index < claimed_size:
            assert not verify_inclusion(leaf, index, claimed_size, proof, tree_root)


def test_inclusion_proof_cannot_be_replayed_in_a_subtree() -> None:
    # Leaves 4..7 form a perfect subtree of the size-8 tree: leaf 4 is also "index 0 of a tree
    # of 4" from the proof's point of view, unless the verifier stops once the tree is exhausted.
    proof = inclusion_proof(LEAF_HASHES, 4)
    assert verify_inclusion(LEAF_HASHES[4], 4, 8, proof, ROOTS_BY_SIZE[8])
    assert not verify_inclusion(LEAF_HASHES[4], 0, 4, proof, ROOTS_BY_SIZE[8])


@pytest.mark.parametrize(("old_size", "new_size", "proof"), CONSISTENCY_VECTORS)
def test_consistency_matches_published_proofs(
    old_size: int, new_size: int, proof: list[bytes]
) -> None:
    old_root, new_root = ROOTS_BY_SIZE[old_size], ROOTS_BY_SIZE[new_size]
    assert consistency_proof(LEAF_HASHES[:new_size], old_size) == proof
    assert verify_consistency(old_size, new_size, old_root, new_root, proof)


@pytest.mark.parametrize(("old_size", "new_size", "proof"), CONSISTENCY_VECTORS[1:])
def test_consistency_rejects_mangled_published_proofs(
    old_size: int, new_size: int, proof: list[bytes]
) -> None:
    old_root, new_root = ROOTS_BY_SIZE[old_size], ROOTS_BY_SIZE[new_size]
    mangled = [[], proof[:-1], [*proof, b""], [*proof, old_root], [b"", *proof]]
    mangled += [[old_root, *proof], [new_root, *proof], [proof[0], *proof]]
    for bad in mangled:
        assert not verify_consistency(old_size, new_size, old_root, new_root, bad)
    assert not verify_consistency(old_size, new_size, new_root, old_root, proof)
    assert not verify_consistency(old_size, new_size, b"WrongRoot", new_root, proof)
    assert not verify_consistency(old_size, new_size, old_root, b"WrongRoot", proof)


@pytest.mark.parametrize(("old_size", "new_size", "proof"), CONSISTENCY_VECTORS[1:])
def test_consistency_proof_is_bound_to_its_tree_sizes(
    old_size: int, new_size: int, proof: list[bytes]
) -> None:
    old_root, new_root = ROOTS_BY_SIZE[old_size], ROOTS_BY_SIZE[new_size]
    claims = [(old_size - 1, new_size), (old_size + 1, new_size), (old_size ^ 2, new_size)]
    claims += [(old_size, new_size * 2), (old_size, new_size // 2)]
    for claimed_old, claimed_new in claims:
        if claimed_old <= claimed_new:
            assert not verify_consistency(claimed_old, claimed_new, old_root, new_root, proof)


def test_consistency_proof_cannot_be_replayed_in_a_subtree() -> None:
    # From 7 to 8 entries, only leaves 4..7 change: the same proof read as "from 3 to 4"
    # reproduces both roots unless the verifier stops once the new tree is exhausted.
    proof = consistency_proof(LEAF_HASHES, 7)
    assert verify_consistency(7, 8, ROOTS_BY_SIZE[7], ROOTS_BY_SIZE[8], proof)
    assert not verify_consistency(3, 4, ROOTS_BY_SIZE[7], ROOTS_BY_SIZE[8], proof)


# --- Against the RFC's recursive definitions ------------------------------------------------


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """MTH from RFC 9162 section 2.1.1, transcribed as literally as possible."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def reference_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH from RFC 9162 section 2.1.3.1."""
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if index < k:
        return [*reference_path(index, leaves[:k]), reference_root(leaves[k:])]
    return [*reference_path(index - k, leaves[k:]), reference_root(leaves[:k])]


def reference_subproof(old_size: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF from RFC 9162 section 2.1.4.1."""
    if old_size == len(leaves):
        return [] if complete else [reference_root(leaves)]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if old_size <= k:
        return [*reference_subproof(old_size, leaves[:k], complete), reference_root(leaves[k:])]
    return [*reference_subproof(old_size - k, leaves[k:], False), reference_root(leaves[:k])]


SMALL_LEAVES = [leaf_hash(i.to_bytes(2, "big")) for i in range(40)]


@pytest.mark.parametrize("size", range(len(SMALL_LEAVES) + 1))
def test_root_and_proofs_match_rfc_definitions(size: int) -> None:
    leaves = SMALL_LEAVES[:size]
    assert root(leaves) == reference_root(leaves)
    for index in range(size):
        assert inclusion_proof(leaves, index) == reference_path(index, leaves)
    for old_size in range(1, size):
        assert consistency_proof(leaves, old_size) == reference_subproof(old_size, leaves, True)


def test_root_of_a_large_unbalanced_tree() -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(1000)]
    assert root(leaves) == reference_root(leaves)


# --- Properties -----------------------------------------------------------------------------

# Entries are unique: with a repeated entry, a proof for one copy is a valid proof for the other.
leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70, unique=True).map(
    lambda entries: [leaf_hash(entry) for entry in entries]
)


@given(leaves=leaf_lists, data=st.data())
def test_inclusion_proofs_verify(leaves: list[bytes], data: st.DataObject) -> None:
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(leaves, index)
    assert verify_inclusion(leaves[index], index, size, proof, root(leaves))


@given(leaves=leaf_lists, data=st.data())
def test_inclusion_fails_for_a_flipped_leaf(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = inclusion_proof(leaves, index)
    bad_leaf = flip_bit(leaves[index], data.draw(st.integers(0, 255)))
    assert not verify_inclusion(bad_leaf, index, len(leaves), proof, root(leaves))


@given(leaves=leaf_lists.filter(lambda leaves: len(leaves) > 1), data=st.data())
def test_inclusion_fails_for_a_flipped_proof(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = inclusion_proof(leaves, index)
    at = data.draw(st.integers(0, len(proof) - 1))
    proof[at] = flip_bit(proof[at], data.draw(st.integers(0, 255)))
    assert not verify_inclusion(leaves[index], index, len(leaves), proof, root(leaves))


@given(leaves=leaf_lists, data=st.data())
def test_inclusion_fails_for_a_flipped_index(leaves: list[bytes], data: st.DataObject) -> None:
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(leaves, index)
    other = index ^ (1 << data.draw(st.integers(0, size.bit_length() - 1)))
    if other < size:
        assert not verify_inclusion(leaves[index], other, size, proof, root(leaves))
    else:
        with pytest.raises(InputError):
            verify_inclusion(leaves[index], other, size, proof, root(leaves))


@given(leaves=leaf_lists, data=st.data())
def test_consistency_proofs_verify(leaves: list[bytes], data: st.DataObject) -> None:
    old_size = data.draw(st.integers(0, len(leaves)))
    proof = consistency_proof(leaves, old_size)
    old_root, new_root = root(leaves[:old_size]), root(leaves)
    assert verify_consistency(old_size, len(leaves), old_root, new_root, proof)


@given(leaves=leaf_lists, data=st.data())
def test_consistency_fails_for_another_old_root(leaves: list[bytes], data: st.DataObject) -> None:
    old_size = data.draw(st.integers(0, len(leaves)))
    proof = consistency_proof(leaves, old_size)
    bad_root = flip_bit(root(leaves[:old_size]), data.draw(st.integers(0, 255)))
    assert not verify_consistency(old_size, len(leaves), bad_root, root(leaves), proof)


@given(leaves=leaf_lists, data=st.data())
def test_consistency_fails_for_a_rewritten_history(
    leaves: list[bytes], data: st.DataObject
) -> None:
    old_size = data.draw(st.integers(1, len(leaves)))
    rewritten = list(leaves)
    at = data.draw(st.integers(0, old_size - 1))
    rewritten[at] = flip_bit(rewritten[at], data.draw(st.integers(0, 255)))
    proof = consistency_proof(rewritten, old_size)
    old_root = root(leaves[:old_size])
    assert not verify_consistency(old_size, len(leaves), old_root, root(rewritten), proof)


@given(leaves=leaf_lists.filter(lambda leaves: len(leaves) > 1), data=st.data())
def test_consistency_fails_for_a_flipped_proof(leaves: list[bytes], data: st.DataObject) -> None:
    old_size = data.draw(st.integers(1, len(leaves) - 1))
    proof = consistency_proof(leaves, old_size)
    at = data.draw(st.integers(0, len(proof) - 1))
    proof[at] = flip_bit(proof[at], data.draw(st.integers(0, 255)))
    old_root, new_root = root(leaves[:old_size]), root(leaves)
    assert not verify_consistency(old_size, len(leaves), old_root, new_root, proof)


@given(leaves=st.lists(st.binary(min_size=32, max_size=32), max_size=130))
def test_builder_matches_root_for_every_prefix(leaves: list[bytes]) -> None:
    builder = TreeBuilder()
    for size, hashed in enumerate(leaves, start=1):
        builder.append(hashed)
        assert builder.size == size
        assert builder.root() == root(leaves[:size])


# --- Edge cases and wrong arguments -----------------------------------------------------------


def test_empty_and_equal_logs_need_no_proof() -> None:
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 8, EMPTY_ROOT, ROOTS_BY_SIZE[8], [])
    assert verify_consistency(8, 8, ROOTS_BY_SIZE[8], ROOTS_BY_SIZE[8], [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, SOME_HASH, [])
    assert not verify_consistency(0, 8, SOME_HASH, ROOTS_BY_SIZE[8], [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, ROOTS_BY_SIZE[8], [EMPTY_ROOT])
    assert not verify_consistency(8, 8, ROOTS_BY_SIZE[8], ROOTS_BY_SIZE[8], [EMPTY_ROOT])
    assert not verify_consistency(8, 8, ROOTS_BY_SIZE[7], ROOTS_BY_SIZE[8], [])


@pytest.mark.parametrize(
    "call",
    [
        lambda: inclusion_proof([], 0),
        lambda: inclusion_proof(LEAF_HASHES, -1),
        lambda: inclusion_proof(LEAF_HASHES, 8),
        lambda: verify_inclusion(LEAF_HASHES[0], 1, 1, [], ROOTS_BY_SIZE[1]),
        lambda: verify_inclusion(LEAF_HASHES[0], 0, 0, [], EMPTY_ROOT),
        lambda: verify_inclusion(LEAF_HASHES[0], -1, 4, [], ROOTS_BY_SIZE[4]),
        lambda: consistency_proof(LEAF_HASHES, 9),
        lambda: consistency_proof(LEAF_HASHES, -1),
        lambda: verify_consistency(5, 4, ROOTS_BY_SIZE[5], ROOTS_BY_SIZE[4], []),
        lambda: verify_consistency(-1, 4, EMPTY_ROOT, ROOTS_BY_SIZE[4], []),
    ],
)
def test_impossible_arguments_raise_input_error(call: Callable[[], object]) -> None:
    with pytest.raises(InputError, match=r"log of -?\d+ entries"):
        call()


# --- Checkpoints ----------------------------------------------------------------------------

ORIGIN = "example.org/log"


@pytest.fixture
def private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_checkpoint_signs_the_c2sp_body(private_key: Ed25519PrivateKey) -> None:
    cp = sign_checkpoint(private_key, ORIGIN, 8, ROOTS_BY_SIZE[8])
    assert cp.body() == b"example.org/log\n8\n" + base64.b64encode(ROOTS_BY_SIZE[8]) + b"\n"
    assert verify_checkpoint(private_key.public_key(), cp)
    assert parse_note(cp.note(private_key.public_key()), private_key.public_key()) == cp


@pytest.mark.parametrize(
    "change",
    [
        {"size": 7},
        {"root": ROOTS_BY_SIZE[7]},
        {"origin": "example.org/other"},
        {"signature": bytes(64)},
        {"signature": b""},
    ],
)
def test_checkpoint_fails_when_altered(
    private_key: Ed25519PrivateKey, change: dict[str, Any]
) -> None:
    cp = sign_checkpoint(private_key, ORIGIN, 8, ROOTS_BY_SIZE[8])
    assert not verify_checkpoint(private_key.public_key(), dataclasses.replace(cp, **change))


def test_checkpoint_fails_under_another_key(private_key: Ed25519PrivateKey) -> None:
    cp = sign_checkpoint(private_key, ORIGIN, 8, ROOTS_BY_SIZE[8])
    other = Ed25519PrivateKey.generate().public_key()
    assert not verify_checkpoint(other, cp)
    with pytest.raises(InputError, match="no signature by this log's key"):
        parse_note(cp.note(private_key.public_key()), other)


def test_an_edited_note_is_refused(private_key: Ed25519PrivateKey) -> None:
    note = sign_checkpoint(private_key, ORIGIN, 8, ROOTS_BY_SIZE[8]).note(private_key.public_key())
    with pytest.raises(InputError, match="does not verify"):
        parse_note(note.replace("\n8\n", "\n9\n"), private_key.public_key())
    for hostile in ("", "\n\n", "x\n1\n!!\n\n", note.replace("\u2014", "-")):
        with pytest.raises(InputError, match="checkpoint"):
            parse_note(hostile, private_key.public_key())


@pytest.mark.parametrize(
    ("origin", "size", "tree_root"),
    [
        (ORIGIN, -1, EMPTY_ROOT),
        (ORIGIN, True, EMPTY_ROOT),
        (ORIGIN, 0, b"short"),
        ("", 0, EMPTY_ROOT),
        ("has space", 0, EMPTY_ROOT),
        ("new\nline", 0, EMPTY_ROOT),
    ],
)
def test_malformed_checkpoints_are_refused(
    private_key: Ed25519PrivateKey, origin: str, size: int, tree_root: bytes
) -> None:
    with pytest.raises(InputError, match="checkpoint"):
        sign_checkpoint(private_key, origin, size, tree_root)


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=70), st.data())
def test_extend_gives_the_same_tree_as_appending(leaves: list[bytes], data: st.DataObject) -> None:
    tree, done = TreeBuilder(), 0
    while done < len(leaves):
        step = data.draw(st.integers(1, len(leaves) - done))
        tree.extend(leaves[done : done + step])
        done += step
    assert (tree.size, tree.root()) == (len(leaves), root(leaves))


@pytest.mark.parametrize("chunk", [1, 4, 256])
@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 255, 256, 257, 1000, 1024, 1500])
def test_a_cached_inclusion_proof_is_the_rfc_one_and_reads_few_leaves(
    size: int, chunk: int
) -> None:
    leaves = [leaf_hash(b"entry %d" % i) for i in range(size)]
    reads: list[int] = []

    def load(low: int, high: int) -> list[bytes]:
        reads.append(high - low)
        return leaves[low:high]

    cache = SubtreeCache(load, chunk=chunk)
    for index in sorted({0, size // 3, size // 2, size - 1}):
        assert cache.inclusion_proof(index, size) == inclusion_proof(leaves, index)
    reads.clear()
    index = size - 1 - size // 4
    assert cache.inclusion_proof(index, size) == inclusion_proof(leaves, index)
    assert sum(reads) <= 3 * chunk + 64  # warm: a chunk and the ragged edge, not the log
