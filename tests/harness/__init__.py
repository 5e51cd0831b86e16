"""Test harness: real servers on loopback threads and fake model providers."""
