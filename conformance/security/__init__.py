"""Helpers of the `security` campaign (conformance/campaigns/security.py).

* ``canary_server``  loopback HTTP canary for SSRF probes, and the planted canary file
* ``detect``         pure oracles: did a payload run? did something leak?
* ``poisoning``      static rules over what a server publishes (poisoning, rug pull, shadowing)
* ``probes``         the deterministic, bounded probe list per injection point
"""
