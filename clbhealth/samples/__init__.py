"""Fictional pupils on real school sites: the seeded generator behind data/samples and the benchmarks."""
