"""The built-in testbed: real DNS, HTTPS and SMTP servers on loopback playing mail domains.

Used by the tests (tests/conftest.py), `mtasts demo` and the benchmarks. Start
with `bed.Testbed` and the catalogue in `scenarios`; behaviours are data in
`behaviour`, and `scenario.make()` / `scenario.healthy_domain()` build more.
Needs the `demo` extra (dnslib, trustme, aiosmtpd).
"""
