"""Renderings of domain results that more than one driver needs, free of any framework."""
