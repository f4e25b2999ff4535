import sys

from circle_room.tui.cli.main import main

sys.exit(main())
