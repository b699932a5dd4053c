import sys

from xl_automation.cli.main import main

if __name__ == "__main__":   # worker processes (isolation.py) must not run the CLI again
    sys.exit(main())
