"""Fill the perceptual hash of photos stored before fingerprints existed, in batches, and flag
the duplicates among them as an upload would."""

from django.core.management.base import BaseCommand

from inspections.photo_checks import fingerprint_missing


class Command(BaseCommand):
    help = "为尚无感知哈希的照片补算指纹（分批），并标记疑似重复。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--limit", type=int, default=None)

    def handle(self, *args, batch_size, limit, **options):
        done = fingerprint_missing(batch_size=batch_size, limit=limit)
        self.stdout.write(f"已补算 {done} 张照片的指纹。")
