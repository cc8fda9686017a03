"""Business logic, kept out of the views: each function takes the session, the rows it works on and
validated data, and changes rows. None of them commits — the request's transaction does."""
