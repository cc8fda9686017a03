"""What each entity looks like to a caller (`represent`), and how its collections may be queried
(its `Listing`): one module per kind of entity, beside the views that use them, so that no view
imports another."""
