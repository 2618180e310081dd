"""Use cases (one class each) and the ports they need. Imports the domain only."""
