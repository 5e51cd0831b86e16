import sys

from lynkr.cli import main

sys.exit(main())
