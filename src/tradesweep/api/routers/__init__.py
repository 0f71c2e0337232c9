"""One router per resource; :func:`tradesweep.api.app.create_app` mounts them all."""
