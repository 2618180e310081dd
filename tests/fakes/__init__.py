"""Fake upstream services (LLM providers, YouTube) served on loopback, speaking the real wire formats."""
