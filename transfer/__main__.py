import sys

try:
    from .cli import main

    status = main()
except KeyboardInterrupt:  # while starting up, before main's own handler
    print("transfer: interrupted", file=sys.stderr)
    status = 130
sys.exit(status)
