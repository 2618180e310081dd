"""The master keyring that seals users' provider keys, as the settings describe it."""

from __future__ import annotations

from infrastructure.bootstrap.settings import ConfigError, Settings
from infrastructure.security.secret_box import DEV_KEY_VERSION, AesGcmSecretBox, derived_dev_key


def secret_box_from_settings(settings: Settings) -> AesGcmSecretBox:
    """The configured keyring; outside staging and production, a key derived from the secret key (version "dev")
    is also kept, oldest: without a keyring it serves the embedded default, and once one is configured the keys it
    sealed stay readable until `scribe keys rotate` moves them to the new version."""
    keyring = settings.encryption_keyring()
    if settings.is_deployed:
        if not keyring:
            raise ConfigError(f"SCRIBE_ENCRYPTION_KEYS must be set in {settings.env}")
        return AesGcmSecretBox(keyring)
    return AesGcmSecretBox({**keyring, DEV_KEY_VERSION: derived_dev_key(settings.secret_key)})
