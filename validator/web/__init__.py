"""The local web app (`python -m validator serve`): server.py, pages.py, session.py, static/."""
