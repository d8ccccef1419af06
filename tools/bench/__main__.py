import sys

from tools.bench.benchmark import main

sys.exit(main())
