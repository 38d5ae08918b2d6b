"""boxoffice: an event-booking service that never sells a ticket that does not exist."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boxoffice")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
