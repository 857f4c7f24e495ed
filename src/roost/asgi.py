"""``uvicorn roost.asgi:app`` — settings from the environment."""

from roost.app import create_app

app = create_app()
