"""Fictional pupils on real school sites: the seeded generator behind data/samples, the benchmark
instances and regions.

May import: imports, exports, scheduler, protocols (its own floor, without circles), workspace,
readers, core.
"""
