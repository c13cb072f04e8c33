"""Local fakes of third-party services for tests that need real HTTP (see ``robots``)."""
