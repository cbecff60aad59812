"""`python manage.py bench --scale city|megacity`: the benchmark a reviewer can rerun.

Generates the data set in a dedicated PostgreSQL database whose name ends in `_bench` (created
when missing), then measures the roll-up, publish, the 周通报, every daily page, submissions and the
points import side by side, each with a floor measured in the same run. See bench/city_bench.py
and docs/benchmarks.md ("How to run")."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "城市规模基准测试（PostgreSQL，数据库名须以 _bench 结尾）/ the city-scale benchmark"
    # No system checks: they would open the database before the guard has looked at its name.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            default="city",
            choices=("city", "megacity", "smoke"),
            help="city: 26 weeks, 3,404 units, 20,000 points; megacity: 104 weeks, 100 departments (≈ 2 M "
            "observations). (smoke: a tiny city, for trying the command out)",
        )
        parser.add_argument("--reuse", action="store_true", help="keep an existing data set of this scale")
        parser.add_argument(
            "--keep", action="store_true", help="keep what the measurements created (versions, files, round…)"
        )
        parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median is reported)")
        parser.add_argument("--requests", type=int, default=10, help="timed requests per page after a warm-up")
        parser.add_argument("--only", default="", help="only the figures whose name contains this text")
        parser.add_argument("--port", type=int, default=8720, help="first port for the submission servers")
        parser.add_argument("--submit-seconds", type=float, default=20.0, help="how long each submission load runs")
        parser.add_argument("--no-write", dest="write", action="store_false", help="write no results or docs")

    def handle(self, *args, **options):
        from bench import city_bench

        try:
            city_bench.check_database()
        except city_bench.Refused as exc:
            raise CommandError(str(exc)) from None
        if options["runs"] < 1 or options["requests"] < 1:
            raise CommandError("--runs 和 --requests 至少为 1。/ --runs and --requests must be at least 1.")
        city_bench.ensure_database()
        city_bench.run(
            scale=options["scale"],
            reuse=options["reuse"],
            keep=options["keep"],
            runs=options["runs"],
            only=options["only"],
            requests=options["requests"],
            port=options["port"],
            submit_seconds=options["submit_seconds"],
            write=options["write"] and options["scale"] != "smoke",
        )
