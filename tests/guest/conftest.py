"""The guest-debug suite in a checkout: ``pytest tests/guest -k boots_clean``
loads the plugin here, as ``guestdbg run`` does with ``-p guestdbg.pytest_plugin``
(loading it twice is harmless: pytest registers a plugin module once).
The suite options are pytest's ``--guestdbg-NAME`` (``pytest --help``)."""

pytest_plugins = ["guestdbg.pytest_plugin"]
