"""What the listeners do: one module per kind of request, called by thin Bolt handlers."""
