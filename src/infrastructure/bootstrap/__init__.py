"""The composition root: the one place that reads settings and decides which adapters serve which ports.

- `settings`: SCRIBE_* variables over config/<env>.toml, validated into one `Settings`.
- `catalog`: the AI providers this server offers (from settings), and the default chain.
- `keyring`: the master keys that seal users' provider keys.
- `container`: the dishka container factory used by the web app, the CLI (and the worker): adapter providers built
  from settings, and the use-case provider.

Adapters (everything else under infrastructure/) take plain parameters and never import this package; an
import-linter contract keeps it so."""
