"""Response shapes more than one driver gives (HTTP, CLI, worker), free of any web framework."""
