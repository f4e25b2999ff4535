"""The fault-injection suite: a flaky network, a killed relay, a full disk, attackers.

Every test here is marked ``fault`` (and the long ones ``slow``), so the quick
loop skips them with ``-m "not slow and not fault"``; CI runs them all. Each
numbered problem of issue 11 has a test here that failed before its fix.

How tests reach a relay lives in one place, ``tests/fault/support.py``
(``relay_url``, ``serve_argv``, ``start_relay``, ``new_client``): plain
``ws://``, as behind a TLS-terminating proxy.
"""
