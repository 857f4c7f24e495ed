"""The web app's pages, one module per area; ``router`` holds them all."""
