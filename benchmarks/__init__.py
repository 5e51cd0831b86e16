"""Overhead benchmarks for Lynkr: see benchmarks/README.md."""
