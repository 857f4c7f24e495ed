"""Compatible products: one folder each, the same four files, mounted from the registry."""
