"""Database operations behind the API routes: one module per resource, no HTTP here."""
