"""The command line: the one place that composes the relay and the clients."""
