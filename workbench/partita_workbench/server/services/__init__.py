"""Background services of the server (run inside the app's lifespan)."""
