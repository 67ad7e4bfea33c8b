"""shelf: a small lending library (a FastAPI + SQLModel app todoctl's tests run on)."""
