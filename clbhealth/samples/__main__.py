"""python -m clbhealth.samples [DIR]: write the sample CLB (default data/samples)."""

import sys
from pathlib import Path

from clbhealth.samples.generator import build_samples

target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/samples")
for path in build_samples(target):
    print(path)
