"""The ``guestdbg`` command: ``main`` (the parser and dispatch; each command
imports only what it needs, so ``guestdbg kernlog`` starts fast),
``guest_options`` (which guest to boot), ``suite_options`` (the suite's
options for ``run`` and ``nightly``), ``boot``, ``run``, ``nightly``, ``repro``.
"""
