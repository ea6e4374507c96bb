"""The WSGI entry point: gunicorn wsgi:app, flask --app wsgi ..."""

from shopadmin import create_app

app = create_app()
