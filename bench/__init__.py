"""Benchmarks: the city-scale data set generator, the page, submission and import timings, and
`manage.py bench` (bench/city_bench.py), which runs them side by side. See docs/benchmarks.md."""
