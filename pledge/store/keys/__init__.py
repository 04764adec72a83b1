"""Keys: master-key providers (``providers``), the data-key store kept apart from the
database, and the erasure ledger beside it (``datakeys``)."""

from pledge.store.keys.datakeys import DataKeyStore, default_key_store_url
from pledge.store.keys.providers import (
    MASTER_KEY_BYTES,
    EnvKeyProvider,
    KeyProvider,
    LocalKeyFileProvider,
    key_fingerprint,
    rotate,
)

__all__ = [
    "MASTER_KEY_BYTES",
    "DataKeyStore",
    "EnvKeyProvider",
    "KeyProvider",
    "LocalKeyFileProvider",
    "default_key_store_url",
    "key_fingerprint",
    "rotate",
]
