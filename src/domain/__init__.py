"""Entities, value objects and rules of Scribe. Imports nothing outside the standard library."""
