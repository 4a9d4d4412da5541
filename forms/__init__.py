"""WTForms classes, one module per area, named for what they collect."""
