import sys

from tools.soak.soak import main

sys.exit(main())
