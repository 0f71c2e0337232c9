"""The REST API: ``create_app(ApiSettings.from_env())``; run it with ``tradesweep serve``.

See docs/api.md for every endpoint, the errors and a curl session.
"""

from tradesweep.api.app import create_app
from tradesweep.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
