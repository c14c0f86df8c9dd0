import sys

from gesticulate.cli import main

sys.exit(main())
